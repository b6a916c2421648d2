"""GLM-4.5 and GLM-4.5-Air at their real shapes, built on the meta device (no memory), count
the published parameters; their CPU debug flavours equal transformers' logits; the init is
the same whatever the sharding."""

from __future__ import annotations

import pytest
import torch

from corpus.train.hf_export import to_transformers_state_dict
from corpus.train.model import GLM4MoE, hf_config
from corpus.train.shapes import (
    PRESETS,
    _row_block_normal,
    build_meta,
    init_parameters,
    materialize,
    model_config,
    param_counts,
    preset,
)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("name", "total", "active"), [("glm45", 355e9, 32e9), ("glm45-air", 106e9, 12e9)], ids=["GLM-4.5", "Air"]
)
def test_real_shapes_on_meta_count_the_published_parameters(name, total, active):
    model = build_meta(PRESETS[name])
    assert all(p.is_meta for p in model.parameters())  # shapes only: nothing allocated
    c = param_counts(model)
    assert abs(c.total / total - 1) <= 0.01, c
    assert abs(c.active / active - 1) <= 0.03, c
    cfg = model.cfg
    assert c.embeddings == 2 * cfg.vocab_size * cfg.hidden_size
    # the MTP layer: one MoE decoder block + eh_proj + its 3 norms (shares embedding and head)
    assert c.mtp_total > 3 * cfg.hidden_size * cfg.moe_intermediate_size * cfg.n_routed_experts
    hand_routed = 3 * cfg.hidden_size * cfg.moe_intermediate_size * cfg.n_routed_experts
    n_moe = cfg.num_hidden_layers - cfg.first_k_dense_replace
    # total - active = the routed experts a token does not use
    assert c.total - c.embeddings - c.active == round(n_moe * hand_routed * (1 - 8 / cfg.n_routed_experts))


def test_published_shape_details():
    big, air = PRESETS["glm45"], PRESETS["glm45-air"]
    assert (big.hidden_size, big.num_hidden_layers, big.num_attention_heads, big.num_key_value_heads) == (
        5120, 92, 96, 8
    )  # fmt: skip
    assert (big.n_routed_experts, big.num_experts_per_tok, big.n_shared_experts) == (160, 8, 1)
    assert (big.routed_scaling_factor, big.partial_rotary_factor, big.use_qk_norm) == (2.5, 0.5, True)
    assert big.num_nextn_predict_layers == 1 and big.first_k_dense_replace == 3
    assert (air.hidden_size, air.num_hidden_layers, air.n_routed_experts) == (4096, 46, 128)


@pytest.mark.parametrize("name", ["glm45-debug", "glm45-air-debug"])
def test_debug_flavours_equal_transformers(name):
    cfg = preset(name, vocab_size=256, initializer_range=0.1)
    usual_heads = cfg.hidden_size // cfg.head_dim
    assert cfg.num_attention_heads >= 2.5 * usual_heads  # GLM's many-heads choice
    torch.manual_seed(0)
    model = GLM4MoE(cfg)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.ndim == 1:
                p.uniform_(0.5, 1.5) if "norm" in n else p.normal_(0.0, 0.1)
        for router in model.routers():
            router.e_score_correction_bias.normal_(0.0, 0.05)
    model.eval()
    from transformers import Glm4MoeForCausalLM

    hf = Glm4MoeForCausalLM(hf_config(cfg)).eval()
    hf.load_state_dict(to_transformers_state_dict(model.state_dict(), cfg), strict=True)
    ids = torch.randint(0, 256, (2, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours, theirs = model(ids, return_logits=True).logits, hf(ids).logits
    assert ours.abs().mean() > 0.1
    assert (ours - theirs).abs().max().item() < 1e-5


def test_materialized_meta_build_and_sharding_independent_init():
    cfg = preset("glm45-debug", vocab_size=300)
    a = materialize(build_meta(cfg), torch.device("cpu"), seed=7)
    b = GLM4MoE(cfg, init=False)
    init_parameters(b, seed=7)
    for (name, pa), pb in zip(a.named_parameters(), b.parameters(), strict=True):
        assert not pa.is_meta and torch.equal(pa, pb), name
    assert a.layers[1].mlp.experts.gate_proj.std().item() == pytest.approx(cfg.initializer_range, rel=0.05)
    torch.testing.assert_close(a.rotary.inv_freq, GLM4MoE(cfg).rotary.inv_freq)
    # any rows of a parameter can be drawn alone: a shard's rows equal the same rows of the whole
    for shape in ((300, 256), (16, 80, 256)):
        whole = _row_block_normal("w", torch.Size(shape), 0, shape[0], 0.02, seed=7)
        cuts = [0, 3, 150, 257, shape[0]] if shape[0] == 300 else [0, 5, 11, 16]
        parts = [
            _row_block_normal("w", torch.Size(shape), lo, hi, 0.02, 7)
            for lo, hi in zip(cuts, cuts[1:], strict=False)
        ]
        assert torch.equal(torch.cat(parts), whole)


def test_yaml_model_section_takes_a_preset():
    cfg = model_config({"preset": "glm45-air-debug", "vocab_size": 512})
    assert cfg.vocab_size == 512 and cfg.num_attention_heads == 24 and cfg.routed_scaling_factor == 1.0
    with pytest.raises(ValueError, match="unknown model preset"):
        model_config({"preset": "glm5"})
    with pytest.raises(ValueError, match="unknown model config keys"):
        model_config({"preset": "glm45", "hidden": 3})
