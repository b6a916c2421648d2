"""The training loop: stages, batch warmup, Muon + AdamW, loss-free balance, checkpoints, DDP.

One optimizer step at ``tokens`` seen:

1. the schedule gives the stage (its ``seq_len``, streams, RoPE theta), the global batch in
   rows, the LR, the MTP weight and the balance-bias rate — all functions of ``tokens``;
2. the stage reader hands this rank its micro-batches (global micro-batch *q* goes to rank
   ``q % world``), each a forward + backward of ``loss / micro_per_rank``; DDP averages over
   ranks, so the gradient is the mean over the global batch's micro-batches whatever the world
   size (``no_sync`` on all but the last micro-batch);
3. grad clip, one Muon + AdamW step, then the step's expert token counts, summed over
   micro-batches and all-reduced over ranks, move the balance bias (``update_balance_bias``);
4. ``tokens += rows x seq_len``; every ``checkpoint.every_steps``, at each stage end and at
   the end, rank 0 writes a checkpoint that holds everything step 1 needs to continue exactly.

Every rank holds the full model and optimiser state (DDP); balance-bias buffers are kept
identical by the all-reduce, so DDP does not broadcast buffers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from corpus.train import checkpoint
from corpus.train.config import TrainConfig
from corpus.train.data import StageReader, check_stages
from corpus.train.model import GLM4MoE, ModelConfig
from corpus.train.optim import Optimizers, build_optimizers
from corpus.train.report import Reporter
from corpus.train.schedule import Schedule


@dataclass
class TrainState:
    """What, besides tensors, a checkpoint must hold to continue exactly."""

    step: int = 0
    tokens: int = 0
    stage: int = 0
    stage_micro: int = 0
    """Data cursor: global micro-batches the current stage has consumed."""
    rope_theta: float = 0.0


@dataclass
class Dist:
    rank: int
    world: int
    device: torch.device

    def all_reduce(self, t: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            dist.all_reduce(t)
        return t


def init_distributed() -> Dist:
    """Join the process group torchrun describes (``WORLD_SIZE`` > 1): NCCL on GPUs, gloo on CPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank() if world > 1 else 0
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return Dist(rank, world, torch.device("cuda", local))
    return Dist(rank, world, torch.device("cpu"))


def build_model_and_optim(cfg: TrainConfig, device: torch.device) -> tuple[GLM4MoE, Optimizers]:
    """The model (initialised from the run seed, so every rank starts identical) and its optimisers."""
    torch.manual_seed(cfg.run.seed)
    model = GLM4MoE(ModelConfig.from_dict(cfg.model)).to(device)
    o = cfg.optim
    opts = build_optimizers(
        model.param_groups_for_optim(),
        lr=0.0,
        weight_decay=o.weight_decay,
        momentum=o.momentum,
        nesterov=o.nesterov,
        ns_steps=o.ns_steps,
        ns_dtype=torch.bfloat16 if o.ns_dtype == "bfloat16" else torch.float32,
        muon_rms=o.muon_rms,
        adam_betas=o.adam_betas,
        adam_eps=o.adam_eps,
        head=o.head,
    )
    return model, opts


def changed_sections(meta: dict[str, Any], cfg: TrainConfig) -> list[str]:
    """Sections of the train config that differ from the checkpoint's (resume is exact only if none)."""
    saved = meta.get("train_config", {})
    now = cfg.model_dump(mode="json")
    return sorted(k for k in now if k not in ("checkpoint", "log", "run") and saved.get(k) != now[k])


def _rng_state() -> dict[str, Any]:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def expert_load(counts: torch.Tensor) -> tuple[float, float]:
    """(mean over MoE layers, worst layer) of ``max(c) / mean(c)``: 1.0 is perfectly balanced."""
    if counts.numel() == 0:  # no MoE layer
        return 1.0, 1.0
    c = counts.double()
    ratio = c.max(dim=-1).values / c.mean(dim=-1).clamp(min=1e-9)
    return float(ratio.mean()), float(ratio.max())


