"""Partial rotary position embedding (GLM-4.5: rotate the first ``head_dim * factor`` channels).

Non-interleaved ("rotate_half") layout over the rotated slice; the remaining channels pass
through untouched, exactly as ``transformers`` ``Glm4Moe`` applies it, so weights move between
the two implementations unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


def rotary_dim(head_dim: int, partial_rotary_factor: float) -> int:
    """Channels that rotate; must be even because they are rotated in (x1, x2) halves."""
    dim = int(head_dim * partial_rotary_factor)
    if dim % 2:
        raise ValueError(f"rotary dim {dim} (head_dim {head_dim} x {partial_rotary_factor}) must be even")
    return dim


def inverse_frequencies(dim: int, theta: float) -> torch.Tensor:
    return 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float) / dim))


class RotaryEmbedding(nn.Module):
    """cos/sin tables from explicit position ids; θ can change mid-run (1e4 -> 1e6 at the 32K stage)."""

    def __init__(self, head_dim: int, partial_rotary_factor: float, theta: float) -> None:
        super().__init__()
        self.dim = rotary_dim(head_dim, partial_rotary_factor)
        # Derived from θ, so not persisted: the trainer checkpoints θ itself.
        self.register_buffer("inv_freq", inverse_frequencies(self.dim, theta), persistent=False)

    def set_theta(self, theta: float) -> None:
        self.inv_freq.copy_(inverse_frequencies(self.dim, theta).to(self.inv_freq.device))

    def forward(self, position_ids: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """Tables of shape [B, T, 1, dim] (broadcast over heads), computed in fp32."""
        freqs = position_ids[..., None].float() * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)[:, :, None, :]
        return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the first ``cos.shape[-1]`` channels of ``x`` [B, T, heads, head_dim]."""
    dim = cos.shape[-1]
    rot, rest = x[..., :dim], x[..., dim:]
    x1, x2 = rot[..., : dim // 2], rot[..., dim // 2 :]
    rotated = torch.cat((-x2, x1), dim=-1)
    return torch.cat((rot * cos + rotated * sin, rest), dim=-1)
