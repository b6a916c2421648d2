"""The training loop: stages, batch warmup, Muon + AdamW, loss-free balance, evaluation,
checkpoints, FSDP2.

One optimizer step at ``tokens`` seen:

1. the schedule gives the stage (its ``seq_len``, streams, RoPE theta), the global batch in
   rows, the LR, the MTP weight and the balance-bias rate — all functions of ``tokens``;
2. the stage reader hands this rank its micro-batches (global micro-batch *q* goes to rank
   ``q % world``), each a forward + backward of ``loss / micro_per_rank``; FSDP2 averages the
   gradients over ranks (reduce-scatter), so the gradient is the mean over the global batch's
   micro-batches whatever the world size;
3. grad clip, one Muon + AdamW step, then the step's expert token counts, summed over
   micro-batches and all-reduced over ranks, move the balance bias (``update_balance_bias``);
4. ``tokens += rows x seq_len``; every ``eval.every_steps`` and at each stage end the held-out
   documents of the stage are evaluated (loss, bits per byte); every ``checkpoint.every_steps``,
   at each stage end and at the end a checkpoint holds everything the next step needs.

**Parallelism** (world > 1). The model is built on the meta device, each decoder block, the
MTP layer and the root are ``fully_shard``-ed over one data-parallel mesh, and only then
allocated and initialised (``shapes.materialize``): a rank only ever holds its shards. Every
parameter is sharded on dim 0; for the stacked experts ``[E, out, in]`` that is the expert
dimension, so **experts are sharded across ranks as whole experts (FSDP over experts)**: a rank
stores and updates ``E / world`` of them and all-gathers the others block by block for compute,
as for dense weights. We chose it over expert parallelism (all-to-all token dispatch) because it
needs no routing-dependent communication, keeps every rank's forward identical to the 1-process
one (the 1e-5 equality test), and Muon orthogonalises each rank's experts locally; expert
parallelism is the better trade once experts outgrow a block's all-gather. Balance-bias
buffers are not sharded; the all-reduced counts keep them identical on every rank.

**Checkpoints** are world-size free: all ranks gather full tensors (model, both optimisers'
states by parameter index), rank 0 writes them; a restart in any world size loads them and
keeps its own shards (``distribute_tensor``, no communication). Simple and exact; at 355B scale a
sharded ``torch.distributed.checkpoint`` would replace the gather.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from corpus.train import checkpoint
from corpus.train.config import TrainConfig, config_warnings
from corpus.train.data import Block, MicroBatch, StageReader, check_stages, stream_tokenizer, validation_block
from corpus.train.flops import device_peak_tflops, train_flops
from corpus.train.model import GLM4MoE
from corpus.train.optim import Optimizers, build_optimizers
from corpus.train.report import Reporter
from corpus.train.schedule import Schedule
from corpus.train.shapes import build_meta, materialize, model_config


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


def build_model(cfg: TrainConfig, env: Dist) -> GLM4MoE:
    """Meta build -> (compile) -> (fully_shard over all ranks) -> allocate + init this rank's part."""
    model = build_meta(model_config(cfg.model))
    model.activation_checkpointing = cfg.run.activation_checkpointing
    blocks = [*model.layers, *([model.mtp] if model.mtp is not None else [])]
    if cfg.run.compile:
        for block in blocks:
            block.compile()
    if env.world > 1:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh(env.device.type, (env.world,))
        for block in blocks:
            fully_shard(block, mesh=mesh)
        fully_shard(model, mesh=mesh)
    return materialize(model, env.device, cfg.run.seed)