class Trainer:
    def __init__(self, cfg: TrainConfig, output: Path, *, dist_env: Dist, quiet: bool = False) -> None:
        self.cfg, self.output, self.env = cfg, output, dist_env
        self.sched = Schedule(cfg)
        self.model, self.opts = build_model_and_optim(cfg, dist_env.device)
        self._saved_step = -1
        self.state = TrainState(rope_theta=self.sched.rope_theta(0))
        self.ddp: torch.nn.Module = self.model
        self.reader: StageReader | None = None
        self.report = Reporter(output, cfg, enabled=dist_env.rank == 0, quiet=quiet)

    # -- state ---------------------------------------------------------------------------
    def restore(self, path: Path) -> None:
        tensors, meta = checkpoint.load(path)
        changed = changed_sections(meta, self.cfg)
        if changed:
            self.report.warn(
                f"resuming {path} with a changed config ({', '.join(changed)}): not an exact resume"
            )
        self.model.load_state_dict(tensors["model"])
        self.opts.load_state_dict(tensors["optim"])
        _set_rng_state(tensors["rng"])
        self.state = TrainState(**meta["state"])
        self._saved_step = self.state.step
        self.report.resumed(path, self.state.step)

    def save(self) -> Path | None:
        path = None
        if self.env.rank == 0:
            tensors = {"model": self.model.state_dict(), "optim": self.opts.state_dict(), "rng": _rng_state()}
            meta = {
                "state": asdict(self.state),
                "model_config": self.model.cfg.to_dict(),  # its RoPE theta is the current one
                "train_config": self.cfg.model_dump(mode="json"),
                "world_size": self.env.world,
            }
            path = checkpoint.save(
                self.output / "checkpoints", self.state.step, tensors, meta, self.cfg.checkpoint.keep_last
            )
            self.report.saved(path)
        self._saved_step = self.state.step
        if self.env.world > 1:
            dist.barrier()
        return path

    # -- steps ---------------------------------------------------------------------------
    def _enter_stage(self, index: int) -> None:
        if index != self.state.stage:
            self.state.stage, self.state.stage_micro = index, 0
        stage = self.cfg.stages[index]
        self.state.rope_theta = stage.rope_theta
        self.model.set_rope_theta(stage.rope_theta)
        self.reader = StageReader(
            stage.streams,
            stage=stage.name,
            seq_len=stage.seq_len,
            vocab_size=self.model.cfg.vocab_size,
            seed=self.cfg.run.seed,
            lanes=self.cfg.data.lanes,
            shuffle_rows=max(1, self.cfg.data.shuffle_tokens // stage.seq_len),
            micro_rows=self.sched.micro_rows(self.state.tokens),
            rank=self.env.rank,
            world=self.env.world,
            micro_index=self.state.stage_micro,
        )
        self.report.stage(stage, self.state.tokens, self.reader.rows_available)

    def _autocast(self):
        if self.cfg.run.precision == "bf16":
            return torch.autocast(self.env.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        tokens = self.state.tokens
        index = self.sched.stage_index(tokens)
        if self.reader is None or index != self.state.stage:
            if self.reader is not None and self._saved_step != self.state.step:
                self.save()  # the end of a stage is a natural restart point
            self._enter_stage(index)
        stage = self.cfg.stages[index]
        rows = self.sched.batch_rows(tokens)
        lr, mtp_w, rate = self.sched.lr(tokens), self.sched.mtp_weight(tokens), self.sched.bias_rate(tokens)
        micro = self.reader.next_step(rows // self.reader.micro_rows)

        dev = self.env.device
        sums = torch.zeros(4, dtype=torch.float64, device=dev)  # loss, lm, mtp, aux
        counts = None
        n_tokens = torch.zeros((), dtype=torch.int64, device=dev)
        for j, mb in enumerate(micro):
            sync = self.env.world == 1 or j == len(micro) - 1
            with contextlib.nullcontext() if sync else self.ddp.no_sync(), self._autocast():
                out = self.ddp(
                    mb.input_ids.to(dev),
                    doc_lens=mb.doc_lens,
                    pad_lens=mb.pad_lens,
                    mtp_weight=mtp_w,
                    aux_weight=self.cfg.balance.aux_weight,
                )
                (out.loss / len(micro)).backward()
            mtp_loss = out.mtp_loss if out.mtp_loss is not None else torch.zeros((), device=dev)
            sums += torch.stack([out.loss, out.lm_loss, mtp_loss, out.aux_loss]).detach().double()
            c = out.expert_counts.detach()
            counts = c.clone() if counts is None else counts + c
            n_tokens += int(out.n_tokens)
        grad_norm = None
        if self.cfg.optim.grad_clip is not None:
            grad_norm = float(
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.optim.grad_clip)
            )
        self.opts.set_lr(lr)
        self.opts.step()
        self.opts.zero_grad()

        self.env.all_reduce(sums)
        self.env.all_reduce(counts)
        self.env.all_reduce(n_tokens)
        self.model.update_balance_bias(counts, rate)

        self.state.tokens += rows * stage.seq_len
        self.state.step += 1
        self.state.stage_micro = self.reader.micro_index
        loss, lm, mtp, aux = (sums / (len(micro) * self.env.world)).tolist()
        load_mean, load_worst = expert_load(counts)
        dt = time.perf_counter() - t0
        return {
            "step": self.state.step,
            "stage": stage.name,
            "tokens": self.state.tokens,
            "loss": loss,
            "lm_loss": lm,
            "mtp_loss": mtp,
            "aux_loss": aux,
            "lr": lr,
            "mtp_weight": mtp_w,
            "bias_rate": rate,
            "rope_theta": self.state.rope_theta,
            "seq_len": stage.seq_len,
            "data_epoch": self.reader.epoch,
            "batch_rows": rows,
            "target_tokens": int(n_tokens),
            "grad_norm": grad_norm,
            "expert_load": load_mean,
            "expert_load_worst": load_worst,
            "step_s": dt,
            "tokens_per_s": rows * stage.seq_len / dt,
        }

    def fit(self, max_steps: int | None = None) -> dict[str, Any]:
        """Train to the end of the stage table (or ``max_steps`` optimizer steps), then checkpoint."""
        if self.env.world > 1:
            dev = self.env.device
            self.ddp = DDP(
                self.model, device_ids=[dev.index] if dev.type == "cuda" else None, broadcast_buffers=False
            )
        total = self.sched.total
        self.report.start(self.env.world, total)
        ckpt_every = self.cfg.checkpoint.every_steps
        while self.state.tokens < total and (max_steps is None or self.state.step < max_steps):
            record = self.step()
            self.report.step(record)
            if self.state.step % ckpt_every == 0:
                self.save()
        if self._saved_step != self.state.step:
            self.save()
        return self.report.finish(self.state.tokens >= total)


def train(
    cfg: TrainConfig,
    output: Path | None = None,
    *,
    resume: bool = True,
    max_steps: int | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run (or continue) the config's training; returns the summary (rank 0's view)."""
    output = Path(output or cfg.run.output)
    threads = torch.get_num_threads()
    if cfg.run.threads:
        torch.set_num_threads(cfg.run.threads)
    owns_group = not dist.is_initialized()
    env = init_distributed()
    try:
        check_stages(cfg.stages, vocab_size=ModelConfig.from_dict(cfg.model).vocab_size, lanes=cfg.data.lanes)
        trainer = Trainer(cfg, output, dist_env=env, quiet=quiet)
        found = checkpoint.latest(output / "checkpoints") if resume else None
        if found is not None:
            trainer.restore(found)
        elif env.rank == 0:  # a fresh run replaces the folder's old checkpoints and metrics
            shutil.rmtree(output / "checkpoints", ignore_errors=True)
            trainer.report.reset()
        if env.world > 1:
            dist.barrier()
        return trainer.fit(max_steps)
    finally:
        torch.set_num_threads(threads)
        if owns_group and dist.is_initialized():
            dist.destroy_process_group()
