#!/usr/bin/env bash
# GPU checks of the bundled trainer (never run in CI; needs one CUDA device). From the repo root:
#   bash bench/gpu_train.sh
# 1. throughput: the glm45-debug flavour (GLM-4.5's shape at small size, corpus/train/shapes.py)
#    in bf16 autocast, packed rows with flex_attention document masking, forward + backward +
#    optimizer step through the trainer's own step; prints tokens/s, model TFLOP/s and MFU
#    against PEAK_TFLOPS (default: the table in corpus/train/flops.py, H100/H200 989).
# 2. smoke: a 2-stage run (4K -> 32K rows, RoPE 1e4 -> 1e6) through `corpus train` on random-token
#    streams with held-out documents; checks the stage switch, the eval records and finite losses.
# Knobs (env): SEQ=4096 ROWS=8 DOCS=4 STEPS=10 WARMUP=3 PEAK_TFLOPS=  MODEL=glm45-debug
#   OVERRIDES='{"hidden_size": 1024}' (JSON ModelConfig overrides) SMOKE=1 (0 skips part 2)
#   OUT=out/gpu_train (smoke run folder; removed first)
set -euo pipefail
PY=${PY:-.venv/bin/python}
export HF_HUB_OFFLINE=1

echo "== 1. throughput (bf16, flex attention, document-masked)"
"$PY" - <<'PYEOF'
import json, os, time
import torch
from corpus.train.flops import device_peak_tflops, train_flops
from corpus.train.model import GLM4MoE
from corpus.train.optim import build_optimizers
from corpus.train.shapes import param_counts, preset

assert torch.cuda.is_available(), "bench/gpu_train.sh needs a CUDA device"
env = lambda k, d: type(d)(os.environ.get(k) or d)
seq, rows, docs = env("SEQ", 4096), env("ROWS", 8), env("DOCS", 4)
steps, warmup = env("STEPS", 10), env("WARMUP", 3)
dev = torch.device("cuda")
name = torch.cuda.get_device_name(dev)
peak = float(os.environ.get("PEAK_TFLOPS") or device_peak_tflops(name) or 989.0)
cfg = preset(env("MODEL", "glm45-debug"), attn_impl="flex", **json.loads(os.environ.get("OVERRIDES") or "{}"))
torch.manual_seed(0)
model = GLM4MoE(cfg).to(dev).train()
counts = param_counts(model)
opts = build_optimizers(model.param_groups_for_optim(), lr=1e-4, ns_dtype=torch.bfloat16)
g = torch.Generator().manual_seed(0)
ids = torch.randint(2, cfg.vocab_size, (rows, seq), generator=g).to(dev)
doc_lens = []  # DOCS random-length documents per row, as best-fit packing produces
for _ in range(rows):
    cuts = sorted(torch.randperm(seq - 1, generator=g)[: docs - 1].add(1).tolist())
    doc_lens.append([b - a for a, b in zip([0] + cuts, cuts + [seq])])
step_flops = train_flops(cfg, doc_lens)

def step():
    with torch.autocast("cuda", dtype=torch.bfloat16):
        out = model(ids, doc_lens=doc_lens)
    out.loss.backward()
    opts.step()
    opts.zero_grad()
    return out

for _ in range(warmup):
    out = step()
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(steps):
    out = step()
torch.cuda.synchronize(); dt = (time.perf_counter() - t) / steps
assert torch.isfinite(out.loss).item(), "non-finite loss"
print(f"{name}: {env('MODEL', 'glm45-debug')} ({counts.total / 1e6:.1f}M total, {counts.active / 1e6:.1f}M active "
      f"non-embedding), {rows}x{seq} tokens, {docs} docs/row, flex attention, bf16")
print(f"tokens/s (fwd+bwd+optimizer): {rows * seq / dt:,.0f}   step {dt * 1e3:.1f} ms   loss {out.loss.item():.3f}")
print(f"model FLOPs/token {step_flops / (rows * seq) / 1e6:.1f}M   TFLOP/s {step_flops / dt / 1e12:.1f}   "
      f"MFU {100 * step_flops / dt / (peak * 1e12):.1f}% of {peak:.0f}")
print(f"peak memory: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
PYEOF

if [ "${SMOKE:-1}" = "1" ]; then
  echo "== 2. smoke: 2 stages (4K truncate -> 32K best-fit, RoPE 1e4 -> 1e6) through corpus train"
  OUT=${OUT:-out/gpu_train}
  rm -rf "$OUT"
  "$PY" - "$OUT" <<'PYEOF'
import random, sys
from pathlib import Path
import yaml
from corpus.train.data import write_stream

out = Path(sys.argv[1])
rng = random.Random(0)
stages = []
for name, seq, theta, pack, phase, rows in [("pretrain_4k", 4096, 1e4, "truncate", "pretrain", 64),
                                           ("midtrain_32k", 32768, 1e6, "best_fit", "midtrain", 16)]:
    data = []
    for r in range(rows):  # 2-5 documents per row, random tokens
        cuts = sorted(rng.sample(range(64, seq - 64), rng.randint(1, 4)))
        lens = [b - a for a, b in zip([0, *cuts], [*cuts, seq])]
        data.append({"input_ids": [rng.randrange(2, 4096) for _ in range(seq)], "doc_lens": lens, "pad_len": 0,
                     "doc_ids": [f"{name}-{r}-{k}" for k in range(len(lens))], "source": "web", "bucket": "x"})
    write_stream(str(out / "tokens" / name), data, seq, rows_per_group=8, pack=pack)
    stages.append({"name": name, "seq_len": seq, "tokens": 4 * 2 * 32768, "rope_theta": theta,
                   "packing": pack, "phase": phase, "streams": [str(out / "tokens" / name)]})
cfg = {"run": {"name": "gpu-smoke", "output": str(out / "run"), "precision": "bf16"},
       "model": {"preset": "glm45-debug", "attn_impl": "flex"},
       "stages": stages,
       "optim": {"lr": 1e-3, "min_lr": 1e-4, "warmup_frac": 0.1},
       "batch": {"global_tokens": 65536, "micro_tokens": 32768, "warmup_frac": 0.0},
       "data": {"lanes": 2, "shuffle_tokens": 1 << 20},
       "eval": {"holdout": 0.2, "every_steps": 2, "rows": 4},
       "checkpoint": {"every_steps": 100}}
(out / "train.yaml").write_text(yaml.safe_dump(cfg))
PYEOF
  "$PY" -m corpus.train "$OUT/train.yaml"
  "$PY" - "$OUT" <<'PYEOF'
import math, sys
from pathlib import Path
from corpus.train.report import read_metrics

records = read_metrics(Path(sys.argv[1]) / "run")
stages = [r["stage"] for r in records]
assert stages[0] == "pretrain_4k" and stages[-1] == "midtrain_32k", stages
assert {r["rope_theta"] for r in records if r["stage"] == "midtrain_32k"} == {1e6}
assert all(math.isfinite(r["loss"]) for r in records)
evals = [r for r in records if r.get("val_loss") is not None]
assert {r["stage"] for r in evals} == {"pretrain_4k", "midtrain_32k"}, evals
mfu = [r["mfu"] for r in records if r.get("mfu") is not None]
print(f"smoke ok: {len(records)} steps, stages {sorted(set(stages))}, {len(evals)} evals, "
      f"last val loss {evals[-1]['val_loss']:.3f}, MFU {100 * mfu[-1]:.1f}%" if mfu else "smoke ok (no MFU)")
PYEOF
fi
