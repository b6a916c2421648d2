"""Peak memory of building GLM-4.5-Air: on the meta device, then materialising one rank's FSDP2
shard of 8, vs building the model whole. Each measurement runs in its own process (peak RSS =
``ru_maxrss``), next to a process that only imports torch and corpus (the floor).

    .venv/bin/python bench/train_meta_memory.py [--layers 1] [--world 8] [--dtype bf16]

The meta build is the real shape (46 layers + MTP, 106.9B parameters). Materialising the real
shape even once is beyond this machine (427 GB in fp32), so the shard-vs-whole comparison uses
GLM-4.5-Air cut to ``--layers`` decoder layers (default: its dense first layer; full width, full
vocabulary, no MTP): the per-rank figure of the full model follows from the printed bytes per
parameter. One rank of ``--world`` is simulated with torch's fake process group (collectives
are no-ops; sharding and allocation are the real FSDP2 code paths).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import torch
from corpus.train.shapes import PRESETS, build_meta, materialize, param_counts, preset
mode, layers, world, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(1)
t = time.perf_counter()
out = {}
if mode == "meta":
    model = build_meta(PRESETS["glm45-air"])
    c = param_counts(model)
    out = {"params": c.total + c.mtp_total, "total": c.total, "active": c.active}
elif mode in ("shard", "whole"):
    cfg = preset("glm45-air", num_hidden_layers=layers, first_k_dense_replace=min(layers, 1),
                 num_nextn_predict_layers=0)
    model = build_meta(cfg).to(getattr(torch, {"bf16": "bfloat16", "fp32": "float32"}[dtype]))
    if mode == "shard":
        import torch.distributed as dist
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard
        from torch.testing._internal.distributed.fake_pg import FakeStore
        dist.init_process_group("fake", store=FakeStore(), rank=0, world_size=world)
        mesh = init_device_mesh("cpu", (world,))
        for layer in model.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
    materialize(model, torch.device("cpu"), seed=0)
    local = sum((p.to_local() if hasattr(p, "to_local") else p).numel() for p in model.parameters())
    out = {"params": sum(p.numel() for p in model.parameters()), "local_params": local,
           "local_bytes": sum((p.to_local() if hasattr(p, "to_local") else p).untyped_storage().nbytes()
                              for p in model.parameters())}
out["seconds"] = time.perf_counter() - t
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run(mode: str, args) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(args.layers), str(args.world), args.dtype],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--world", type=int, default=8)
    ap.add_argument("--dtype", choices=["bf16", "fp32"], default="bf16")
    args = ap.parse_args()
    floor = run("import", args)
    meta = run("meta", args)
    shard = run("shard", args)
    whole = run("whole", args)
    base = floor["peak_rss_mb"]
    print(f"imports alone (torch + corpus): peak RSS {base:,.0f} MB")
    print(
        f"GLM-4.5-Air on meta, real shape ({meta['params'] / 1e9:.1f}B parameters incl. MTP; "
        f"{meta['total'] / 1e9:.1f}B total / {meta['active'] / 1e9:.1f}B active): "
        f"peak RSS {meta['peak_rss_mb']:,.0f} MB (+{meta['peak_rss_mb'] - base:,.0f} MB) in {meta['seconds']:.1f}s"
    )
    cut = f"Air cut to {args.layers} layer(s), {shard['params'] / 1e9:.2f}B parameters, {args.dtype}"
    print(f"\n{cut}:")
    print(
        f"  ours: meta -> fully_shard (rank 0 of {args.world}) -> materialise: peak RSS "
        f"{shard['peak_rss_mb']:,.0f} MB (+{shard['peak_rss_mb'] - base:,.0f} MB), holds "
        f"{shard['local_bytes'] / 2**20:,.0f} MB of parameters, {shard['seconds']:.1f}s"
    )
    print(
        f"  peer: the same model built whole:                     peak RSS "
        f"{whole['peak_rss_mb']:,.0f} MB (+{whole['peak_rss_mb'] - base:,.0f} MB), holds "
        f"{whole['local_bytes'] / 2**20:,.0f} MB of parameters, {whole['seconds']:.1f}s"
    )
    print(
        f"  ratio (above the import floor): {(shard['peak_rss_mb'] - base) / (whole['peak_rss_mb'] - base):.3f}x"
    )
    per_param = whole["local_bytes"] / whole["params"]
    print(
        f"\nfull GLM-4.5-Air at {per_param:.0f} bytes/parameter: whole {meta['params'] * per_param / 2**30:,.0f} GiB, "
        f"one rank's shard of {args.world} {meta['params'] * per_param / args.world / 2**30:,.0f} GiB (parameters only)"
    )


if __name__ == "__main__":
    main()
