"""Muon: one step equals torch.optim.Muon (bf16 NS) and the published formula (fp32 NS);
stacked 3-D experts equal orthogonalising each expert alone."""

from __future__ import annotations

import math

import pytest
import torch

from corpus.train.optim import Muon, build_optimizers, zeropower_newton_schulz


def _reference_step(p, grad, buf, lr, wd, mom=0.95, steps=5):
    """Keller Jordan's Muon + Moonlight scaling, written out from the papers, fp32."""
    buf = mom * buf + (1 - mom) * grad
    g = (1 - mom) * grad + mom * buf  # Nesterov, in Keller's lerp form
    x = g.T if g.shape[0] > g.shape[1] else g
    x = x / x.norm().clamp(min=1e-7)
    for _ in range(steps):
        a_ = x @ x.T
        x = 3.4445 * x + (-4.7750 * a_ + 2.0315 * a_ @ a_) @ x
    o = x.T if g.shape[0] > g.shape[1] else x
    p = p * (1 - lr * wd) - lr * 0.2 * math.sqrt(max(p.shape)) * o
    return p, buf


@pytest.mark.parametrize("shape", [(48, 32), (32, 48), (40, 40)])
def test_matches_torch_muon_bf16(shape):
    torch.manual_seed(0)
    w0 = torch.randn(shape)
    ours, ref = w0.clone().requires_grad_(), w0.clone().requires_grad_()
    opt = Muon([ours], lr=0.02, weight_decay=0.1, ns_dtype=torch.bfloat16)
    topt = torch.optim.Muon([ref], lr=0.02, weight_decay=0.1, adjust_lr_fn="match_rms_adamw")
    for _ in range(3):  # several steps so the momentum buffer matters
        g = torch.randn(shape)
        ours.grad, ref.grad = g.clone(), g.clone()
        opt.step()
        topt.step()
    assert not torch.equal(ours, w0)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("shape", [(48, 32), (32, 48)])
def test_matches_published_formula_fp32(shape):
    torch.manual_seed(1)
    w = torch.randn(shape, requires_grad=True)
    ref, buf = w.detach().clone(), torch.zeros(shape)
    opt = Muon([w], lr=0.01, weight_decay=0.1, ns_dtype=torch.float32)
    for _ in range(3):
        g = torch.randn(shape)
        w.grad = g.clone()
        opt.step()
        ref, buf = _reference_step(ref, g, buf, lr=0.01, wd=0.1)
    torch.testing.assert_close(w.detach(), ref, rtol=0, atol=1e-6)


def test_update_rms_is_point_two():
    torch.manual_seed(2)
    w = torch.zeros(64, 256, requires_grad=True)
    w.grad = torch.randn(64, 256)
    Muon([w], lr=1.0, weight_decay=0.0, ns_dtype=torch.float32).step()
    rms = w.detach().pow(2).mean().sqrt().item()
    # NS gives singular values ~U(0.7, 1.2), so the RMS is near, not exactly, 0.2
    assert 0.15 < rms < 0.25, rms


def test_3d_experts_orthogonalised_per_expert():
    torch.manual_seed(3)
    e, a, b = 4, 24, 16
    stacked = torch.randn(e, a, b, requires_grad=True)
    singles = [stacked[i].detach().clone().requires_grad_() for i in range(e)]
    opt3 = Muon([stacked], lr=0.02, ns_dtype=torch.float32)
    opt2 = Muon(singles, lr=0.02, ns_dtype=torch.float32)
    for _ in range(2):
        g = torch.randn(e, a, b) * torch.tensor([1.0, 10.0, 0.1, 3.0]).view(e, 1, 1)
        stacked.grad = g.clone()
        for i, s in enumerate(singles):
            s.grad = g[i].clone()
        opt3.step()
        opt2.step()
    torch.testing.assert_close(
        stacked.detach(), torch.stack([s.detach() for s in singles]), rtol=0, atol=1e-6
    )
    # and the batched iteration really is per-matrix, not one NS over the whole stack
    g = torch.randn(e, a, b)
    per = torch.stack([zeropower_newton_schulz(g[i], dtype=torch.float32) for i in range(e)])
    torch.testing.assert_close(zeropower_newton_schulz(g, dtype=torch.float32), per, rtol=0, atol=1e-6)


def test_split_head_switch():
    emb, w, bias, norm, head = (
        torch.nn.Parameter(torch.randn(*s)) for s in [(10, 4), (4, 4), (4,), (4,), (10, 4)]
    )
    groups = {"muon": [("w", w)], "adamw": [("emb", emb), ("b", bias), ("n", norm)], "head": [("head", head)]}
    opts = build_optimizers(groups, lr=1e-3)
    assert {id(p) for g in opts.muon.param_groups for p in g["params"]} == {id(w), id(head)}
    decay, no_decay = opts.adamw.param_groups
    assert [id(p) for p in decay["params"]] == [id(emb)] and decay["weight_decay"] == 0.1
    assert {id(p) for p in no_decay["params"]} == {id(bias), id(norm)} and no_decay["weight_decay"] == 0.0
    opts = build_optimizers(groups, lr=1e-3, head="adamw")
    assert {id(p) for g in opts.muon.param_groups for p in g["params"]} == {id(w)}
    assert id(head) in {id(p) for p in opts.adamw.param_groups[0]["params"]}
    with pytest.raises(ValueError):
        Muon([torch.nn.Parameter(torch.randn(4))])
