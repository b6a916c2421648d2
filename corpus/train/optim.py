"""Muon for matrices, AdamW for embeddings, biases and norms (GLM-4.5's split).

Muon (Keller Jordan): Nesterov momentum, then the update is orthogonalised with a quintic
Newton–Schulz iteration; Moonlight's scale ``rms * sqrt(max(A, B))`` gives every matrix an
update of RMS ``rms`` (0.2, AdamW's typical RMS) so Muon and AdamW share one learning rate and
weight decay. Stacked experts ``[E, A, B]`` are orthogonalised per expert in one batched
iteration; on ``fully_shard``-ed (DTensor) parameters see ``Muon._orthogonalise``. On 2-D parameters with ``ns_dtype=bfloat16`` this is exactly ``torch.optim.Muon(...,
adjust_lr_fn="match_rms_adamw")``; the extra here is the batched 3-D path and the fp32 option.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def zeropower_newton_schulz(
    g: Tensor,
    steps: int = 5,
    coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    eps: float = 1e-7,
    dtype: torch.dtype = torch.bfloat16,
) -> Tensor:
    """Approximately ``U V^T`` of ``g = U S V^T`` for each matrix in ``g[..., A, B]``."""
    a, b, c = coefficients
    x = g.to(dtype)
    tall = g.size(-2) > g.size(-1)
    if tall:
        x = x.mT
    if x.ndim == 2:  # the same kernels as torch.optim.Muon, so 2-D results match it exactly
        x = x / x.norm().clamp(min=eps)
        for _ in range(steps):
            gram = x @ x.T
            x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    else:
        x = x / torch.linalg.matrix_norm(x, keepdim=True).clamp(min=eps)
        for _ in range(steps):
            gram = x @ x.mT
            x = torch.baddbmm(x, torch.baddbmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.mT if tall else x


class Muon(torch.optim.Optimizer):
    """Muon over 2-D and stacked 3-D parameters (``[E, A, B]``: one matrix per expert)."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 2.5e-4,
        momentum: float = 0.95,
        nesterov: bool = True,
        weight_decay: float = 0.1,
        ns_steps: int = 5,
        ns_dtype: torch.dtype = torch.bfloat16,
        rms: float = 0.2,
        eps: float = 1e-7,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay,
            ns_steps=ns_steps,
            rms=rms,
            eps=eps,
        )
        super().__init__(params, defaults)
        self.ns_dtype = ns_dtype
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim not in (2, 3):
                    raise ValueError(f"Muon takes 2-D or stacked 3-D parameters, got shape {tuple(p.shape)}")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mom = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p.grad)
                buf = state["momentum_buffer"]
                buf.lerp_(p.grad, 1 - mom)
                update = p.grad.lerp(buf, mom) if group["nesterov"] else buf
                ortho = self._orthogonalise(p, update, group)
                a, b = p.shape[-2:]
                p.mul_(1 - lr * group["weight_decay"])
                p.add_(ortho, alpha=-lr * group["rms"] * math.sqrt(max(a, b)))
        return loss

    def _orthogonalise(self, p: Tensor, update: Tensor, group: dict) -> Tensor:
        """Newton-Schulz of the whole matrices. A ``fully_shard``-ed parameter is a DTensor
        sharded on dim 0: stacked experts ``[E, A, B]`` then hold whole experts per rank and are
        orthogonalised where they lie; a 2-D matrix is all-gathered, orthogonalised (the same
        on every rank) and cut back to this rank's rows."""

        def ns(x: Tensor) -> Tensor:
            return zeropower_newton_schulz(x, group["ns_steps"], eps=group["eps"], dtype=self.ns_dtype)

        from torch.distributed.tensor import DTensor, distribute_tensor

        if not isinstance(update, DTensor):
            return ns(update)
        if p.ndim == 3:
            return DTensor.from_local(
                ns(update.to_local()), p.device_mesh, p.placements, shape=p.shape, stride=p.stride()
            )
        return distribute_tensor(ns(update.full_tensor()), p.device_mesh, p.placements, src_data_rank=None)


class Optimizers:
    """Muon and AdamW driven as one: one LR (Moonlight's RMS matching makes it shareable)."""

    def __init__(self, muon: Muon, adamw: torch.optim.AdamW) -> None:
        self.muon, self.adamw = muon, adamw

    def set_lr(self, lr: float) -> None:
        for opt in (self.muon, self.adamw):
            for group in opt.param_groups:
                group["lr"] = lr

    def step(self) -> None:
        self.muon.step()
        self.adamw.step()

    def zero_grad(self) -> None:
        self.muon.zero_grad(set_to_none=True)
        self.adamw.zero_grad(set_to_none=True)

    def state_dict(self) -> dict:
        return {"muon": self.muon.state_dict(), "adamw": self.adamw.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.muon.load_state_dict(state["muon"])
        self.adamw.load_state_dict(state["adamw"])


def build_optimizers(
    groups: dict[str, list[tuple[str, Tensor]]],
    *,
    lr: float,
    weight_decay: float = 0.1,
    momentum: float = 0.95,
    nesterov: bool = True,
    ns_steps: int = 5,
    ns_dtype: torch.dtype = torch.bfloat16,
    muon_rms: float = 0.2,
    adam_betas: tuple[float, float] = (0.9, 0.95),
    adam_eps: float = 1e-8,
    head: str = "muon",
) -> Optimizers:
    """Split the model's groups (``muon``, ``adamw``, ``head``) between the two optimisers.

    The output head goes with Muon (GLM-4.5) unless ``head="adamw"``. In AdamW, matrices
    (embeddings, an AdamW head) get weight decay; 1-D biases and RMSNorm weights do not.
    """
    if head not in ("muon", "adamw"):
        raise ValueError(f"head must be 'muon' or 'adamw', got {head!r}")
    muon_params = [p for _, p in groups["muon"]]
    adam_params = list(groups["adamw"])
    if head == "muon":
        muon_params += [p for _, p in groups["head"]]
    else:
        adam_params += groups["head"]
    decay = [p for _, p in adam_params if p.ndim >= 2]
    no_decay = [p for _, p in adam_params if p.ndim < 2]
    muon = Muon(
        muon_params,
        lr=lr,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
        ns_steps=ns_steps,
        ns_dtype=ns_dtype,
        rms=muon_rms,
    )
    adamw = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
        betas=adam_betas,
        eps=adam_eps,
    )
    return Optimizers(muon, adamw)
