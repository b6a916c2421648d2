"""Named GLM-4.5 shapes, their CPU-sized "debug" flavours, parameter counts and the meta build.

The full shapes follow the released ``config.json`` of ``zai-org/GLM-4.5`` and
``zai-org/GLM-4.5-Air`` (also the Megatron arguments of THUDM's slime training scripts):

============  ======  ======  =======  =========  ===========  =======  ==========  ===========
model         hidden  layers  dense    heads/kv   experts      MoE FFN  dense FFN   routed x
============  ======  ======  =======  =========  ===========  =======  ==========  ===========
GLM-4.5       5120    92      3        96 / 8     160 top-8+1  1536     12288       2.5, QK-norm
GLM-4.5-Air   4096    46      1        96 / 8     128 top-8+1  1408     10944       1.0
============  ======  ======  =======  =========  ===========  =======  ==========  ===========

both with head_dim 128, partial RoPE 0.5, q/k/v bias, vocab 151,552 and one MTP layer.

**Counting convention** (``param_counts``), the one under which the published 355B / 32B and
106B / 12B both hold: *total* is every parameter of the main model, embeddings and output head
included, the MTP layer excluded (it is reported apart); *active* is what one token's forward
multiplies through — attention, dense MLPs, routers, the shared expert and ``top_k`` of the
routed experts, norms and biases — without the embedding table and the output head
(GLM-4.5: 352.8B / 32.1B; Air: 106.9B / 12.2B).

**Meta build** (``build_meta``): the module tree on ``torch.device("meta")`` holds shapes only,
no memory; ``materialize`` then allocates each parameter on the target device (after
``fully_shard``: only this rank's shard) and initialises it with ``init_parameters``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import xxhash
from torch import nn

from corpus.train.model import GLM4MoE, ModelConfig

_GLM_COMMON = dict(
    vocab_size=151552,
    head_dim=128,
    num_attention_heads=96,
    num_key_value_heads=8,
    partial_rotary_factor=0.5,
    attention_bias=True,
    n_shared_experts=1,
    num_experts_per_tok=8,
    num_nextn_predict_layers=1,
    rope_theta=1_000_000.0,
    pad_token_id=151329,
    eos_token_id=151329,
)

PRESETS: dict[str, ModelConfig] = {
    "glm45": ModelConfig(
        **_GLM_COMMON,
        hidden_size=5120,
        intermediate_size=12288,
        moe_intermediate_size=1536,
        num_hidden_layers=92,
        first_k_dense_replace=3,
        n_routed_experts=160,
        routed_scaling_factor=2.5,
        use_qk_norm=True,
    ),
    "glm45-air": ModelConfig(
        **_GLM_COMMON,
        hidden_size=4096,
        intermediate_size=10944,
        moe_intermediate_size=1408,
        num_hidden_layers=46,
        first_k_dense_replace=1,
        n_routed_experts=128,
        routed_scaling_factor=1.0,
        use_qk_norm=False,
    ),
    # CPU flavours of the same shape: 2.5x (Air: 3x) the usual heads for the hidden size
    # (hidden / head_dim = 8 -> 20 / 24 heads), GQA, partial RoPE, dense first layer(s), a shared
    # expert, top-k of many experts, GLM's routed scaling, MTP.
    "glm45-debug": ModelConfig(
        vocab_size=4096,
        hidden_size=256,
        intermediate_size=640,
        moe_intermediate_size=80,
        num_hidden_layers=4,
        first_k_dense_replace=1,
        num_attention_heads=20,
        num_key_value_heads=2,
        head_dim=32,
        partial_rotary_factor=0.5,
        attention_bias=True,
        use_qk_norm=True,
        n_routed_experts=16,
        num_experts_per_tok=4,
        n_shared_experts=1,
        routed_scaling_factor=2.5,
        num_nextn_predict_layers=1,
        rope_theta=10000.0,
        pad_token_id=0,
        eos_token_id=0,
    ),
    "glm45-air-debug": ModelConfig(
        vocab_size=4096,
        hidden_size=256,
        intermediate_size=576,
        moe_intermediate_size=72,
        num_hidden_layers=3,
        first_k_dense_replace=1,
        num_attention_heads=24,
        num_key_value_heads=2,
        head_dim=32,
        partial_rotary_factor=0.5,
        attention_bias=True,
        use_qk_norm=False,
        n_routed_experts=16,
        num_experts_per_tok=4,
        n_shared_experts=1,
        routed_scaling_factor=1.0,
        num_nextn_predict_layers=1,
        rope_theta=10000.0,
        pad_token_id=0,
        eos_token_id=0,
    ),
}


def preset(name: str, **overrides) -> ModelConfig:
    """A named shape (``PRESETS``) with field overrides; unknown names raise ``ValueError``."""
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; known: {sorted(PRESETS)}")
    return dataclasses.replace(PRESETS[name], **overrides)


def model_config(data: dict) -> ModelConfig:
    """The train YAML's ``model:`` mapping: ``preset: NAME`` plus overrides, or every field."""
    data = dict(data)
    name = data.pop("preset", None)
    if name is None:
        return ModelConfig.from_dict(data)
    unknown = set(data) - {f.name for f in dataclasses.fields(ModelConfig)}
    if unknown:
        raise ValueError(f"unknown model config keys: {sorted(unknown)}")
    return preset(name, **data)


@dataclass(frozen=True)
class ParamCounts:
    total: int  # main model, embeddings and output head included, MTP layer excluded
    active: int  # per token, embeddings and output head excluded, MTP excluded
    embeddings: int  # input embedding + output head
    mtp_total: int  # the MTP layer's own parameters (it shares embedding and head)
    mtp_active: int