def build_optim(cfg: TrainConfig, model: GLM4MoE) -> Optimizers:
    o = cfg.optim
    return build_optimizers(
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


def changed_sections(meta: dict[str, Any], cfg: TrainConfig) -> list[str]:
    """Sections of the train config that differ from the checkpoint's (resume is exact only if none)."""
    saved = meta.get("train_config", {})
    now = cfg.model_dump(mode="json")
    skip = ("checkpoint", "log", "run", "eval")
    return sorted(k for k in now if k not in skip and k in saved and saved.get(k) != now[k])


def _rng_state() -> dict[str, Any]:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _full(t: Any) -> Any:
    """A full CPU tensor from a (possibly sharded) one — a collective for DTensors."""
    from torch.distributed.tensor import DTensor

    if isinstance(t, DTensor):
        t = t.full_tensor()
    return t.detach().cpu() if torch.is_tensor(t) else t


def _shard_like(full: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``full`` cut to ``like``'s placement (this rank's rows; no communication)."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    if isinstance(like, DTensor):
        return distribute_tensor(
            full.to(like.device_mesh.device_type), like.device_mesh, like.placements, src_data_rank=None
        )
    return full.to(like.device)


def _optim_params(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for g in opt.param_groups for p in g["params"]]


def full_optim_state(opt: torch.optim.Optimizer) -> dict[str, Any]:
    sd = opt.state_dict()
    sd["state"] = {i: {k: _full(v) for k, v in st.items()} for i, st in sd["state"].items()}
    return sd


def load_optim_state(opt: torch.optim.Optimizer, sd: dict[str, Any]) -> None:
    params = _optim_params(opt)
    state = {}
    for i, st in sd["state"].items():
        p = params[int(i)]
        state[i] = {
            k: _shard_like(v, p) if torch.is_tensor(v) and v.shape == p.shape else v for k, v in st.items()
        }
    opt.load_state_dict({**sd, "state": state})


def expert_load(counts: torch.Tensor) -> tuple[float, float]:
    """(mean over MoE layers, worst layer) of ``max(c) / mean(c)``: 1.0 is perfectly balanced."""
    if counts.numel() == 0:  # no MoE layer
        return 1.0, 1.0
    c = counts.double()
    ratio = c.max(dim=-1).values / c.mean(dim=-1).clamp(min=1e-9)
    return float(ratio.mean()), float(ratio.max())


def token_bytes(tokenizer_path: Path, vocab_size: int) -> np.ndarray:
    """UTF-8 bytes each id stands for (0 for special tokens and ids the tokenizer lacks): the
    denominator of bits per byte. Byte-level BPE tokens map 1 char -> 1 byte."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    special = set(tok.get_added_tokens_decoder())
    byte_level = type(tok.decoder).__name__ == "ByteLevel"
    out = np.zeros(vocab_size, np.int64)
    for i in range(min(vocab_size, tok.get_vocab_size())):
        piece = tok.id_to_token(i)
        if piece is None or i in special:
            continue
        out[i] = len(piece) if byte_level else len(tok.decode([i]).encode("utf-8"))
    return out


def target_bytes(block: Block, table: np.ndarray) -> int:
    """Bytes of every labelled target (each document's tokens after its first)."""
    total = 0
    for ids, lens, pad in zip(block.ids, block.doc_lens, block.pad_lens, strict=True):
        at = 0
        for n in lens[:-1] if pad else lens:
            total += int(table[ids[at + 1 : at + n]].sum())
            at += n
    return total


class Trainer:
    def __init__(self, cfg: TrainConfig, output: Path, *, dist_env: Dist, quiet: bool = False) -> None:
        self.cfg, self.output, self.env = cfg, output, dist_env
        self.sched = Schedule(cfg)
        torch.manual_seed(cfg.run.seed)
        self.model = build_model(cfg, dist_env)
        self.opts = build_optim(cfg, self.model)
        self._saved_step = -1
        self.state = TrainState(rope_theta=self.sched.rope_theta(0))
        self.reader: StageReader | None = None
        self.report = Reporter(output, cfg, enabled=dist_env.rank == 0, quiet=quiet)
        peak = cfg.run.peak_tflops
        if peak is None and dist_env.device.type == "cuda":
            peak = device_peak_tflops(torch.cuda.get_device_name(dist_env.device))
        self.peak_tflops = peak
        self._val: dict[str, Block] = {}
        self._token_bytes: np.ndarray | None = None
        if cfg.eval.holdout:
            path = stream_tokenizer([f for s in cfg.stages for f in s.streams])
            if path is not None:
                self._token_bytes = token_bytes(path, self.model.cfg.vocab_size)

    # -- state ---------------------------------------------------------------------------
    def restore(self, path: Path) -> None:
        tensors, meta = checkpoint.load(path)
        changed = changed_sections(meta, self.cfg)
        if changed:
            self.report.warn(
                f"resuming {path} with a changed config ({', '.join(changed)}): not an exact resume"
            )
        target = self.model.state_dict()
        self.model.load_state_dict({k: _shard_like(v, target[k]) for k, v in tensors["model"].items()})
        load_optim_state(self.opts.muon, tensors["optim"]["muon"])
        load_optim_state(self.opts.adamw, tensors["optim"]["adamw"])
        _set_rng_state(tensors["rng"])
        self.state = TrainState(**meta["state"])
        self.model.set_rope_theta(self.state.rope_theta)
        self._saved_step = self.state.step
        self.report.resumed(path, self.state.step, meta.get("world_size", 1))

    def save(self) -> Path | None:
        # Every rank takes part in the gathers; rank 0 writes.
        tensors = {
            "model": {k: _full(v) for k, v in self.model.state_dict().items()},
            "optim": {"muon": full_optim_state(self.opts.muon), "adamw": full_optim_state(self.opts.adamw)},
            "rng": _rng_state(),
        }
        path = None
        if self.env.rank == 0:
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
            holdout=self.cfg.eval.holdout,
            pad_id=self.model.cfg.pad_token_id,
        )
        self.report.stage(stage, self.state.tokens, self.reader.rows_available)

    def _autocast(self):
        if self.cfg.run.precision == "bf16":
            return torch.autocast(self.env.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @torch.no_grad()
    def evaluate(self, index: int) -> dict[str, Any]:
        """Mean next-token loss (nats) and bits per byte on the stage's held-out documents. Every
        rank computes the same small set (FSDP needs every rank in every forward)."""
        stage = self.cfg.stages[index]
        if stage.name not in self._val:
            self._val[stage.name] = validation_block(
                stage.streams,
                seq_len=stage.seq_len,
                vocab_size=self.model.cfg.vocab_size,
                holdout=self.cfg.eval.holdout,
                rows=self.cfg.eval.rows,
                pad_id=self.model.cfg.pad_token_id,
            )
            if not len(self._val[stage.name]):
                self.report.warn(f"stage {stage.name}: no held-out document in its streams; no evaluation")
        block = self._val[stage.name]
        if not len(block):
            return {}
        rows = self.reader.micro_rows if self.reader is not None else 1
        nats, n = 0.0, 0
        self.model.eval()
        try:
            for start in range(0, len(block), rows):
                mb = MicroBatch.of(block.slice(start, start + rows))
                with self._autocast():
                    out = self.model(
                        mb.input_ids.to(self.env.device), doc_lens=mb.doc_lens, pad_lens=mb.pad_lens
                    )
                nats += float(out.lm_loss) * out.n_tokens
                n += out.n_tokens
        finally:
            self.model.train()
        record = {"val_loss": nats / max(n, 1), "val_tokens": n, "val_bpb": None}
        if self._token_bytes is not None:
            n_bytes = target_bytes(block, self._token_bytes)
            record["val_bpb"] = nats / np.log(2) / n_bytes if n_bytes else None
        return record

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
        lr, mtp_w = self.sched.step_lr(tokens), self.sched.mtp_weight(tokens)
        rate = self.sched.bias_rate(tokens)
        micro = self.reader.next_step(rows // self.reader.micro_rows)

        dev = self.env.device
        sums = torch.zeros(4, dtype=torch.float64, device=dev)  # loss, lm, mtp, aux
        counts = None
        n_tokens = torch.zeros((), dtype=torch.int64, device=dev)
        flops = 0
        for mb in micro:
            with self._autocast():
                out = self.model(
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
            flops += train_flops(self.model.cfg, mb.doc_lens, mb.pad_lens)
        grad_norm = None
        if self.cfg.optim.grad_clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.optim.grad_clip)
            grad_norm = float(_full(norm))
        self.opts.set_lr(lr)
        self.opts.step()
        self.opts.zero_grad()

        flops_t = torch.tensor([flops], dtype=torch.float64, device=dev)
        for t in (sums, counts, n_tokens, flops_t):
            self.env.all_reduce(t)
        self.model.update_balance_bias(counts, rate)

        self.state.tokens += rows * stage.seq_len
        self.state.step += 1
        self.state.stage_micro = self.reader.micro_index
        loss, lm, mtp, aux = (sums / (len(micro) * self.env.world)).tolist()
        load_mean, load_worst = expert_load(counts)
        dt = time.perf_counter() - t0
        step_flops = float(flops_t.item())
        record = {
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
            "model_flops": step_flops,
            "mfu": step_flops / dt / (self.env.world * self.peak_tflops * 1e12) if self.peak_tflops else None,
        }
        stage_ends = (
            self.sched.stage_index(self.state.tokens) != index or self.state.tokens >= self.sched.total
        )
        if self.cfg.eval.holdout and (self.state.step % self.cfg.eval.every_steps == 0 or stage_ends):
            record.update(self.evaluate(index))
        return record

    def fit(self, max_steps: int | None = None) -> dict[str, Any]:
        """Train to the end of the stage table (or ``max_steps`` optimizer steps), then checkpoint."""
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


def _quiet_distributed_warnings() -> None:
    """Warnings of torch.distributed a user of this trainer cannot act on (they name internals)."""
    for pattern in (
        r".*TypedStorage is deprecated.*",
        r".*barrier\(\): using the device under current context.*",
        r".*No device id is provided via `init_process_group` or `barrier`.*",
        r".*Please use DTensor instead.*",
    ):
        warnings.filterwarnings("ignore", message=pattern)


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
    _quiet_distributed_warnings()
    owns_group = not dist.is_initialized()
    env = init_distributed()
    try:
        check_stages(cfg.stages, vocab_size=model_config(cfg.model).vocab_size, lanes=cfg.data.lanes)
        trainer = Trainer(cfg, output, dist_env=env, quiet=quiet)
        for msg in config_warnings(cfg):
            trainer.report.warn(msg)
        found = checkpoint.latest(output / "checkpoints") if resume else None
        if found is not None:
            trainer.restore(found)
        elif env.rank == 0:  # a fresh run replaces the folder's old checkpoints and metrics
            shutil.rmtree(output / "checkpoints", ignore_errors=True)
            trainer.report.reset()
        if env.world > 1:
            dist.barrier()
        summary = trainer.fit(max_steps)
        if owns_group and env.world > 1:
            # Every rank reaches teardown together: a rank that destroys its gloo group while a
            # peer still has a collective in flight can abort the peer at exit ("terminate
            # called without an active exception"; mosaicml/streaming#186 does the same).
            dist.barrier()
        return summary
    finally:
        torch.set_num_threads(threads)
        if owns_group and dist.is_initialized():
            dist.destroy_process_group()
