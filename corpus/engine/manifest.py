"""``_manifest.json``: the commit marker of a dataset, and what ``corpus verify`` checks.

A stage folder without a manifest is an interrupted write and is never read downstream.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from corpus.engine import fs
from corpus.errors import UserError
from corpus.stages.base import ARTIFACTS

MANIFEST = "_manifest.json"
REMOVED = "_removed"
SHARD_RE = re.compile(r"^part-\d{5}\.parquet$")
REASON_GROUP = r"^(.*_of):.*$"
"""Reasons are counted by group: ``minhash_duplicate_of:<id>`` -> ``minhash_duplicate_of``
(the one rule: the writer, ``inspect`` and the report all group with it)."""
_REASON_GROUP_RE = re.compile(REASON_GROUP)


def manifest_path(dataset: str) -> str:
    return fs.join(dataset, MANIFEST)


def read_manifest(dataset: str) -> dict[str, Any] | None:
    """The committed manifest of ``dataset``, or None when it was never committed.

    Raises :class:`UserError` naming the file when it is not a JSON object (damaged by hand
    or by a disk): nothing in it can be trusted, and the user has to remove or restore it."""
    path = manifest_path(dataset)
    if not fs.exists(path):
        return None
    try:
        manifest = json.loads(fs.read_text(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: damaged manifest ({e}); delete the stage folder to rebuild it") from None
    if not isinstance(manifest, dict):
        raise UserError(
            f"{path}: damaged manifest (not a JSON object); delete the stage folder to rebuild it"
        )
    return manifest


def manifest_sha256(dataset: str) -> str:
    return hashlib.sha256(fs.read_text(manifest_path(dataset)).encode("utf-8")).hexdigest()


def write_manifest(dataset: str, manifest: dict[str, Any]) -> None:
    fs.write_text_atomic(manifest_path(dataset), json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def config_hash(payload: dict[str, Any]) -> str:
    """Hash of what determines a stage's output besides its inputs (kind, params, seed, code)."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def reason_group(reason: str) -> str:
    """Group per-row reasons for counting: ``duplicate_of:<id>`` -> ``duplicate_of``."""
    m = _REASON_GROUP_RE.match(reason)
    return m.group(1) if m else reason


def shard_entries(folder: str) -> list[dict[str, Any]]:
    """``{file, rows, bytes, sha256}`` for each ``part-NNNNN.parquet`` in ``folder``."""
    import pyarrow.parquet as pq

    entries = []
    for name in fs.listdir(folder):
        if not SHARD_RE.match(name):
            continue
        path = fs.join(folder, name)
        with fs.open_binary(path) as f:
            rows = pq.ParquetFile(f).metadata.num_rows
        entries.append({"file": name, "rows": rows, "bytes": fs.size(path), "sha256": fs.sha256(path)})
    return entries


def _verify_artifacts(dataset: str, m: dict[str, Any]) -> list[str]:
    """Artifact files missing, altered or not listed (under ``<dataset>/artifacts``)."""
    listed = {e["file"]: e for e in m.get("artifacts", [])}
    present = {f"{ARTIFACTS}/{rel}" for rel in fs.walk_files(fs.join(dataset, ARTIFACTS))}
    problems = [
        f"{fs.join(dataset, f)}: listed in the manifest but missing" for f in sorted(set(listed) - present)
    ]
    problems += [f"{fs.join(dataset, f)}: not listed in the manifest" for f in sorted(present - set(listed))]
    for f in sorted(set(listed) & present):
        if fs.sha256(fs.join(dataset, f)) != listed[f]["sha256"]:
            problems.append(
                f"{fs.join(dataset, f)}: sha256 differs from the manifest (altered after the run)"
            )
    return problems


def verify_dataset(dataset: str) -> list[str]:
    """Problems with one committed dataset (empty list = good): missing, altered or extra
    shards, row counts that disagree, and ``rows_in != kept + removed`` for filters."""
    m = read_manifest(dataset)
    if m is None:
        return [f"{dataset}: no {MANIFEST} (not committed)"]
    problems: list[str] = []
    for sub, key in (("", "shards"), (REMOVED, "removed_shards")):
        folder = fs.join(dataset, sub) if sub else dataset
        listed = {e["file"]: e for e in m.get(key, [])}
        present = {n for n in fs.listdir(folder) if SHARD_RE.match(n)}
        for name in sorted(set(listed) - present):
            problems.append(f"{fs.join(folder, name)}: listed in the manifest but missing")
        for name in sorted(present - set(listed)):
            problems.append(f"{fs.join(folder, name)}: not listed in the manifest")
        for name in sorted(set(listed) & present):
            path = fs.join(folder, name)
            if fs.sha256(path) != listed[name]["sha256"]:
                problems.append(f"{path}: sha256 differs from the manifest (altered after the run)")
    problems += _verify_artifacts(dataset, m)
    kept = sum(e["rows"] for e in m.get("shards", []))
    removed = sum(e["rows"] for e in m.get("removed_shards", []))
    if kept != m.get("rows_kept"):
        problems.append(
            f"{manifest_path(dataset)}: shards hold {kept} rows, manifest says rows_kept={m.get('rows_kept')}"
        )
    if removed != m.get("rows_removed", 0):
        problems.append(
            f"{manifest_path(dataset)}: _removed holds {removed} rows, manifest says rows_removed={m.get('rows_removed')}"
        )
    if m.get("balanced") and m.get("rows_in") != m.get("rows_kept", 0) + m.get("rows_removed", 0):
        problems.append(
            f"{manifest_path(dataset)}: rows_in={m.get('rows_in')} != kept {m.get('rows_kept')} + removed {m.get('rows_removed')}"
        )
    return problems
