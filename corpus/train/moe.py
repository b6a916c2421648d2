"""SwiGLU feed-forward and the GLM-4.5 / DeepSeek-V3 MoE: sigmoid router with loss-free balance
bias, grouped routed experts, one shared expert, and the sequence-level balance loss.

Routing (``Router``): ``s = sigmoid(x W^T)`` in fp32. Experts are *selected* by the top-k of
``s + b`` where ``b`` is ``e_score_correction_bias`` (a buffer moved by the trainer, no
gradient); the *gating weights* come from the unbiased ``s`` of the selected experts,
normalised over the top-k and scaled by ``routed_scaling_factor``. The bias therefore steers
load without changing how much a chosen expert contributes.

Experts (``GroupedExperts``) are stored stacked, ``[E, out, in]``: token copies are sorted by
expert and run through one grouped matmul per projection (``F.grouped_mm``), never a loop
over tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class SwiGLU(nn.Module):
    """``down(silu(gate x) * up x)``: the dense MLP of the first layers and the shared expert."""

    def __init__(self, hidden_size: int, intermediate_size: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = F.linear(x, torch.cat((self.gate_proj.weight, self.up_proj.weight))).chunk(2, dim=-1)
        return self.down_proj(F.silu(gate) * up)


@dataclass
class Routing:
    scores: torch.Tensor  # [N, E] fp32 unbiased sigmoid scores (differentiable)
    topk_index: torch.Tensor  # [N, K] selected experts
    topk_weight: torch.Tensor  # [N, K] fp32 gating weights


class Router(nn.Module):
    """Sigmoid router; selection by biased scores, weights from unbiased scores (see module doc)."""

    def __init__(
        self,
        hidden_size: int,
        n_experts: int,
        top_k: int,
        n_group: int,
        topk_group: int,
        norm_topk_prob: bool,
        scaling: float,
    ) -> None:
        super().__init__()
        if n_experts % n_group:
            raise ValueError(f"{n_experts} experts do not split into {n_group} groups")
        self.weight = nn.Parameter(torch.empty(n_experts, hidden_size))
        self.register_buffer("e_score_correction_bias", torch.zeros(n_experts, dtype=torch.float32))
        self.top_k, self.n_group, self.topk_group = top_k, n_group, topk_group
        self.norm_topk_prob, self.scaling = norm_topk_prob, scaling

    def forward(self, x: torch.Tensor) -> Routing:
        scores = F.linear(x.float(), self.weight.float()).sigmoid()
        choice = scores.detach() + self.e_score_correction_bias
        if self.n_group > 1:
            # Group-limited routing: keep the topk_group groups whose best two experts score highest.
            grouped = choice.view(choice.shape[0], self.n_group, -1)
            group_score = grouped.topk(2, dim=-1).values.sum(-1)
            keep = torch.zeros_like(group_score, dtype=torch.bool)
            keep.scatter_(1, group_score.topk(self.topk_group, dim=-1).indices, True)
            choice = grouped.masked_fill(~keep[..., None], float("-inf")).view_as(choice)
        topk_index = choice.topk(self.top_k, dim=-1).indices
        weight = scores.gather(1, topk_index)
        if self.norm_topk_prob:
            weight = weight / (weight.sum(-1, keepdim=True) + 1e-20)
        return Routing(scores, topk_index, weight * self.scaling)


def _grouped_mm_fits(x: torch.Tensor, *dims: int) -> bool:
    """``F.grouped_mm`` needs 16-byte aligned rows; on CUDA it is a bf16 (Hopper) kernel, and
    under ``torch.compile`` its shape check demands bf16 on every device (torch 2.13)."""
    if not hasattr(F, "grouped_mm"):
        return False
    per_16_bytes = 16 // x.element_size()
    aligned = all(d % per_16_bytes == 0 for d in dims)
    eager_cpu = x.device.type == "cpu" and not torch.compiler.is_compiling()
    return aligned and (eager_cpu or x.dtype == torch.bfloat16)


class GroupedExperts(nn.Module):
    """``n_experts`` SwiGLU experts stored stacked ``[E, out, in]`` and computed grouped."""

    def __init__(self, n_experts: int, hidden_size: int, intermediate_size: int) -> None:
        super().__init__()
        self.gate_proj = nn.Parameter(torch.empty(n_experts, intermediate_size, hidden_size))
        self.up_proj = nn.Parameter(torch.empty(n_experts, intermediate_size, hidden_size))
        self.down_proj = nn.Parameter(torch.empty(n_experts, hidden_size, intermediate_size))

    def forward(self, x: torch.Tensor, routing: Routing) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the weighted sum of each token's experts [N, H] and tokens per expert [E]."""
        n_tokens, top_k = routing.topk_index.shape
        n_experts, inter, hidden = self.gate_proj.shape
        flat_expert = routing.topk_index.reshape(-1)
        order = flat_expert.argsort(stable=True)
        counts = torch.bincount(flat_expert, minlength=n_experts)
        # Autocast does not cover grouped_mm: cast to the autocast dtype by hand.
        dtype = (
            torch.get_autocast_dtype(x.device.type) if torch.is_autocast_enabled(x.device.type) else x.dtype
        )
        xs = x[order // top_k].to(dtype)  # one row per (token, slot), grouped by expert
        gate_up = torch.cat((self.gate_proj, self.up_proj), dim=1).to(dtype)  # [E, 2I, H]
        down = self.down_proj.to(dtype)
        if _grouped_mm_fits(xs, hidden, inter):
            offsets = torch.cumsum(counts, 0).to(torch.int32)
            gate, up = F.grouped_mm(xs, gate_up.transpose(1, 2), offs=offsets).chunk(2, dim=-1)
            ys = F.grouped_mm(F.silu(gate) * up, down.transpose(1, 2), offs=offsets)
        else:  # one matmul per expert over its contiguous slice of tokens
            parts = []
            for e, chunk in enumerate(xs.split(counts.tolist())):
                gate, up = F.linear(chunk, gate_up[e]).chunk(2, dim=-1)
                parts.append(F.linear(F.silu(gate) * up, down[e]))
            ys = torch.cat(parts)
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(order.numel(), device=order.device)
        ys = ys[inverse].view(n_tokens, top_k, hidden)
        out = (ys * routing.topk_weight.to(ys.dtype)[..., None]).sum(1)
        return out, counts


def sequence_balance_loss(routing: Routing, doc_index: torch.Tensor, doc_sizes: torch.Tensor) -> torch.Tensor:
    """DeepSeek-V3 complementary sequence-wise balance loss (eq. 17-20), averaged over documents.

    Per document of T tokens: ``f_i = E / (K T) * #{t : i in topk(t)}`` (no gradient),
    ``P_i = 1/T * sum_t s'_{i,t}`` with ``s'`` the unbiased scores normalised over all experts,
    loss ``sum_i f_i P_i`` (1.0 when perfectly balanced). The "sequence" is the packed
    **document**, not the row: documents in a row are independent (own positions, masked
    attention), and at inference a sequence is one document, so a row-level loss would let one
    document collapse onto a few experts as long as its row-mates compensate.
    """
    n_docs = doc_sizes.numel()
    if n_docs == 0:
        return routing.scores.sum() * 0.0
    n_experts = routing.scores.shape[1]
    top_k = routing.topk_index.shape[1]
    probs = routing.scores / routing.scores.sum(-1, keepdim=True)
    p = probs.new_zeros(n_docs, n_experts).index_add(0, doc_index, probs) / doc_sizes[:, None]
    with torch.no_grad():
        hits = torch.zeros_like(probs).scatter_(1, routing.topk_index, 1.0)
        f = probs.new_zeros(n_docs, n_experts).index_add(0, doc_index, hits) * n_experts
        f = f / (top_k * doc_sizes[:, None])
    return (f * p).sum(-1).mean()


@dataclass
class MoEStats:
    counts: torch.Tensor  # [E] int64 tokens routed to each expert (padding excluded)
    aux_loss: torch.Tensor  # scalar sequence-level balance loss


class MoE(nn.Module):
    """Routed experts plus shared expert; padding tokens skip routing (shared expert only)."""

    def __init__(
        self,
        hidden_size: int,
        moe_intermediate_size: int,
        n_experts: int,
        n_shared: int,
        top_k: int,
        n_group: int,
        topk_group: int,
        norm_topk_prob: bool,
        scaling: float,
    ) -> None:
        super().__init__()
        self.gate = Router(hidden_size, n_experts, top_k, n_group, topk_group, norm_topk_prob, scaling)
        self.experts = GroupedExperts(n_experts, hidden_size, moe_intermediate_size)
        self.shared_experts = SwiGLU(hidden_size, moe_intermediate_size * n_shared)

    def forward(
        self,
        x: torch.Tensor,
        valid_index: torch.Tensor | None,
        doc_index: torch.Tensor,
        doc_sizes: torch.Tensor,
    ) -> tuple[torch.Tensor, MoEStats]:
        flat = x.reshape(-1, x.shape[-1])
        tokens = flat if valid_index is None else flat.index_select(0, valid_index)
        routing = self.gate(tokens)
        routed, counts = self.experts(tokens, routing)
        if valid_index is not None:
            routed = flat.new_zeros(flat.shape).index_copy(0, valid_index, routed)
        out = routed.view_as(x) + self.shared_experts(x)
        return out, MoEStats(counts, sequence_balance_loss(routing, doc_index, doc_sizes))
