"""Training throughput (forward + backward) of our GLM-4.5 MoE vs transformers'
Glm4MoeForCausalLM: same config, same weights, same batch, CPU fp32.

    .venv/bin/python bench/train_vs_transformers.py [--docs 1 4] [--steps 5] [--warmup 2]

Two batch shapes: one document per row, and rows packed with ``--docs`` equal documents (what
the trainer sees in mid-training). For packed rows transformers gets the same semantics through
its packed-sequence support: position ids that restart per document (with ``use_cache=False`` it
then builds a block-diagonal causal mask) and labels masked at document starts; ours gets ``doc_lens``. The
LM losses of both are printed as a check that the two compute the same thing.

The peer is transformers with its default experts implementation (``grouped_mm`` since 5.x);
its per-expert ``eager`` loop (the 4.x behaviour) is timed too. Ours runs without its MTP layer
(transformers has none) but with its balance loss; ours with MTP is timed for reference. Steps
of all models are interleaved and medians reported, so load from other processes hits them
alike; tokens per CPU-second (process time) is steadier than wall time on a shared machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from corpus.train.hf_export import to_transformers_state_dict
from corpus.train.model import GLM4MoE, ModelConfig, hf_config

CONFIG = dict(
    vocab_size=8192,
    hidden_size=256,
    intermediate_size=1024,
    moe_intermediate_size=256,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=64,
    n_routed_experts=8,
    num_experts_per_tok=2,
    n_shared_experts=1,
    first_k_dense_replace=1,
    routed_scaling_factor=2.5,
)


def step_time(step) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - wall, time.process_time() - cpu


def packed_inputs(ids: torch.Tensor, docs: int) -> tuple[list[list[int]], torch.Tensor, torch.Tensor]:
    """doc_lens for us; restarting position ids and boundary-masked labels for transformers."""
    batch, seq = ids.shape
    lens = [seq // docs] * (docs - 1) + [seq - (docs - 1) * (seq // docs)]
    positions = torch.cat([torch.arange(n) for n in lens]).repeat(batch, 1)
    labels = ids.clone()
    labels[positions == 0] = -100  # no prediction into a document's first token
    labels[:, 0] = ids[:, 0]  # (position 0 is never a target anyway)
    return [lens] * batch, positions, labels


def bench(args, docs: int, models: dict, cfg: ModelConfig) -> None:
    ids = torch.randint(
        0, cfg.vocab_size, (args.batch, args.seq), generator=torch.Generator().manual_seed(docs)
    )
    doc_lens, positions, labels = packed_inputs(ids, docs)
    losses: dict[str, float] = {}

    def run_ours(name: str) -> None:
        out = models[name](ids, doc_lens=doc_lens)
        out.loss.backward()
        losses[name] = out.lm_loss.item()
        models[name].zero_grad(set_to_none=True)

    def run_peer(name: str) -> None:
        extra = {} if docs == 1 else {"position_ids": positions}
        out = models[name](input_ids=ids, labels=labels, use_cache=False, **extra)
        out.loss.backward()
        losses[name] = out.loss.item()
        models[name].zero_grad(set_to_none=True)

    runs = {name: (run_ours if name.startswith("ours") else run_peer) for name in models}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for i in range(args.warmup + args.steps):
        for name, fn in runs.items():
            dt = step_time(lambda name=name, fn=fn: fn(name))
            if i >= args.warmup:
                times[name].append(dt)
    tokens = args.batch * args.seq
    wall = {name: tokens / statistics.median(t[0] for t in ts) for name, ts in times.items()}
    cpu = {name: tokens / statistics.median(t[1] for t in ts) for name, ts in times.items()}
    print(f"\n{args.batch} rows x {args.seq} tokens, {docs} document(s) per row")
    print(f"{'':36s} {'tokens/s':>9s} {'tokens/CPU-s':>13s} {'LM loss':>8s}")
    for name in models:
        print(f"{name:36s} {wall[name]:9.0f} {cpu[name]:13.0f} {losses[name]:8.4f}")
    for peer in (n for n in models if n.startswith("transformers")):
        print(f"ratio ours / {peer:23s} {wall['ours'] / wall[peer]:9.2f}x {cpu['ours'] / cpu[peer]:12.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--docs", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    from transformers import Glm4MoeForCausalLM

    torch.manual_seed(0)
    cfg = ModelConfig(**CONFIG, num_nextn_predict_layers=0)
    ours = GLM4MoE(cfg).train()
    hf_state = to_transformers_state_dict(ours.state_dict(), cfg)
    models = {"ours": ours}
    for impl in ("default", "eager"):
        peer = Glm4MoeForCausalLM(hf_config(cfg)).train()
        if impl == "eager":
            peer.set_experts_implementation("eager")
        peer.load_state_dict(hf_state, strict=True)
        models[f"transformers ({peer.config._experts_implementation} experts)"] = peer
    models["ours + MTP layer (reference)"] = GLM4MoE(ModelConfig(**CONFIG)).train()
    print(
        f"config: {CONFIG}\nfp32, {torch.get_num_threads()} threads, {args.steps} timed steps after "
        f"{args.warmup} warm-up; ours without MTP unless stated"
    )
    for docs in args.docs:
        bench(args, docs, models, cfg)


if __name__ == "__main__":
    main()
