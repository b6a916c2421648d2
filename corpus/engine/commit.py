"""Commit a stage: a stage writes into ``<output>/.<stage>.tmp-<id>/`` (its artifacts into
``….artifacts`` beside it, moved under ``tmp/artifacts`` once the rows are written) and the
folder is renamed into place with its manifest written last, so a killed run leaves either
the previous committed dataset or nothing at ``<output>/<stage>/``."""

from __future__ import annotations

import uuid
from typing import Any

from corpus.engine import fs
from corpus.stages.base import ARTIFACTS


def staging_folder(output: str, name: str) -> str:
    """A fresh temporary folder name for stage ``name`` (cleaned by :func:`clean_stale`)."""
    return fs.join(output, f".{name}.tmp-{uuid.uuid4().hex[:12]}")


def commit_artifacts(staged: str, tmp: str) -> list[dict[str, Any]]:
    """Move the stage's artifact files under ``tmp/artifacts`` and list them with size and
    sha256 (the manifest's ``artifacts``); no folder when the stage wrote none."""
    files = fs.walk_files(staged)
    if not files:
        fs.remove(staged)
        return []
    target = fs.join(tmp, ARTIFACTS)
    fs.rename(staged, target)
    return [
        {
            "file": f"{ARTIFACTS}/{rel}",
            "bytes": fs.size(fs.join(target, rel)),
            "sha256": fs.sha256(fs.join(target, rel)),
        }
        for rel in files
    ]


def swap_into_place(tmp: str, final: str, output: str, name: str) -> None:
    """Replace ``final`` by the finished ``tmp`` folder (the old one removed afterwards)."""
    old = fs.join(output, f".{name}.old-{uuid.uuid4().hex[:12]}")
    if fs.exists(final):
        fs.rename(final, old)
    fs.rename(tmp, final)
    fs.remove(old)


def clean_stale(output: str, name: str) -> None:
    """Remove leftovers of an interrupted run of this stage (tmp, artifacts and old folders)."""
    for entry in fs.listdir(output):
        if entry.startswith((f".{name}.tmp-", f".{name}.old-")):
            fs.remove(fs.join(output, entry))
