"""Export to the Hugging Face / GLM-4.5 checkpoint layout.

``export_hf(state_dict, cfg, out_dir)`` writes ``config.json`` (``Glm4MoeConfig``) and
``model.safetensors`` in the layout of GLM's released checkpoints: one tensor per routed
expert (``model.layers.{i}.mlp.experts.{j}.{gate,up,down}_proj.weight``; transformers 5 fuses
them on load), the router as ``mlp.gate.weight`` + ``mlp.gate.e_score_correction_bias``, and
the MTP layer as layer ``model.layers.{num_hidden_layers}.*`` with ``enorm``, ``hnorm``,
``eh_proj``, its decoder block, ``shared_head.norm``, plus copies of the shared
``embed_tokens`` and ``shared_head.head`` (= ``lm_head``) as GLM ships them for serving engines
(vLLM, SGLang) that load the MTP layer for speculative decoding. transformers itself has no MTP
module: it ignores only ``model.layers.46.*`` / ``92.*`` (GLM-4.5-Air / GLM-4.5), so for any
other depth it loads the main model and reports the MTP tensors as unexpected keys.

The mapping functions are pure (state dict in, state dict out) so the trainer's
``corpus train export CKPT --hf DIR`` can call them on a checkpoint's model state.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import torch
from torch import nn

from corpus.train.model import ModelConfig, hf_config

log = logging.getLogger(__name__)

_WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # DDP and torch.compile wrappers
_EXPERT = re.compile(r"^(.*\.mlp\.experts)\.(gate_proj|up_proj|down_proj)$")


def _plain_name(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _WRAPPER_PREFIXES:
            if name.startswith(prefix):
                name, changed = name[len(prefix) :], True
    return name


def hf_name(name: str, cfg: ModelConfig) -> str:
    """Our parameter/buffer name -> GLM checkpoint name (stacked experts keep their stem)."""
    name = _plain_name(name)
    if name == "lm_head.weight":
        return name
    if name.startswith("mtp."):
        return f"model.layers.{cfg.num_hidden_layers}.{name[len('mtp.') :]}"
    return f"model.{name}"


def mtp_hf_prefix(cfg: ModelConfig) -> str:
    return f"model.layers.{cfg.num_hidden_layers}."


def to_hf_state_dict(state_dict: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """GLM on-disk layout: experts split per expert, MTP under ``model.layers.{L}``."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state_dict.items():
        target = hf_name(name, cfg)
        match = _EXPERT.match(target)
        if match:
            stem, proj = match.groups()
            for j in range(tensor.shape[0]):
                out[f"{stem}.{j}.{proj}.weight"] = tensor[j]
        else:
            out[target] = tensor
    if cfg.num_nextn_predict_layers:
        prefix = mtp_hf_prefix(cfg)
        out[prefix + "embed_tokens.weight"] = out["model.embed_tokens.weight"]
        out[prefix + "shared_head.head.weight"] = out["lm_head.weight"]
    return out


def to_transformers_state_dict(
    state_dict: dict[str, torch.Tensor], cfg: ModelConfig
) -> dict[str, torch.Tensor]:
    """In-memory layout of transformers 5's ``Glm4MoeForCausalLM`` (experts fused as
    ``gate_up_proj`` [E, 2I, H]); the MTP layer, which it does not model, is left out."""
    out: dict[str, torch.Tensor] = {}
    halves: dict[str, dict[str, torch.Tensor]] = {}
    for name, tensor in state_dict.items():
        if _plain_name(name).startswith("mtp."):
            continue
        target = hf_name(name, cfg)
        match = _EXPERT.match(target)
        if not match:
            out[target] = tensor
        elif match.group(2) == "down_proj":
            out[f"{match.group(1)}.down_proj"] = tensor
        else:
            halves.setdefault(f"{match.group(1)}.gate_up_proj", {})[match.group(2)] = tensor
    for key, parts in halves.items():
        out[key] = torch.cat((parts["gate_proj"], parts["up_proj"]), dim=1)
    return out


TOKENIZER_CONFIGS = ("tokenizer_config.json", "special_tokens_map.json")


def export_tokenizer(tokenizer_json: Path, out: Path) -> None:
    """``tokenizer.json`` (the very bytes training used) and the transformers config files
    beside the weights: copied from the tokenizer's folder when it has them (a tokenize
    stage's artifact does), else written with the project's eos/pad tokens."""
    import shutil

    from tokenizers import Tokenizer

    from corpus.tokens.tokenizer import save

    src = tokenizer_json.parent
    if all((src / name).is_file() for name in TOKENIZER_CONFIGS[:1]):
        for name in TOKENIZER_CONFIGS:
            if (src / name).is_file():
                shutil.copyfile(src / name, out / name)
    else:
        save(Tokenizer.from_file(str(tokenizer_json)), out)
    shutil.copyfile(tokenizer_json, out / "tokenizer.json")


def _readable(out: Path) -> None:
    """The files the export wrote, as readable as the umask allows (safetensors writes its
    file owner-only); anything else in the folder is left alone."""
    import os

    mask = os.umask(0)
    os.umask(mask)
    for name in (
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "tokenizer.json",
        *TOKENIZER_CONFIGS,
    ):
        if (out / name).is_file():
            (out / name).chmod(0o666 & ~mask)


def export_hf(
    model_or_state_dict: nn.Module | dict[str, torch.Tensor],
    cfg: ModelConfig,
    out_dir: str | Path,
    dtype: torch.dtype | None = None,
    tokenizer: Path | None = None,
) -> Path:
    """Write ``config.json`` + ``model.safetensors`` that ``Glm4MoeForCausalLM.from_pretrained``
    loads; ``dtype`` casts floating tensors (e.g. ``torch.bfloat16``) except the router bias,
    which GLM keeps in fp32. With ``tokenizer`` (a ``tokenizer.json``) its files go beside the
    weights, so ``AutoTokenizer.from_pretrained(out_dir)`` works too."""
    from safetensors.torch import save_file

    state = (
        model_or_state_dict.state_dict()
        if isinstance(model_or_state_dict, nn.Module)
        else model_or_state_dict
    )
    tensors = {}
    for name, t in to_hf_state_dict(state, cfg).items():
        t = t.detach().to("cpu")
        if dtype is not None and t.is_floating_point() and not name.endswith("e_score_correction_bias"):
            t = t.to(dtype)
        tensors[name] = t.contiguous().clone()  # safetensors refuses shared storage
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hf_config(cfg).save_pretrained(out)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    if tokenizer is not None:
        export_tokenizer(Path(tokenizer), out)
    _readable(out)
    n_mtp = sum(name.startswith(mtp_hf_prefix(cfg)) for name in tensors)
    if n_mtp:
        ignored = cfg.num_hidden_layers in (46, 92)
        log.info(
            "wrote %d MTP tensors under %s* (GLM naming, used by vLLM/SGLang for speculative "
            "decoding); transformers %s",
            n_mtp,
            mtp_hf_prefix(cfg),
            "ignores them" if ignored else "loads the model without them and reports them as unexpected keys",
        )
    log.info("exported %d tensors to %s", len(tensors), out)
    return out
