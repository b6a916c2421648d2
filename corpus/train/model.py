"""A GLM-4.5-shaped MoE decoder for the bundled trainer.

Pre-norm decoder; GQA attention with q/k/v bias, QK-Norm and partial RoPE (``attention.py``,
``rope.py``); SwiGLU MLP in the first ``first_k_dense_replace`` layers and sigmoid-routed MoE
with a shared expert after (``moe.py``); untied output head; one DeepSeek-V3-style MTP layer in
GLM's checkpoint order. Logits equal ``transformers.Glm4MoeForCausalLM`` with the same weights
(``tests/train/test_model_oracle.py``); ``hf_export.py`` writes checkpoints it loads.

Batch conventions (``GLM4MoE.forward``):

* ``input_ids`` ``[B, T]``; ``doc_lens[row]`` lists the lengths of the documents packed in the
  row and sums to ``T`` (``None``: one document per row);
* ``pad_lens[row] > 0``: the row ends with that many pad tokens, given as the last segment of
  ``doc_lens[row]`` (or left out of it). Padding has no label and is excluded from the loss,
  the expert counts and the balance loss;
* labels are the next token within the same document: the last token of each document has
  none, so neither the LM nor the MTP target ever crosses a document boundary;
* positions restart at 0 for each document when ``reset_position_ids`` (see ``layout.py``).

MTP (depth 1, DeepSeek-V3 eq. 21-25): at position ``t`` the MTP layer sees the main model's
output ``h_t`` (after its final norm, as vLLM/SGLang feed it when they use these weights for
speculative decoding) and the embedding of token ``t+1`` (the pad token at the last position
of a document), computes ``eh_proj(cat[enorm(embed(x_{t+1})), hnorm(h_t)])``, runs one MoE
decoder block over it with the same positions and document mask, applies ``shared_head.norm``
and the shared output head, and predicts ``x_{t+2}``. Embedding and output head are shared with the main model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from corpus.train.attention import ATTN_IMPLS, Attention
from corpus.train.layout import DocLayout
from corpus.train.moe import MoE, MoEStats, SwiGLU
from corpus.train.norm import RMSNorm
from corpus.train.rope import RotaryEmbedding, rotary_dim

# Above this many logit elements (512 MiB in fp32) the loss is computed in chunks of at most
# that size, recomputed in backward, so a 128K-token row never holds its [T, vocab] logits.
CHUNKED_CE_ELEMENTS = 1 << 27


@dataclass
class ModelConfig:
    """Model shape; field names follow ``transformers.Glm4MoeConfig`` where one exists."""

    vocab_size: int = 256
    hidden_size: int = 64
    intermediate_size: int = 128  # dense MLP of the first layers
    moe_intermediate_size: int = 32  # each routed expert and (x n_shared_experts) the shared one
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 16
    partial_rotary_factor: float = 0.5
    rope_theta: float = 10000.0
    attention_bias: bool = True
    use_qk_norm: bool = True
    n_routed_experts: int = 4
    n_shared_experts: int = 1
    num_experts_per_tok: int = 2
    first_k_dense_replace: int = 1
    routed_scaling_factor: float = 1.0
    norm_topk_prob: bool = True
    n_group: int = 1
    topk_group: int = 1
    rms_norm_eps: float = 1e-5
    num_nextn_predict_layers: int = 1  # 0 or 1 MTP layer
    max_position_embeddings: int = 131072
    initializer_range: float = 0.02
    tie_word_embeddings: bool = False
    pad_token_id: int = 0
    eos_token_id: int = 1
    reset_position_ids: bool = True  # positions restart at 0 for each packed document
    attn_impl: str = "auto"  # "sdpa_loop" (per-document SDPA), "flex" (CUDA), "auto"

    def __post_init__(self) -> None:
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        if self.num_nextn_predict_layers not in (0, 1):
            raise ValueError("only 0 or 1 MTP layer is supported")
        if self.tie_word_embeddings:
            raise ValueError("GLM-4.5 unties the output head; tie_word_embeddings must be False")
        if not 0 <= self.first_k_dense_replace <= self.num_hidden_layers:
            raise ValueError("first_k_dense_replace must be within [0, num_hidden_layers]")
        if self.attn_impl not in ATTN_IMPLS:
            raise ValueError(f"attn_impl {self.attn_impl!r} not in {ATTN_IMPLS}")
        if self.num_experts_per_tok > self.n_routed_experts:
            raise ValueError("num_experts_per_tok exceeds n_routed_experts")
        rotary_dim(self.head_dim, self.partial_rotary_factor)

    @property
    def n_moe_layers(self) -> int:
        """MoE layers including the MTP layer's block: rows of ``ModelOutput.expert_counts``."""
        return self.num_hidden_layers - self.first_k_dense_replace + self.num_nextn_predict_layers

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class ModelOutput:
    loss: torch.Tensor  # lm_loss + mtp_weight * mtp_loss + aux_weight * aux_loss
    lm_loss: torch.Tensor  # mean next-token cross-entropy over n_tokens
    mtp_loss: torch.Tensor | None  # mean over n_mtp_tokens; None without an MTP layer
    aux_loss: torch.Tensor  # sequence balance loss summed over MoE layers (MTP's included)
    expert_counts: torch.Tensor  # [n_moe_layers, n_routed_experts] int64, padding excluded
    logits: torch.Tensor | None = None  # [B, T, V] when return_logits
    n_tokens: int = 0  # tokens with a next-token label
    mtp_logits: torch.Tensor | None = None  # [B, T, V] (predicting t+2) when return_logits
    n_mtp_tokens: int = 0


