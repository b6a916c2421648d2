"""Model FLOPs of a training step (forward + backward) and MFU.

Counted as in PaLM (Chowdhery et al. 2022, appendix B) — ``6 N`` per token for the matmul
parameters ``N`` a token multiplies through, plus attention — with two MoE/packing corrections:

* **active matmuls** ``N``: q/k/v/o projections, dense MLPs (``3 H F``), per MoE layer the router
  (``E H``) and ``top_k`` routed + the shared expert(s) (``3 H M`` each), the MTP layer's
  ``eh_proj`` (``2 H H``) and its MoE block, and the output head twice (main and MTP
  prediction). The input embedding is a lookup (0 FLOPs); norms, biases and activations are
  left out (under 1 %).
* **attention with document masking**: a document of ``L`` tokens attends over
  ``L (L + 1) / 2`` (query, key) pairs — not ``T^2 / 2`` of the whole row — each costing
  ``2 x heads x head_dim`` for ``QK^T`` and as much for ``AV``: ``4 heads head_dim`` forward per pair,
  x3 with backward, in every decoder layer and the MTP layer.

Padding tokens are not counted (they carry no work the model needs; MoE skips them).
MFU = model FLOPs / second / (devices x peak), peak the device's dense bf16 figure.
"""

from __future__ import annotations

from corpus.train.model import ModelConfig

# Dense bf16 peak TFLOP/s per device (vendor data sheets, without sparsity), by name substring.
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 70.0, "L4": 121.0}


def matmul_params_per_token(cfg: ModelConfig) -> int:
    """``N`` above: matmul parameters one token multiplies through (forward)."""
    h, a = cfg.hidden_size, cfg.num_attention_heads * cfg.head_dim
    kv = cfg.num_key_value_heads * cfg.head_dim
    attn = h * (a + 2 * kv) + a * h
    dense_mlp = 3 * h * cfg.intermediate_size
    experts = cfg.num_experts_per_tok + cfg.n_shared_experts
    moe_mlp = cfg.n_routed_experts * h + 3 * h * cfg.moe_intermediate_size * experts
    n_dense = cfg.first_k_dense_replace
    n_moe = cfg.num_hidden_layers - n_dense
    n = n_dense * (attn + dense_mlp) + n_moe * (attn + moe_mlp) + cfg.vocab_size * h
    if cfg.num_nextn_predict_layers:
        n += 2 * h * h + attn + moe_mlp + cfg.vocab_size * h
    return n


def attention_pairs(doc_lens: list[list[int]], pad_lens: list[int] | None = None) -> int:
    """Causal (query, key) pairs of a batch: ``sum L (L + 1) / 2`` over documents, padding excluded."""
    pairs = 0
    for row, docs in enumerate(doc_lens):
        pad = pad_lens[row] if pad_lens else 0
        lens = list(docs)
        if pad and lens and lens[-1] == pad:
            lens = lens[:-1]
        pairs += sum(n * (n + 1) // 2 for n in lens)
    return pairs


def train_flops(cfg: ModelConfig, doc_lens: list[list[int]], pad_lens: list[int] | None = None) -> int:
    """Forward + backward model FLOPs of one batch given its documents (``doc_lens`` per row,
    trailing padding as the last entry when ``pad_lens[row] > 0``)."""
    tokens = sum(sum(d) for d in doc_lens) - sum(pad_lens or [])
    layers = cfg.num_hidden_layers + cfg.num_nextn_predict_layers
    per_pair = 4 * cfg.num_attention_heads * cfg.head_dim
    return 6 * matmul_params_per_token(cfg) * tokens + 3 * per_pair * layers * attention_pairs(
        doc_lens, pad_lens
    )


def flops_per_token(cfg: ModelConfig, doc_len: int) -> float:
    """Training FLOPs per token of ``doc_len``-token documents."""
    return train_flops(cfg, [[doc_len]]) / doc_len


def device_peak_tflops(device_name: str) -> float | None:
    """The table's peak for a CUDA device name, or None when unknown."""
    for key, peak in PEAK_TFLOPS.items():
        if key in device_name:
            return peak
    return None
