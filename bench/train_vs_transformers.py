"""Training throughput (forward + backward) of our GLM-4.5 MoE vs transformers'
Glm4MoeForCausalLM: same config, same weights, same batch, CPU fp32.

    .venv/bin/python bench/train_vs_transformers.py [--model glm45-debug] [--docs 1 4] [--steps 5]
    .venv/bin/python bench/train_vs_transformers.py --compile    # + torch.compile'd decoder blocks

``--model``: ``glm45-debug`` (default: GLM-4.5's shape at CPU size — 20 heads at hidden 256,
16 experts top-4 + shared, routed scaling 2.5; ``corpus/train/shapes.py``), ``glm45-air-debug``,
or ``small`` (the earlier 4-head, 8-expert config).

Two batch shapes: one document per row, and rows packed with ``--docs`` equal documents (what
the trainer sees in mid-training). For packed rows transformers gets the same semantics through
its packed-sequence support: position ids that restart per document (with ``use_cache=False`` it
then builds a block-diagonal causal mask) and labels masked at document starts; ours gets ``doc_lens``. The
LM losses of both are printed as a check that the two compute the same thing.

The peer is transformers with its default experts implementation (``grouped_mm`` since 5.x);
its per-expert ``eager`` loop (the 4.x behaviour) is timed too. ``--compile`` adds both sides
with every decoder layer ``torch.compile``d (transformers with eager experts: ``grouped_mm``
under compile demands bf16 in torch 2.13, on our side too, which then loops over experts);
compilation is done in the warm-up steps and its time printed. Ours runs without its MTP layer
(transformers has none) but with its balance loss. Steps of all models are interleaved and
medians reported, so load from other processes hits them alike; tokens per CPU-second
(process time) is steadier than wall time on a shared machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from corpus.train.hf_export import to_transformers_state_dict
from corpus.train.model import GLM4MoE, ModelConfig, hf_config
from corpus.train.shapes import preset

SMALL = dict(
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


def model_config(name: str, mtp: bool) -> ModelConfig:
    extra = {} if mtp else {"num_nextn_predict_layers": 0}
    if name == "small":
        return ModelConfig(**SMALL, **extra)
    return preset(name, **extra)


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
    first: dict[str, float] = {}
    for i in range(args.warmup + args.steps):
        for name, fn in runs.items():
            dt = step_time(lambda name=name, fn=fn: fn(name))
            first.setdefault(name, dt[0])
            if i >= args.warmup:
                times[name].append(dt)
    tokens = args.batch * args.seq
    wall = {name: tokens / statistics.median(t[0] for t in ts) for name, ts in times.items()}
    cpu = {name: tokens / statistics.median(t[1] for t in ts) for name, ts in times.items()}
    print(f"\n{args.batch} rows x {args.seq} tokens, {docs} document(s) per row")
    print(f"{'':48s} {'tokens/s':>9s} {'tokens/CPU-s':>13s} {'LM loss':>8s}")
    for name in models:
        compile_s = f"   (first step {first[name]:.0f} s: compilation)" if "compiled" in name else ""
        print(f"{name:48s} {wall[name]:9.0f} {cpu[name]:13.0f} {losses[name]:8.4f}{compile_s}")
    for peer in (n for n in models if n.startswith("transformers")):
        mine = "ours, compiled blocks" if "compiled" in peer else "ours"
        print(f"ratio {mine} / {peer:36s} {wall[mine] / wall[peer]:6.2f}x {cpu[mine] / cpu[peer]:12.2f}x")
    if "ours, compiled blocks" in wall:
        print(f"ratio ours compiled / ours eager {wall['ours, compiled blocks'] / wall['ours']:21.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="glm45-debug", choices=["glm45-debug", "glm45-air-debug", "small"])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--docs", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile'd decoder blocks")
    args = ap.parse_args()
    from transformers import Glm4MoeForCausalLM

    torch.manual_seed(0)
    cfg = model_config(args.model, mtp=False)
    ours = GLM4MoE(cfg).train()
    hf_state = to_transformers_state_dict(ours.state_dict(), cfg)
    models = {"ours": ours}
    for impl in ("default", "eager"):
        peer = Glm4MoeForCausalLM(hf_config(cfg)).train()
        if impl == "eager":
            peer.set_experts_implementation("eager")
        peer.load_state_dict(hf_state, strict=True)
        models[f"transformers ({peer.config._experts_implementation} experts)"] = peer
    if args.compile:
        compiled = GLM4MoE(cfg).train()
        compiled.load_state_dict(ours.state_dict())
        for layer in compiled.layers:
            layer.compile()
        models["ours, compiled blocks"] = compiled
        peer = Glm4MoeForCausalLM(hf_config(cfg)).train()
        peer.set_experts_implementation("eager")
        peer.load_state_dict(hf_state, strict=True)
        for layer in peer.model.layers:
            layer.compile()
        models["transformers (eager experts), compiled blocks"] = peer
    models["ours + MTP layer (reference)"] = GLM4MoE(model_config(args.model, mtp=True)).train()
    print(
        f"model {args.model}: {cfg}\nfp32, {torch.get_num_threads()} threads, {args.steps} timed steps after "
        f"{args.warmup} warm-up; ours without MTP unless stated"
    )
    for docs in args.docs:
        bench(args, docs, models, cfg)


if __name__ == "__main__":
    main()