class DecoderLayer(nn.Module):
    """Pre-norm block: ``h + attn(norm(h))`` then ``h + mlp(norm(h))``; MLP dense or MoE."""

    def __init__(self, cfg: ModelConfig, moe: bool) -> None:
        super().__init__()
        eps = cfg.rms_norm_eps
        self.input_layernorm = RMSNorm(cfg.hidden_size, eps)
        self.self_attn = Attention(
            cfg.hidden_size,
            cfg.num_attention_heads,
            cfg.num_key_value_heads,
            cfg.head_dim,
            cfg.attention_bias,
            cfg.use_qk_norm,
            eps,
            cfg.attn_impl,
        )
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, eps)
        if moe:
            self.mlp: nn.Module = MoE(
                cfg.hidden_size,
                cfg.moe_intermediate_size,
                cfg.n_routed_experts,
                cfg.n_shared_experts,
                cfg.num_experts_per_tok,
                cfg.n_group,
                cfg.topk_group,
                cfg.norm_topk_prob,
                cfg.routed_scaling_factor,
            )
        else:
            self.mlp = SwiGLU(cfg.hidden_size, cfg.intermediate_size)

    def forward(
        self, h: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: DocLayout
    ) -> tuple[torch.Tensor, MoEStats | None]:
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, layout)
        x = self.post_attention_layernorm(h)
        if isinstance(self.mlp, MoE):
            out, stats = self.mlp(x, layout.valid_index, layout.doc_index, layout.doc_sizes)
            return h + out, stats
        return h + self.mlp(x), None


class SharedHead(nn.Module):
    """GLM's ``shared_head``: only the norm is the MTP layer's own; the head is the model's."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class MTPLayer(DecoderLayer):
    """Decoder block plus ``enorm``, ``hnorm``, ``eh_proj`` and ``shared_head.norm``; its
    parameter names are GLM's ``model.layers.{num_hidden_layers}.*`` ones minus the prefix."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__(cfg, moe=True)
        self.enorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.hnorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.eh_proj = nn.Linear(2 * cfg.hidden_size, cfg.hidden_size, bias=False)
        self.shared_head = SharedHead(cfg)

    def forward(  # type: ignore[override]  (FSDP2 hooks forward: the MTP entry point must be it)
        self,
        hidden: torch.Tensor,
        next_embeds: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        layout: DocLayout,
    ) -> tuple[torch.Tensor, MoEStats]:
        x = self.eh_proj(torch.cat((self.enorm(next_embeds), self.hnorm(hidden)), dim=-1))
        x, stats = super().forward(x, cos, sin, layout)
        return self.shared_head.norm(x), stats


