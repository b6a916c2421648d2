"""Input files of a source stage: globs and manifest files -> ``(path, key)`` pairs.

``path`` is what the reader opens (absolute path or URI). ``key`` names the file inside
document ids: a local file's path relative to the pipeline's base directory (the repo root),
a remote file's URI as it is. Keys, unlike absolute paths, are the same on a laptop, in CI and
on a cluster that reads the same checkout layout, so the ids of the same records are too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from corpus.engine import fs


def read_manifest(manifest: str) -> list[str]:
    """Entries of a manifest file: one path or glob a line, ``#`` comments and blank lines
    ignored, relative entries resolved against the manifest's own directory."""
    lines = fs.read_text(manifest).splitlines()
    base = manifest.rsplit("/", 1)[0] if "/" in manifest else "."
    remote = "://" in manifest
    out = []
    for line in lines:
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if "://" in entry or os.path.isabs(entry):
            out.append(entry)
        else:
            out.append(f"{base}/{entry}" if remote else os.path.normpath(os.path.join(base, entry)))
    return out


def expand(patterns: Iterable[str]) -> list[str]:
    """Files matching each pattern (a folder means every file below it), sorted, no repeats.

    Raises ``FileNotFoundError`` naming the first pattern that matches nothing: a typo in a
    manifest should stop the run, not yield an empty corpus. Matching is
    :func:`corpus.engine.fs.match`, the same the plan fingerprints, so the run reads exactly
    the files the plan saw.
    """
    found: dict[str, None] = {}
    for pattern in patterns:
        matches = fs.match(pattern)
        if not matches:
            raise FileNotFoundError(f"no input file matches {pattern!r}")
        found.update(dict.fromkeys(matches))
    return sorted(found)


def file_key(path: str, base_dir: Path) -> str:
    """The stable name of ``path`` in ids: relative to ``base_dir`` when local, else the URI."""
    if "://" in path and not path.startswith("file://"):
        return path
    local = path.removeprefix("file://")
    return Path(os.path.relpath(local, base_dir)).as_posix()
