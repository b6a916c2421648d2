"""Checkpoints: one folder per step, written atomically, the last ``keep_last`` kept.

```
<output>/checkpoints/step-00000120/
    state.pt    tensors and plain containers only (loads with ``weights_only=True``): the model
                (balance-bias buffers included), both optimisers, the RNG states
    meta.json   everything else: step, tokens seen, stage index, the stage's data cursor,
                RoPE theta, the model config and the train config
```

A folder is written under a hidden temporary name and renamed into place, so a crash leaves
either the previous checkpoint or a complete new one — never a half-written ``step-*``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch

STEP_RE = re.compile(r"^step-(\d{8})$")
STATE, META = "state.pt", "meta.json"


def checkpoint_dirs(root: Path) -> list[Path]:
    """Complete checkpoints under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = [
        p for p in root.iterdir() if STEP_RE.match(p.name) and (p / META).is_file() and (p / STATE).is_file()
    ]
    return sorted(found, key=lambda p: int(STEP_RE.match(p.name).group(1)))


def latest(root: Path) -> Path | None:
    dirs = checkpoint_dirs(root)
    return dirs[-1] if dirs else None


def save(root: Path, step: int, tensors: dict[str, Any], meta: dict[str, Any], keep_last: int) -> Path:
    """Write ``step-NNNNNNNN`` atomically, then drop all but the newest ``keep_last``."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:08d}"
    tmp = root / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    torch.save(tensors, tmp / STATE)
    (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for f in (tmp / STATE, tmp / META):
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    if final.exists():  # the same step saved again (e.g. a run stopped and restarted at it)
        shutil.rmtree(final)
    os.rename(tmp, final)
    for old in checkpoint_dirs(root)[:-keep_last]:
        shutil.rmtree(old)
    return final


def load(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(tensors, meta)`` of a checkpoint folder (``weights_only``: no pickle code runs)."""
    if not (path / STATE).is_file() or not (path / META).is_file():
        raise FileNotFoundError(f"{path}: not a checkpoint (expected {STATE} and {META})")
    tensors = torch.load(path / STATE, map_location="cpu", weights_only=True)
    meta = json.loads((path / META).read_text(encoding="utf-8"))
    return tensors, meta


def resolve(path: Path) -> Path:
    """A checkpoint folder, or the newest checkpoint of a run folder / its ``checkpoints/``."""
    if (path / META).is_file():
        return path
    for root in (path / "checkpoints", path):
        found = latest(root)
        if found is not None:
            return found
    raise FileNotFoundError(f"{path}: no checkpoint here (a step-* folder or a run output folder)")