def _head_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of ``hidden @ weight.T`` (fp32 logits); chunked and recomputed in
    backward when the logits would be large."""

    def chunk_loss(h: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(F.linear(h, weight).float(), t, reduction="sum")

    if hidden.shape[0] * weight.shape[0] <= CHUNKED_CE_ELEMENTS:
        return chunk_loss(hidden, targets)
    chunk = max(1, CHUNKED_CE_ELEMENTS // weight.shape[0])
    total = hidden.new_zeros((), dtype=torch.float32)
    for h, t in zip(hidden.split(chunk), targets.split(chunk), strict=True):
        total = total + checkpoint(chunk_loss, h, t, use_reentrant=False)
    return total


class GLM4MoE(nn.Module):
    """``init=False`` skips the weight init (for a meta build, see ``shapes.materialize``);
    ``activation_checkpointing`` recomputes each block in backward instead of keeping its
    activations."""

    def __init__(self, cfg: ModelConfig, init: bool = True) -> None:
        super().__init__()
        self.activation_checkpointing = False
        self.cfg = dataclasses.replace(cfg)  # own copy: set_rope_theta updates it
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(
            DecoderLayer(cfg, moe=i >= cfg.first_k_dense_replace) for i in range(cfg.num_hidden_layers)
        )
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.mtp = MTPLayer(cfg) if cfg.num_nextn_predict_layers else None
        self.rotary = RotaryEmbedding(cfg.head_dim, cfg.partial_rotary_factor, cfg.rope_theta)
        if init:
            self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """N(0, initializer_range) for every matrix (experts and embeddings included), zero
        biases, unit norms, zero balance biases."""
        for name, p in self.named_parameters():
            if p.ndim >= 2:
                p.normal_(0.0, self.cfg.initializer_range)
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.fill_(1.0)
        for router in self.routers():
            router.e_score_correction_bias.zero_()

    def moe_layers(self) -> list[MoE]:
        """MoE blocks in ``expert_counts`` row order: main layers, then the MTP layer."""
        blocks = [layer.mlp for layer in self.layers if isinstance(layer.mlp, MoE)]
        return blocks + ([self.mtp.mlp] if self.mtp is not None else [])

    def routers(self) -> list[nn.Module]:
        return [moe.gate for moe in self.moe_layers()]

    def set_rope_theta(self, theta: float) -> None:
        """Switch the RoPE base (GLM-4.5: 1e4 -> 1e6 when extending to 32K)."""
        self.cfg.rope_theta = float(theta)
        self.rotary.set_theta(float(theta))

    @torch.no_grad()
    def update_balance_bias(self, counts: torch.Tensor, rate: float) -> None:
        """Loss-free balancing: ``b_i += rate * (u_i - mean(u))`` with ``u_i = sign(mean(c) - c_i)``
        per MoE layer, so overloaded experts become less likely to be selected. The update is
        centred: selection is invariant to a common shift, and without it the biases drift by
        ``rate * mean(u)`` every step (DeepSeek-V3 leaves that drift in; the centred form keeps
        ``sum(b) = 0``). ``counts`` is ``expert_counts`` summed over the step (and all-reduced
        across ranks by the caller)."""
        routers = self.routers()
        if tuple(counts.shape) != (len(routers), self.cfg.n_routed_experts):
            raise ValueError(
                f"counts shape {tuple(counts.shape)} != ({len(routers)}, {self.cfg.n_routed_experts})"
            )
        for router, row in zip(routers, counts, strict=True):
            row = row.to(router.e_score_correction_bias)
            update = torch.sign(row.mean() - row)
            router.e_score_correction_bias += rate * (update - update.mean())

    def param_groups_for_optim(self) -> dict[str, list[tuple[str, nn.Parameter]]]:
        """Disjoint groups, every parameter exactly once (GLM-4.5's split):

        * ``muon``: matrices — attention, dense/shared MLPs, routers, ``eh_proj`` (2-D) and the
          stacked experts (3-D, orthogonalised per expert);
        * ``adamw``: word embeddings, biases and RMSNorm weights;
        * ``head``: the output head (shared by the MTP layer). GLM trains it with Muon; the
          trainer adds it to ``muon`` or ``adamw`` according to its switch.
        """
        groups: dict[str, list[tuple[str, nn.Parameter]]] = {"muon": [], "adamw": [], "head": []}
        for name, p in self.named_parameters():
            if name == "lm_head.weight":
                groups["head"].append((name, p))
            elif name == "embed_tokens.weight" or p.ndim < 2:
                groups["adamw"].append((name, p))
            else:
                groups["muon"].append((name, p))
        return groups

    def forward(
        self,
        input_ids: torch.Tensor,
        doc_lens: list[list[int]] | None = None,
        pad_lens: list[int] | None = None,
        mtp_weight: float = 0.3,
        aux_weight: float = 1e-4,
        return_logits: bool = False,
    ) -> ModelOutput:
        """See the module docstring for the batch conventions."""
        batch, seq_len = input_ids.shape
        layout = DocLayout.build(
            batch, seq_len, input_ids.device, doc_lens, pad_lens, self.cfg.reset_position_ids
        )
        h = self.embed_tokens(input_ids)
        cos, sin = self.rotary(layout.position_ids, h.dtype)
        stats: list[MoEStats] = []
        for layer in self.layers:
            h, st = self._run(layer, h, cos, sin, layout)
            if st is not None:
                stats.append(st)
        h = self.norm(h)
        flat_ids = input_ids.reshape(-1)
        lm_sum, n_tokens = self._masked_loss(h, flat_ids, layout.label_mask, shift=1)
        lm_loss = lm_sum / max(n_tokens, 1)
        loss = lm_loss
        mtp_loss, mtp_logits, n_mtp_tokens = None, None, 0
        if self.mtp is not None:
            # x_{t+1} only within the document; the pad token where the document ends, so no
            # information crosses a boundary and a packed document equals the document alone.
            next_ids = F.pad(input_ids[:, 1:], (0, 1), value=self.cfg.pad_token_id)
            next_ids = next_ids.masked_fill(~layout.label_mask, self.cfg.pad_token_id)
            x, st = self._run(self.mtp, h, self.embed_tokens(next_ids), cos, sin, layout)
            stats.append(st)
            mtp_sum, n_mtp_tokens = self._masked_loss(x, flat_ids, layout.mtp_mask, shift=2)
            mtp_loss = mtp_sum / max(n_mtp_tokens, 1)
            loss = loss + mtp_weight * mtp_loss
            mtp_logits = self.lm_head(x) if return_logits else None
        if stats:
            aux_loss = torch.stack([s.aux_loss for s in stats]).sum()
            counts = torch.stack([s.counts for s in stats])
        else:
            aux_loss = h.new_zeros((), dtype=torch.float32)
            counts = torch.zeros(0, self.cfg.n_routed_experts, dtype=torch.long, device=h.device)
        return ModelOutput(
            loss=loss + aux_weight * aux_loss,
            lm_loss=lm_loss,
            mtp_loss=mtp_loss,
            aux_loss=aux_loss,
            expert_counts=counts,
            logits=self.lm_head(h) if return_logits else None,
            n_tokens=n_tokens,
            mtp_logits=mtp_logits,
            n_mtp_tokens=n_mtp_tokens,
        )

    def _run(self, block: nn.Module, *args):
        """One block, recomputed in backward when activation checkpointing is on."""
        if self.activation_checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(block, *args, use_reentrant=False)
        return block(*args)

    def _masked_loss(
        self, hidden: torch.Tensor, flat_ids: torch.Tensor, mask: torch.Tensor, shift: int
    ) -> tuple[torch.Tensor, int]:
        """Summed CE of positions ``t`` in ``mask`` against token ``t + shift`` of the same row
        (the mask guarantees it exists and lies in the same document)."""
        pos = mask.reshape(-1).nonzero().squeeze(1)
        selected = hidden.reshape(-1, hidden.shape[-1]).index_select(0, pos)
        return _head_cross_entropy(selected, self.lm_head.weight, flat_ids[pos + shift]), int(pos.numel())


def hf_config(cfg: ModelConfig):
    """The ``transformers.Glm4MoeConfig`` of this model (rope given as ``rope_theta`` +
    ``partial_rotary_factor``, which transformers 4.5x and 5.x both accept)."""
    from transformers import Glm4MoeConfig

    config = Glm4MoeConfig(
        vocab_size=cfg.vocab_size,
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        moe_intermediate_size=cfg.moe_intermediate_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        num_key_value_heads=cfg.num_key_value_heads,
        head_dim=cfg.head_dim,
        partial_rotary_factor=cfg.partial_rotary_factor,
        rope_theta=cfg.rope_theta,
        attention_bias=cfg.attention_bias,
        use_qk_norm=cfg.use_qk_norm,
        n_routed_experts=cfg.n_routed_experts,
        n_shared_experts=cfg.n_shared_experts,
        num_experts_per_tok=cfg.num_experts_per_tok,
        first_k_dense_replace=cfg.first_k_dense_replace,
        routed_scaling_factor=cfg.routed_scaling_factor,
        norm_topk_prob=cfg.norm_topk_prob,
        n_group=cfg.n_group,
        topk_group=cfg.topk_group,
        rms_norm_eps=cfg.rms_norm_eps,
        num_nextn_predict_layers=cfg.num_nextn_predict_layers,
        max_position_embeddings=cfg.max_position_embeddings,
        initializer_range=cfg.initializer_range,
        tie_word_embeddings=False,
        pad_token_id=cfg.pad_token_id,
        eos_token_id=cfg.eos_token_id,
        hidden_act="silu",
    )
    config.architectures = ["Glm4MoeForCausalLM"]
    return config
