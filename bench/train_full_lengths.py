"""Real-length smoke (``make train-full-lengths``, opt-in): one forward + backward step at the
GLM-4.5 sequence lengths 4,096, 32,768 and 131,072 with a 1-layer MoE model (+ its MTP layer),
printing time and peak memory per step.

    .venv/bin/python bench/train_full_lengths.py [--lengths 4096 32768 131072] [--docs 1]

Each length runs in a fresh subprocess so the CPU peak RSS (``ru_maxrss``, a per-process
high-water mark) belongs to that step alone; on CUDA the peak is ``max_memory_allocated``.
``--docs N`` packs N equal documents per row (document-masked attention) instead of one
full-length document, the worst case for attention cost.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

from corpus.train.model import GLM4MoE, ModelConfig

MODEL = dict(
    vocab_size=16384,
    hidden_size=128,
    intermediate_size=512,
    moe_intermediate_size=128,
    num_hidden_layers=1,
    first_k_dense_replace=0,
    num_attention_heads=4,
    num_key_value_heads=1,
    head_dim=32,
    n_routed_experts=8,
    num_experts_per_tok=2,
    routed_scaling_factor=2.5,
)


def one_step(seq_len: int, docs: int, device: str, theta: float) -> dict:
    torch.manual_seed(0)
    model = GLM4MoE(ModelConfig(**MODEL, rope_theta=theta)).to(device)
    ids = torch.randint(2, MODEL["vocab_size"], (1, seq_len), device=device)
    doc_lens = [[seq_len // docs] * (docs - 1) + [seq_len - (docs - 1) * (seq_len // docs)]]
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    t, cpu = time.perf_counter(), time.process_time()
    out = model(ids, doc_lens=doc_lens)
    out.loss.backward()
    if device == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {
        "seq_len": seq_len,
        "docs": docs,
        "seconds": time.perf_counter() - t,
        "cpu_seconds": time.process_time() - cpu,
        "peak_bytes": peak,
        "loss": out.loss.item(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", type=int, nargs="+", default=[4096, 32768, 131072])
    ap.add_argument("--docs", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--one", action="store_true", help="internal: run a single length in this process")
    args = ap.parse_args()
    if args.one:
        theta = 1e4 if args.lengths[0] <= 4096 else 1e6  # the stage table's RoPE base
        print(json.dumps(one_step(args.lengths[0], args.docs, args.device, theta)))
        return
    print(f"1-layer MoE + MTP {MODEL}, device {args.device}, {args.docs} document(s) per row")
    for n in args.lengths:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            "--lengths",
            str(n),
            "--docs",
            str(args.docs),
            "--device",
            args.device,
        ]
        res = json.loads(
            subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1]
        )
        kind = "peak CUDA allocated" if args.device == "cuda" else "peak RSS"
        print(
            f"seq {n:>7}: {res['seconds']:8.1f} s/step (fwd+bwd; {res['cpu_seconds']:.1f} CPU-s), "
            f"{kind} {res['peak_bytes'] / 2**30:6.2f} GiB, "
            f"loss {res['loss']:.3f}"
        )


if __name__ == "__main__":
    main()
