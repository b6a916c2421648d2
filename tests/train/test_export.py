"""The exported checkpoint loads in transformers with the same logits, and its MTP layer, under
GLM's ``model.layers.{L}.*`` names, computes what our MTP layer computes."""

from __future__ import annotations

import logging

import pytest
import torch
from safetensors import safe_open

from corpus.train.hf_export import export_hf, mtp_hf_prefix, to_hf_state_dict
from corpus.train.model import GLM4MoE, ModelConfig


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: intra-op threads only add contention on a busy 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


CFG = ModelConfig(
    vocab_size=128,
    hidden_size=64,
    intermediate_size=96,
    moe_intermediate_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    n_routed_experts=4,
    num_experts_per_tok=2,
    routed_scaling_factor=2.5,
    rope_theta=1e6,
    initializer_range=0.2,
)


@pytest.fixture(scope="module")
def model() -> GLM4MoE:
    torch.manual_seed(0)
    m = GLM4MoE(CFG)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.ndim == 1:
                p.uniform_(0.5, 1.5) if "norm" in name else p.normal_(0.0, 0.1)
        for router in m.routers():
            router.e_score_correction_bias.normal_(0.0, 0.05)
    return m.eval()


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    # A DDP-wrapped state dict exports the same as the bare one.
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    return export_hf(state, CFG, tmp_path_factory.mktemp("hf"))


def test_export_reloads_in_transformers_with_same_logits(model, exported, caplog):
    from transformers import Glm4MoeForCausalLM

    hf, info = Glm4MoeForCausalLM.from_pretrained(exported, output_loading_info=True)
    ids = torch.randint(0, 128, (2, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = model(ids, return_logits=True).logits
        theirs = hf.eval()(ids).logits
    assert (ours - theirs).abs().max().item() < 1e-5
    assert hf.config.rope_parameters["rope_theta"] == 1e6 and hf.config.use_qk_norm
    assert not info["missing_keys"]
    prefix = mtp_hf_prefix(CFG)
    assert info["unexpected_keys"] and all(k.startswith(prefix) for k in info["unexpected_keys"])

    with caplog.at_level(logging.INFO, logger="corpus.train.hf_export"):
        export_hf(model, CFG, exported.parent / "again", dtype=torch.bfloat16)
    assert "reports them as unexpected keys" in caplog.text
    with safe_open(str(exported.parent / "again" / "model.safetensors"), "pt") as f:
        assert f.get_tensor("model.layers.1.mlp.gate.e_score_correction_bias").dtype == torch.float32
        assert f.get_tensor("model.layers.1.mlp.experts.3.down_proj.weight").dtype == torch.bfloat16


def test_mtp_layer_under_glm_names_matches_ours(model, exported):
    """Rebuild the MTP step from the exported tensors with transformers' own building blocks."""
    from transformers import Glm4MoeForCausalLM
    from transformers.models.glm4_moe.modeling_glm4_moe import Glm4MoeDecoderLayer, Glm4MoeRMSNorm

    with safe_open(str(exported / "model.safetensors"), "pt") as f:
        prefix = mtp_hf_prefix(CFG)
        mtp = {k[len(prefix) :]: f.get_tensor(k) for k in f.keys() if k.startswith(prefix)}
    for name in ("enorm.weight", "hnorm.weight", "eh_proj.weight", "shared_head.norm.weight"):
        assert name in mtp
    assert torch.equal(mtp["shared_head.head.weight"], model.lm_head.weight)
    assert torch.equal(mtp["embed_tokens.weight"], model.embed_tokens.weight)

    hf = Glm4MoeForCausalLM.from_pretrained(exported).eval()
    block = Glm4MoeDecoderLayer(hf.config, layer_idx=CFG.num_hidden_layers).eval()
    experts = range(CFG.n_routed_experts)
    fused = {
        "mlp.experts.gate_up_proj": torch.stack(
            [
                torch.cat([mtp[f"mlp.experts.{j}.gate_proj.weight"], mtp[f"mlp.experts.{j}.up_proj.weight"]])
                for j in experts
            ]
        ),
        "mlp.experts.down_proj": torch.stack([mtp[f"mlp.experts.{j}.down_proj.weight"] for j in experts]),
    }
    block.load_state_dict({k: v for k, v in mtp.items() if k in block.state_dict()} | fused, strict=True)
    norms = {n: Glm4MoeRMSNorm(CFG.hidden_size, CFG.rms_norm_eps) for n in ("enorm", "hnorm", "head")}
    for n, key in (("enorm", "enorm"), ("hnorm", "hnorm"), ("head", "shared_head.norm")):
        norms[n].weight.data.copy_(mtp[f"{key}.weight"])

    seq = 16
    ids = torch.randint(2, 128, (2, seq), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ours = model(ids, return_logits=True).mtp_logits
        hidden = hf.model(ids).last_hidden_state  # after the final norm, as serving engines feed it
        next_ids = torch.cat([ids[:, 1:], torch.full((2, 1), CFG.pad_token_id)], dim=1)
        x = torch.cat([norms["enorm"](hf.model.embed_tokens(next_ids)), norms["hnorm"](hidden)], dim=-1)
        x = x @ mtp["eh_proj.weight"].T
        positions = torch.arange(seq)[None].expand(2, -1)
        causal = torch.full((seq, seq), float("-inf")).triu(1)[None, None]
        x = block(
            x,
            attention_mask=causal,
            position_ids=positions,
            position_embeddings=hf.model.rotary_emb(x, positions),
        )
        theirs = hf.lm_head(norms["head"](x))
    assert ours.abs().mean() > 0.1
    assert (ours - theirs).abs().max().item() < 1e-5


def test_hf_names_follow_glm_checkpoints():
    names = to_hf_state_dict(GLM4MoE(CFG).state_dict(), CFG)
    assert "model.layers.0.mlp.gate_proj.weight" in names  # dense first layer
    assert "model.layers.1.mlp.experts.3.up_proj.weight" in names
    assert "model.layers.1.mlp.shared_experts.down_proj.weight" in names
    assert "model.layers.1.self_attn.q_norm.weight" in names
    assert "model.layers.2.eh_proj.weight" in names and "model.layers.2.mlp.gate.weight" in names
    assert not any("rotary" in n or n.startswith("mtp.") for n in names)