def param_counts(model: nn.Module) -> ParamCounts:
    """Counts from the module's parameters (works on the meta device: no memory).

    Routed experts are the stacked ``*.experts.*`` tensors ``[E, ...]``: a token uses
    ``top_k / E`` of each.
    """
    cfg: ModelConfig = model.cfg
    share = cfg.num_experts_per_tok / cfg.n_routed_experts
    total = active = emb = mtp_total = mtp_active = 0
    for name, p in model.named_parameters():
        n = p.numel()
        used = n * share if ".experts." in name and ".shared_experts." not in name else n
        if name.startswith("mtp."):
            mtp_total, mtp_active = mtp_total + n, mtp_active + used
        elif name in ("embed_tokens.weight", "lm_head.weight"):
            total, emb = total + n, emb + n
        else:
            total, active = total + n, active + used
    return ParamCounts(int(total), round(active), int(emb), int(mtp_total), round(mtp_active))


def build_meta(cfg: ModelConfig) -> GLM4MoE:
    """The model's module tree on the meta device: shapes and names, no storage."""
    with torch.device("meta"):
        return GLM4MoE(cfg, init=False)


# Rows of a 2-D parameter drawn from one generator: the unit of the sharding-independent init.
INIT_BLOCK_ROWS = 256


def fill_rows(out: torch.Tensor, name: str, shape: torch.Size, start: int, std: float, seed: int) -> None:
    """Write rows ``[start, start + len(out))`` (dim 0) of the N(0, std) init of parameter ``name``
    (global ``shape``) into ``out``.

    Block ``b`` of dim 0 (``INIT_BLOCK_ROWS`` rows of a matrix, one expert of a stacked
    ``[E, out, in]`` tensor) is drawn from its own generator seeded by ``(seed, name, b)``, in
    ``out``'s dtype, so any rank can draw exactly the rows it holds and every sharding gives
    the same weights. Blocks inside ``out`` are drawn in place; only a block cut by the shard
    edge is drawn whole into a temporary (peak memory: the parameter plus one block).
    """
    per = 1 if len(shape) >= 3 else INIT_BLOCK_ROWS
    stop = start + out.shape[0]
    blocks = range(start // per, -(-stop // per)) if stop > start else range(0)
    for b in blocks:
        lo, hi = b * per, min((b + 1) * per, shape[0])
        g = torch.Generator().manual_seed(xxhash.xxh64_intdigest(f"init:{seed}:{name}:{b}".encode()) >> 1)
        if start <= lo and hi <= stop:
            out[lo - start : hi - start].normal_(0.0, std, generator=g)
        else:
            block = torch.empty((hi - lo, *shape[1:]), dtype=out.dtype).normal_(0.0, std, generator=g)
            a, z = max(start, lo), min(stop, hi)
            out[a - start : z - start].copy_(block[a - lo : z - lo])


def _row_block_normal(
    name: str, shape: torch.Size, start: int, stop: int, std: float, seed: int
) -> torch.Tensor:
    """Rows ``[start, stop)`` of the init of ``name`` as a new fp32 tensor (see ``fill_rows``)."""
    out = torch.empty((stop - start, *shape[1:]))
    fill_rows(out, name, shape, start, std, seed)
    return out


def _local_rows(p: torch.Tensor) -> tuple[int, int]:
    """The dim-0 rows of the global parameter this rank holds: all of them, or its
    ``Shard(0)`` chunk (``torch.chunk`` rule: ``ceil(rows / world)`` per rank, the last shorter)."""
    from torch.distributed.tensor import DTensor, Shard

    if not isinstance(p, DTensor):
        return 0, p.shape[0]
    (placement,) = p.placements
    if not isinstance(placement, Shard) or placement.dim != 0:
        raise ValueError(f"expected a Shard(0) parameter, got {p.placements}")
    world, rank = p.device_mesh.size(), p.device_mesh.get_local_rank()
    chunk = -(-p.shape[0] // world)
    start = min(rank * chunk, p.shape[0])
    return start, min(start + chunk, p.shape[0])


@torch.no_grad()
def init_parameters(model: GLM4MoE, seed: int) -> None:
    """GLM4MoE's init — N(0, initializer_range) matrices, zero biases, unit norms, zero balance
    biases — drawn per row block from ``(seed, name, block)``: a rank initialises only the rows
    it holds, and 1 process or N give identical weights."""
    from torch.distributed.tensor import DTensor

    std = model.cfg.initializer_range
    for name, p in model.named_parameters():
        local = p.to_local() if isinstance(p, DTensor) else p
        if p.ndim >= 2:
            start, stop = _local_rows(p)
            if local.device.type == "cpu":
                fill_rows(local, name, p.shape, start, std, seed)
            else:  # generators are CPU ones: draw there, copy over
                cpu = torch.empty(local.shape, dtype=local.dtype)
                fill_rows(cpu, name, p.shape, start, std, seed)
                local.copy_(cpu)
        elif name.endswith("bias"):
            local.zero_()
        else:
            local.fill_(1.0)
    for router in model.routers():
        router.e_score_correction_bias.zero_()
    model.set_rope_theta(model.cfg.rope_theta)  # the non-persistent inv_freq buffer


def materialize(model: GLM4MoE, device: torch.device, seed: int) -> GLM4MoE:
    """Allocate a meta-built (possibly ``fully_shard``-ed) model on ``device`` — each rank only
    its shards — and initialise it with ``init_parameters``."""
    model.to_empty(device=device)
    init_parameters(model, seed)
    return model
