"""Our GLM-4.5 MoE against transformers' Glm4MoeForCausalLM (the oracle), plus the packing rules:
a packed row behaves exactly like its documents run alone, padding counts for nothing."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from corpus.train import moe as moe_mod
from corpus.train.attention import doc_attention
from corpus.train.hf_export import to_transformers_state_dict
from corpus.train.layout import DocLayout
from corpus.train.model import GLM4MoE, ModelConfig, hf_config


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: intra-op threads only add contention (25x slower on a busy 2-core box)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_config(**overrides) -> ModelConfig:
    """Every GLM-4.5 feature on: partial RoPE, QK-norm, q/k/v bias, 8 experts top-2, a shared
    expert, one dense first layer, routed_scaling_factor != 1, MTP."""
    base = dict(
        vocab_size=128,
        hidden_size=64,
        intermediate_size=96,
        moe_intermediate_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        partial_rotary_factor=0.5,
        n_routed_experts=8,
        num_experts_per_tok=2,
        n_shared_experts=1,
        first_k_dense_replace=1,
        routed_scaling_factor=2.5,
        initializer_range=0.2,  # O(1) activations, so a 1e-5 match means something
    )
    return ModelConfig(**(base | overrides))


def randomized_model(cfg: ModelConfig, seed: int = 0) -> GLM4MoE:
    """Non-trivial norms, biases and balance biases, so a swapped or dropped tensor shows."""
    torch.manual_seed(seed)
    model = GLM4MoE(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1:
                p.uniform_(0.5, 1.5) if "norm" in name else p.normal_(0.0, 0.1)
        for router in model.routers():
            router.e_score_correction_bias.normal_(0.0, 0.05)
    return model.eval()


def transformers_twin(model: GLM4MoE):
    from transformers import Glm4MoeForCausalLM

    hf = Glm4MoeForCausalLM(hf_config(model.cfg)).eval()
    hf.load_state_dict(to_transformers_state_dict(model.state_dict(), model.cfg), strict=True)
    return hf


@pytest.mark.parametrize("groups", [(1, 1), (2, 1)], ids=["no-groups", "group-limited"])
def test_logits_equal_transformers(groups):
    n_group, topk_group = groups
    model = randomized_model(tiny_config(n_group=n_group, topk_group=topk_group))
    hf = transformers_twin(model)
    ids = torch.randint(0, 128, (3, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = model(ids, return_logits=True)
        theirs = hf(ids).logits
    assert ours.logits.abs().mean() > 0.1  # not a vacuous match of near-zero logits
    assert (ours.logits - theirs).abs().max().item() < 1e-5
    # Same loss definition as transformers' shifted next-token loss for one document per row.
    ref_loss = F.cross_entropy(theirs[:, :-1].reshape(-1, 128), ids[:, 1:].reshape(-1))
    assert abs(ours.lm_loss.item() - ref_loss.item()) < 1e-5
    assert ours.n_tokens == 3 * 23


def test_packed_row_equals_documents_run_alone():
    model = randomized_model(tiny_config())
    gen = torch.Generator().manual_seed(2)
    doc_a, doc_b, doc_c = (torch.randint(2, 128, (n,), generator=gen) for n in (9, 15, 24))
    packed = torch.stack([torch.cat([doc_a, doc_b]), doc_c])
    with torch.no_grad():
        out = model(packed, doc_lens=[[9, 15], [24]], return_logits=True)
        alone = [model(d[None], return_logits=True) for d in (doc_a, doc_b, doc_c)]
    pieces = [out.logits[0, :9], out.logits[0, 9:], out.logits[1]]
    mtp_pieces = [out.mtp_logits[0, :9], out.mtp_logits[0, 9:], out.mtp_logits[1]]
    for piece, mtp_piece, single in zip(pieces, mtp_pieces, alone, strict=True):
        assert (piece - single.logits[0]).abs().max().item() < 1e-5
        assert (mtp_piece - single.mtp_logits[0]).abs().max().item() < 1e-5
    # Labels never cross the boundary: 8 + 14 + 23 next-token labels, 7 + 13 + 22 MTP labels.
    assert out.n_tokens == sum(s.n_tokens for s in alone) == 45
    assert out.n_mtp_tokens == sum(s.n_mtp_tokens for s in alone) == 42
    weighted = sum(s.lm_loss * s.n_tokens for s in alone) / 45
    assert abs(out.lm_loss.item() - weighted.item()) < 1e-5
    weighted_mtp = sum(s.mtp_loss * s.n_mtp_tokens for s in alone) / 42
    assert abs(out.mtp_loss.item() - weighted_mtp.item()) < 1e-5
    assert out.expert_counts.shape == (model.cfg.n_moe_layers, 8) == (3, 8)  # 2 MoE layers + MTP's
    assert torch.equal(out.expert_counts, sum(s.expert_counts for s in alone))
    # The balance loss is per document, averaged over documents (see moe.sequence_balance_loss).
    assert abs(out.aux_loss.item() - sum(s.aux_loss for s in alone).item() / 3) < 1e-5


def test_packed_row_equals_transformers_packed_sequences():
    """transformers treats restarting position ids as packed documents (block-diagonal mask)."""
    model = randomized_model(tiny_config())
    hf = transformers_twin(model)
    ids = torch.randint(2, 128, (2, 24), generator=torch.Generator().manual_seed(9))
    doc_lens = [[9, 15], [5, 11, 8]]
    positions = torch.stack([torch.cat([torch.arange(n) for n in row]) for row in doc_lens])
    with torch.no_grad():
        ours = model(ids, doc_lens=doc_lens, return_logits=True).logits
        theirs = hf(ids, position_ids=positions, use_cache=False).logits
    assert (ours - theirs).abs().max().item() < 1e-5


def test_padding_counts_for_nothing():
    model = randomized_model(tiny_config())
    gen = torch.Generator().manual_seed(3)
    docs = torch.randint(2, 128, (1, 20), generator=gen)
    padded = torch.cat([docs, torch.zeros(1, 6, dtype=torch.long)], dim=1)
    with torch.no_grad():
        ref = model(docs, doc_lens=[[12, 8]], return_logits=True)
        listed = model(padded, doc_lens=[[12, 8, 6]], pad_lens=[6], return_logits=True)
        implied = model(padded, doc_lens=[[12, 8]], pad_lens=[6])
    for out in (listed, implied):
        assert out.n_tokens == ref.n_tokens and out.n_mtp_tokens == ref.n_mtp_tokens
        assert torch.equal(out.expert_counts, ref.expert_counts)
        for name in ("loss", "lm_loss", "mtp_loss", "aux_loss"):
            assert abs(getattr(out, name).item() - getattr(ref, name).item()) < 1e-5, name
    assert (listed.logits[:, :20] - ref.logits).abs().max().item() < 1e-5
    with pytest.raises(ValueError, match="do not tile"):
        model(padded, doc_lens=[[12, 9]], pad_lens=[6])


def test_layout_positions_and_label_masks():
    layout = DocLayout.build(2, 6, torch.device("cpu"), doc_lens=[[3, 2, 1], [4, 2]], pad_lens=[0, 2])
    assert layout.position_ids.tolist() == [[0, 1, 2, 0, 1, 0], [0, 1, 2, 3, 0, 1]]
    assert layout.label_mask.int().tolist() == [[1, 1, 0, 1, 0, 0], [1, 1, 1, 0, 0, 0]]
    assert layout.mtp_mask.int().tolist() == [[1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]]
    assert layout.doc_sizes.tolist() == [3, 2, 1, 4] and layout.valid_index.numel() == 10
    flat = DocLayout.build(1, 5, torch.device("cpu"), doc_lens=[[2, 3]], reset_position_ids=False)
    assert flat.position_ids.tolist() == [[0, 1, 2, 3, 4]]


def test_sdpa_loop_equals_dense_document_mask():
    """The CPU back-end against one dense block-diagonal causal mask (fine at this size)."""
    gen = torch.Generator().manual_seed(4)
    doc_lens, pad_lens = [[5, 3, 4], [3, 7, 2]], [0, 2]  # equal lengths across rows share a call
    q = torch.randn(2, 12, 4, 8, generator=gen)
    k, v = (torch.randn(2, 12, 2, 8, generator=gen) for _ in range(2))
    layout = DocLayout.build(2, 12, torch.device("cpu"), doc_lens, pad_lens)
    seg = layout.segment_ids
    pos = torch.arange(12)
    mask = (seg[:, :, None] == seg[:, None, :]) & (pos[:, None] >= pos[None, :])
    ref = F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask[:, None], enable_gqa=True
    ).transpose(1, 2)
    ours = doc_attention(q, k, v, layout, "sdpa_loop")
    assert (ours[0] - ref[0]).abs().max().item() < 1e-6
    assert (ours[1, :10] - ref[1, :10]).abs().max().item() < 1e-6
    assert ours[1, 10:].abs().max().item() == 0.0  # padding attends to nothing


def test_grouped_matmul_equals_per_expert_matmuls(monkeypatch):
    """Both expert paths (grouped_mm, and per-expert slices when shapes do not align) agree,
    forward and backward, including an expert that receives no token."""
    torch.manual_seed(5)
    layer = moe_mod.MoE(32, 16, 4, 1, 2, 1, 1, True, 2.5)
    for p in layer.parameters():
        torch.nn.init.normal_(p, 0.0, 0.3)
    layer.gate.e_score_correction_bias[3] = -10.0  # expert 3 never selected
    x = torch.randn(20, 32)
    doc_index, doc_sizes = torch.zeros(20, dtype=torch.long), torch.tensor([20.0])
    results = []
    for fits in (True, False):
        monkeypatch.setattr(moe_mod, "_grouped_mm_fits", lambda *a, fits=fits: fits)
        layer.zero_grad()
        out, stats = layer(x[None], None, doc_index, doc_sizes)
        (out.square().sum() + stats.aux_loss).backward()
        results.append((out.detach(), [p.grad.clone() for p in layer.parameters()], stats.counts))
    assert results[0][2][3] == 0 and results[0][2].sum() == 40
    assert (results[0][0] - results[1][0]).abs().max().item() < 1e-5
    for g_grouped, g_loop in zip(results[0][1], results[1][1], strict=True):
        assert (g_grouped - g_loop).abs().max().item() < 1e-4


def test_param_groups_cover_every_parameter_once():
    model = GLM4MoE(tiny_config())
    groups = model.param_groups_for_optim()
    seen = [id(p) for g in groups.values() for _, p in g]
    assert len(seen) == len(set(seen)) == len(list(model.parameters()))
    assert [n for n, _ in groups["head"]] == ["lm_head.weight"]
    adamw = {n for n, _ in groups["adamw"]}
    assert "embed_tokens.weight" in adamw and "layers.0.self_attn.q_proj.bias" in adamw
    assert all(p.ndim == 1 for n, p in groups["adamw"] if n != "embed_tokens.weight")
    muon = {n: p.ndim for n, p in groups["muon"]}
    assert muon["layers.1.mlp.experts.gate_proj"] == 3 and muon["mtp.eh_proj.weight"] == 2
    assert "layers.1.mlp.gate.weight" in muon


def test_config_round_trip_and_rope_switch():
    cfg = tiny_config()
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown model config keys"):
        ModelConfig.from_dict(cfg.to_dict() | {"hidden": 3})
    model = randomized_model(cfg)
    ids = torch.randint(0, 128, (1, 16), generator=torch.Generator().manual_seed(6))
    model.set_rope_theta(1e6)
    hf = transformers_twin(model)  # built from model.cfg, which now carries θ = 1e6
    assert hf.config.rope_parameters["rope_theta"] == 1e6
    with torch.no_grad():
        assert (model(ids, return_logits=True).logits - hf(ids).logits).abs().max().item() < 1e-5


def test_chunked_loss_equals_plain_loss(monkeypatch):
    """Long rows compute the loss in recomputed chunks; value and gradients must not change."""
    from corpus.train import model as model_mod

    model = randomized_model(tiny_config())
    ids = torch.randint(0, 128, (2, 40), generator=torch.Generator().manual_seed(7))
    results = []
    for limit in (model_mod.CHUNKED_CE_ELEMENTS, 128 * 16):  # plain, then chunks of 16 tokens
        monkeypatch.setattr(model_mod, "CHUNKED_CE_ELEMENTS", limit)
        model.zero_grad()
        out = model(ids, doc_lens=[[25, 15], [40]])
        out.loss.backward()
        results.append(
            (out.loss.item(), model.lm_head.weight.grad.clone(), model.embed_tokens.weight.grad.clone())
        )
    (plain, head_a, emb_a), (chunked, head_b, emb_b) = results
    assert abs(plain - chunked) < 1e-5
    assert (head_a - head_b).abs().max().item() < 1e-5 and (emb_a - emb_b).abs().max().item() < 1e-5


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="flex_attention path is CUDA-only (no CPU backward)"
)
def test_flex_equals_sdpa_loop_on_cuda():
    gen = torch.Generator().manual_seed(8)
    layout = DocLayout.build(2, 256, torch.device("cuda"), [[100, 156], [30, 50, 156]], [0, 20])
    qkv = [torch.randn(2, 256, h, 64, generator=gen).cuda().requires_grad_() for h in (4, 2, 2)]
    grad = torch.randn(2, 256, 4, 64, generator=gen).cuda()
    results = []
    for impl in ("sdpa_loop", "flex"):
        out = doc_attention(*qkv, layout, impl)
        grads = torch.autograd.grad(out[:, :236], qkv, grad[:, :236])
        results.append((out[:, :236], grads))
    (out_a, grads_a), (out_b, grads_b) = results
    assert (out_a - out_b).abs().max().item() < 1e-4
    for ga, gb in zip(grads_a, grads_b, strict=True):
        assert (ga - gb).abs().max().item() < 1e-3
