#!/usr/bin/env bash
# GPU training throughput of the bundled GLM-4.5-shaped MoE: bf16 autocast, packed rows with
# flex_attention document masking, forward + backward (no optimiser step). Prints tokens/s and
# model FLOPs utilisation (MFU) against PEAK_TFLOPS (default 989: H100/H200 dense bf16).
#   bash bench/gpu_train.sh            # on a CUDA machine, from the repo root
# Knobs (env): SEQ=4096 ROWS=8 DOCS=4 STEPS=20 WARMUP=5 PEAK_TFLOPS=989 DEVICE=cuda ATTN=flex
# MODEL='{"hidden_size": 2048}' (JSON overrides of the ModelConfig below). A CPU dry run of the
# script itself: DEVICE=cpu ATTN=sdpa_loop SEQ=64 ROWS=2 STEPS=1 WARMUP=1 \
#   MODEL='{"vocab_size": 512, "hidden_size": 64, "intermediate_size": 128, "moe_intermediate_size": 32}'
set -euo pipefail
PY=${PY:-.venv/bin/python}
exec "$PY" - <<'PYEOF'
import json, os, time, torch
from corpus.train.model import GLM4MoE, ModelConfig

env = lambda k, d: type(d)(os.environ.get(k, d))
seq, rows, docs = env("SEQ", 4096), env("ROWS", 8), env("DOCS", 4)
steps, warmup, peak = env("STEPS", 20), env("WARMUP", 5), env("PEAK_TFLOPS", 989.0)
device, attn = env("DEVICE", "cuda"), env("ATTN", "flex")
cfg = ModelConfig(vocab_size=151552, hidden_size=1024, intermediate_size=4096, moe_intermediate_size=512,
                  num_hidden_layers=8, first_k_dense_replace=1, num_attention_heads=16, num_key_value_heads=4,
                  head_dim=64, n_routed_experts=32, num_experts_per_tok=4, routed_scaling_factor=2.5,
                  attn_impl=attn)
cfg = ModelConfig.from_dict(cfg.to_dict() | json.loads(os.environ.get("MODEL", "{}")))
torch.manual_seed(0)
model = GLM4MoE(cfg).to(device)
g = torch.Generator().manual_seed(0)
ids = torch.randint(2, cfg.vocab_size, (rows, seq), generator=g).to(device)
doc_lens = []  # DOCS random-length documents per row, as best-fit packing produces
for _ in range(rows):
    cuts = sorted(torch.randperm(seq - 1, generator=g)[: docs - 1].add(1).tolist())
    doc_lens.append([b - a for a, b in zip([0] + cuts, cuts + [seq])])

# Model FLOPs per step: 6 x (matmul params a token touches) per token, plus causal attention
# 6 x 2 x heads x head_dim x L^2/2 per document and layer (MTP layer included), fwd + bwd.
H, A = cfg.hidden_size, cfg.num_attention_heads * cfg.head_dim
attn_p = H * (A + 2 * cfg.num_key_value_heads * cfg.head_dim) + A * H
moe_p = H * cfg.n_routed_experts + 3 * H * cfg.moe_intermediate_size * (cfg.num_experts_per_tok + cfg.n_shared_experts)
dense, moe = cfg.first_k_dense_replace, cfg.num_hidden_layers - cfg.first_k_dense_replace + 1
per_token = dense * (attn_p + 3 * H * cfg.intermediate_size) + moe * (attn_p + moe_p) + 2 * H * H + 2 * H * cfg.vocab_size
attn_flops = sum(6 * 2 * A * n * n / 2 for row in doc_lens for n in row) * (cfg.num_hidden_layers + 1)
step_flops = 6 * per_token * rows * seq + attn_flops

def step():
    with torch.autocast(device, dtype=torch.bfloat16):
        out = model(ids, doc_lens=doc_lens)
    out.loss.backward()
    model.zero_grad(set_to_none=True)

sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
for _ in range(warmup):
    step()
sync(); t = time.perf_counter()
for _ in range(steps):
    step()
sync(); dt = (time.perf_counter() - t) / steps
print(f"{torch.cuda.get_device_name() if device == 'cuda' else device}: {rows}x{seq} tokens, {docs} docs/row, attn {attn}")
print(f"tokens/s (fwd+bwd): {rows * seq / dt:,.0f}   step {dt * 1e3:.1f} ms")
print(f"model TFLOP/s: {step_flops / dt / 1e12:.1f}   MFU: {100 * step_flops / dt / (peak * 1e12):.1f}% of {peak:.0f}")
if device == "cuda":
    print(f"peak memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
PYEOF
