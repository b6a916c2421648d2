"""GQA self-attention with q/k/v bias, QK-Norm, partial RoPE and document masking.

One interface, ``doc_attention(q, k, v, layout, impl)``, with two back-ends:

* ``sdpa_loop`` (CPU): causal ``scaled_dot_product_attention`` per document. Documents of equal
  length, from any row, are stacked into one call. flex_attention has no CPU backward and a
  dense 128K x 128K mask would take 16 GiB, so this is the exact and memory-light choice there.
* ``flex`` (CUDA): ``flex_attention`` with a block mask ``same segment and causal``, built once
  per batch and shared by all layers.

``auto`` picks plain causal SDPA when every row is a single unpadded document (one call, and
the flash kernels on GPU), else ``flex`` on CUDA and ``sdpa_loop`` elsewhere. Padding segments
are never attended to and produce zeros.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from corpus.train.layout import DocLayout
from corpus.train.norm import RMSNorm
from corpus.train.rope import apply_rotary

ATTN_IMPLS = ("auto", "sdpa_loop", "flex")


def _causal_sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """[n, L, heads, D] in and out."""
    out = F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True, enable_gqa=True
    )
    return out.transpose(1, 2)


def _sdpa_loop(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, layout: DocLayout) -> torch.Tensor:
    batch, seq_len, heads, dim = q.shape
    flat_q, flat_k, flat_v = (t.reshape(batch * seq_len, t.shape[2], dim) for t in (q, k, v))
    index_parts, out_parts = [], []
    for length, starts in layout.segments_by_length().items():
        idx = (
            torch.tensor(starts, device=q.device)[:, None] + torch.arange(length, device=q.device)
        ).flatten()
        n = len(starts)
        part = _causal_sdpa(
            *(t.index_select(0, idx).view(n, length, t.shape[1], dim) for t in (flat_q, flat_k, flat_v))
        )
        index_parts.append(idx)
        out_parts.append(part.reshape(n * length, heads, dim))
    out = q.new_zeros(batch * seq_len, heads, dim)
    if index_parts:
        out = out.index_copy(0, torch.cat(index_parts), torch.cat(out_parts))
    return out.view(batch, seq_len, heads, dim)


@functools.cache
def _compiled_flex():
    from torch.nn.attention.flex_attention import flex_attention

    return torch.compile(flex_attention, dynamic=False)


def _flex(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, layout: DocLayout) -> torch.Tensor:
    from torch.nn.attention.flex_attention import create_block_mask

    batch, seq_len = q.shape[:2]
    block_mask = layout.cache.get("flex_block_mask")
    if block_mask is None:
        seg = layout.segment_ids

        def same_doc_causal(b, h, q_idx, kv_idx):
            return (seg[b, q_idx] == seg[b, kv_idx]) & (q_idx >= kv_idx)

        block_mask = create_block_mask(same_doc_causal, batch, None, seq_len, seq_len, device=q.device)
        layout.cache["flex_block_mask"] = block_mask
    out = _compiled_flex()(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), block_mask=block_mask, enable_gqa=True
    )
    return out.transpose(1, 2)


def doc_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, layout: DocLayout, impl: str
) -> torch.Tensor:
    """Causal attention that never crosses a document; q [B, T, H, D], k/v [B, T, H_kv, D]."""
    if impl == "auto":
        if layout.one_doc_per_row:
            return _causal_sdpa(q, k, v)
        impl = "flex" if q.is_cuda else "sdpa_loop"
    if impl == "sdpa_loop":
        return _sdpa_loop(q, k, v, layout)
    if impl == "flex":
        return _flex(q, k, v, layout)
    raise ValueError(f"attention impl {impl!r} not in {ATTN_IMPLS}")


class Attention(nn.Module):
    """GQA with q/k/v bias, QK-Norm over head_dim before RoPE, partial RoPE, explicit head_dim."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        num_kv_heads: int,
        head_dim: int,
        bias: bool,
        qk_norm: bool,
        eps: float,
        impl: str,
    ) -> None:
        super().__init__()
        self.num_heads, self.num_kv_heads, self.head_dim, self.impl = num_heads, num_kv_heads, head_dim, impl
        self.q_proj = nn.Linear(hidden_size, num_heads * head_dim, bias=bias)
        self.k_proj = nn.Linear(hidden_size, num_kv_heads * head_dim, bias=bias)
        self.v_proj = nn.Linear(hidden_size, num_kv_heads * head_dim, bias=bias)
        self.o_proj = nn.Linear(num_heads * head_dim, hidden_size, bias=False)
        self.q_norm = RMSNorm(head_dim, eps) if qk_norm else None
        self.k_norm = RMSNorm(head_dim, eps) if qk_norm else None

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: DocLayout
    ) -> torch.Tensor:
        batch, seq_len, _ = x.shape
        # One GEMM for q, k and v; the parameters stay separate so Muon sees each matrix alone.
        weight = torch.cat((self.q_proj.weight, self.k_proj.weight, self.v_proj.weight))
        bias = None
        if self.q_proj.bias is not None:
            bias = torch.cat((self.q_proj.bias, self.k_proj.bias, self.v_proj.bias))
        q_size, kv_size = self.num_heads * self.head_dim, self.num_kv_heads * self.head_dim
        q, k, v = F.linear(x, weight, bias).split((q_size, kv_size, kv_size), dim=-1)
        q = q.view(batch, seq_len, self.num_heads, self.head_dim)
        k = k.view(batch, seq_len, self.num_kv_heads, self.head_dim)
        v = v.view(batch, seq_len, self.num_kv_heads, self.head_dim)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        # fp32 norm weights promote q/k under autocast; attention runs in v's (autocast) dtype.
        q, k = apply_rotary(q, cos, sin).to(v.dtype), apply_rotary(k, cos, sin).to(v.dtype)
        out = doc_attention(q, k, v, layout, self.impl)
        return self.o_proj(out.reshape(batch, seq_len, -1))
