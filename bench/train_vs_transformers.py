"""Training throughput (forward + backward tokens/s) of our GLM-4.5 MoE vs transformers'
Glm4MoeForCausalLM: same config, same weights, same batch, CPU fp32.

    .venv/bin/python bench/train_vs_transformers.py [--steps 5] [--warmup 2]

The peer is transformers with its default experts implementation (``grouped_mm`` since 5.x);
its per-expert ``eager`` loop (the 4.x behaviour) is timed too. Steps of all models are
interleaved and the median is reported, so load from other processes on a shared machine hits
them alike. Ours runs without its MTP layer here (transformers has none) but with its balance
loss; a last line times ours with MTP for reference.
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


def step_time(step) -> float:
    t = time.perf_counter()
    step()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    from transformers import Glm4MoeForCausalLM

    torch.manual_seed(0)
    cfg = ModelConfig(**CONFIG, num_nextn_predict_layers=0)
    ours = GLM4MoE(cfg).train()
    hf_state = to_transformers_state_dict(ours.state_dict(), cfg)
    peers = {}
    for impl in ("default", "eager"):
        peer = Glm4MoeForCausalLM(hf_config(cfg)).train()
        if impl == "eager":
            peer.set_experts_implementation("eager")
        peer.load_state_dict(hf_state, strict=True)
        peers[impl] = peer
    default_impl = peers["default"].config._experts_implementation
    with_mtp = GLM4MoE(ModelConfig(**CONFIG)).train()
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq))

    def run_ours(model: GLM4MoE) -> None:
        model(ids).loss.backward()
        model.zero_grad(set_to_none=True)

    def run_peer(model) -> None:
        model(input_ids=ids, labels=ids).loss.backward()
        model.zero_grad(set_to_none=True)

    runs = {
        "ours": lambda: run_ours(ours),
        "transformers": lambda: run_peer(peers["default"]),
        "transformers-eager": lambda: run_peer(peers["eager"]),
        "ours+mtp": lambda: run_ours(with_mtp),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(args.warmup + args.steps):
        for name, fn in runs.items():
            dt = step_time(fn)
            if i >= args.warmup:
                times[name].append(dt)
    tokens = args.batch * args.seq
    rate = {name: tokens / statistics.median(ts) for name, ts in times.items()}
    print(
        f"config: {CONFIG} batch {args.batch}x{args.seq}, fp32, {torch.get_num_threads()} threads, "
        f"{args.steps} timed steps after {args.warmup} warm-up"
    )
    print(f"ours (grouped experts, no MTP):       {rate['ours']:8.0f} tokens/s (fwd+bwd)")
    print(f"transformers ({default_impl} experts):     {rate['transformers']:8.0f} tokens/s")
    print(f"ratio ours/transformers:              {rate['ours'] / rate['transformers']:8.2f}x")
    print(f"transformers (eager experts loop):    {rate['transformers-eager']:8.0f} tokens/s")
    print(f"ratio ours/transformers-eager:        {rate['ours'] / rate['transformers-eager']:8.2f}x")
    print(f"ours with the MTP layer:              {rate['ours+mtp']:8.0f} tokens/s (reference)")


if __name__ == "__main__":
    main()
