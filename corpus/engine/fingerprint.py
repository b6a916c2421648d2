"""Fingerprints of the files a stage reads from outside the pipeline's output.

A stage module declares them with ``outside_files(params, base_dir) -> list[Outside]``
(:class:`corpus.stages.base.Outside`); an artifact role bound to a plain folder (not a
committed stage) is one too. ``plan`` resolves them before anything runs, so a missing file is
one line at ``corpus validate`` time, and a changed one reruns the stage:

* ``file``: sha256 of the content up to :data:`SMALL_FILE_BYTES` (manifests, templates,
  tokenizers, fastText models), else size + modification time;
* ``glob``: every match (sorted) with its size and modification time, so touching, adding or
  removing a matched file changes it; the matches are recorded as the files a source read;
* ``tree``: size + modification time of every file below a folder, by relative name (model
  folders: hashing gigabytes of weights on every plan would cost more than the run it saves);
* ``git``: the commit id ``ref`` resolves to (``git rev-parse``, or ``git ls-remote`` for a
  URL); read-only.

Each resolved entry is ``{path, kind, fingerprint}`` (globs add ``files: [{path, bytes,
mtime}]``), JSON-ready for the manifest; ``path`` is relative to the base directory when the
file lies below it (a moved checkout keeps its content hashes), else absolute or a URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from corpus import stages
from corpus.engine import fs
from corpus.engine.manifest import read_manifest
from corpus.errors import UserError
from corpus.spec import Pipeline, StageSpec, is_dataset_path
from corpus.stages.base import Outside

SMALL_FILE_BYTES = 8 << 20
"""Files up to this size are content-hashed; larger ones are fingerprinted by size + mtime."""
SAMPLE = "data/sample/sample.warc.gz"
SAMPLE_HINT = f"run `make sample` (or `make demo`) first to build {SAMPLE}"
MISSING = "missing"
"""Fingerprint of an optional outside file that is absent (its appearance reruns the stage)."""

Entry = dict[str, Any]


def declared(spec: StageSpec, base_dir: Path) -> list[tuple[Outside, str | None]]:
    """The stage's outside files, each with the YAML field that names it when known (artifact
    roles bound to a plain folder: ``inputs.<role>``)."""
    fn = getattr(stages.load(spec.kind), "outside_files", None)
    out: list[tuple[Outside, str | None]] = [(o, None) for o in (fn(spec.params, base_dir) if fn else [])]
    for role, ref in spec.bindings:
        if spec.roles[role].kind == "artifact" and is_dataset_path(ref) and read_manifest(ref) is None:
            out.append((Outside(ref, "tree"), f"inputs.{role}"))
    return out


def resolve(pipeline: Pipeline, spec: StageSpec, base_dir: Path | None = None) -> list[Entry]:
    """Fingerprint every outside file of ``spec``. Raises :class:`UserError` (one line naming
    the pipeline file, stage, field and path tried, with a hint) for a required file that is
    missing, a glob that matches nothing, or a git ref that does not resolve."""
    base_dir = base_dir or Path.cwd()
    where = f"{pipeline.path}: stage {spec.index} ({spec.name})"
    try:
        outs = declared(spec, base_dir)
    except UserError as e:
        raise UserError(f"{where}: {e}") from None
    except OSError as e:  # e.g. a list file that exists but cannot be read
        raise UserError(f"{where}: cannot read {e.filename or 'an input file'}: {e.strerror or e}") from None
    entries = []
    for o, field in outs:
        url = _absolute(o.path, base_dir)
        try:
            fingerprint, files = _fingerprint(o, url, base_dir)
        except OSError as e:
            raise UserError(f"{where}: cannot read {url}: {e.strerror or e}") from None
        if fingerprint is None:
            if o.required:
                raise UserError(_missing_line(where, o, url, field, outs, spec, base_dir))
            fingerprint = MISSING
        entry: Entry = {"path": _display(url, base_dir), "kind": o.kind, "fingerprint": fingerprint}
        if o.ref is not None:
            entry["ref"] = o.ref
        if files is not None:
            entry["files"] = files
        entries.append(entry)
    return entries


def combined(entries: list[Entry]) -> str:
    """One sha256 over all entries (``outside_fingerprint`` in the manifest)."""
    blob = json.dumps([[e["path"], e["kind"], e["fingerprint"]] for e in entries], separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def first_change(recorded: list[Entry] | None, current: list[Entry]) -> str | None:
    """The first path whose fingerprint differs between a manifest's ``outside_files`` and
    now (for a glob: the first matched file added, removed or rewritten), or None. A manifest
    written before fingerprints existed (``recorded`` None) differs when the stage has any."""
    if recorded is None:
        return current[0]["path"] if current else None
    old = {(e["path"], e["kind"]): e for e in recorded}
    for e in current:
        before = old.pop((e["path"], e["kind"]), None)
        if before is None:
            return e["path"]
        if before["fingerprint"] != e["fingerprint"]:
            return _changed_file(before.get("files"), e.get("files")) or e["path"]
    return next(iter(old))[0] if old else None


def _changed_file(before: list[Entry] | None, now: list[Entry] | None) -> str | None:
    if before is None or now is None:
        return None
    a = {f["path"]: f for f in before}
    b = {f["path"]: f for f in now}
    return next((p for p in sorted(a.keys() | b.keys()) if a.get(p) != b.get(p)), None)


def _fingerprint(o: Outside, url: str, base_dir: Path) -> tuple[str | None, list[Entry] | None]:
    """``(fingerprint, matched files or None)``; fingerprint None when the thing is absent.
    Names inside fingerprints are relative (to ``base_dir``, or to a tree's root), so a moved
    checkout with its output keeps them."""
    if o.kind == "file":
        if not fs.is_file(url):
            return None, None
        info = fs.info(url)
        size = int(info["size"])
        if size <= SMALL_FILE_BYTES:
            return f"sha256:{fs.sha256(url)}", None
        return f"size:{size},mtime:{fs.mtime_token(url, info)}", None
    if o.kind == "glob":
        files = [{**f, "path": _display(f["path"], base_dir)} for f in _files(fs.match(url))]
        return (_digest(files), files) if files else (None, None)
    if o.kind == "tree":
        if not fs.is_dir(url):
            return None, None
        root = url.rstrip("/") + "/"
        files = [{**f, "path": f["path"].removeprefix(root)} for f in _files(fs.match(url))]
        return _digest(files), None
    if o.kind == "git":
        commit = _git_commit(url, o.ref or "HEAD")
        return (f"git:{commit}" if commit else None), None
    raise ValueError(f"unknown outside kind {o.kind!r}")


def _files(matches: dict[str, dict]) -> list[Entry]:
    return [
        {"path": u, "bytes": int(i.get("size") or 0), "mtime": fs.mtime_token(u, i)}
        for u, i in matches.items()
    ]


def _digest(files: list[Entry]) -> str:
    blob = json.dumps([[f["path"], f["bytes"], f["mtime"]] for f in files], separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _git_commit(repo: str, ref: str) -> str | None:
    """The commit ``ref`` names in ``repo`` (a local folder, or a URL via ``ls-remote``)."""
    remote = "://" in repo and not repo.startswith("file://")
    cmd = (
        ["git", "ls-remote", "--", repo, ref]
        if remote
        else [
            "git",
            "-C",
            repo.removeprefix("file://"),
            "rev-parse",
            "--verify",
            "--quiet",
            f"{ref}^{{commit}}",
        ]
    )
    try:
        r = subprocess.run(
            cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        )
    except FileNotFoundError:
        raise UserError("git is not installed (needed to fingerprint a git input)") from None
    words = r.stdout.split()
    return words[0] if r.returncode == 0 and words else None


def _absolute(path: str, base_dir: Path) -> str:
    if "://" in path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base_dir, path))


def _display(url: str, base_dir: Path) -> str:
    if "://" in url or not os.path.isabs(url):
        return url
    rel = os.path.relpath(url, base_dir)
    return url if rel.startswith("..") else Path(rel).as_posix()


def _field_of(spec: StageSpec, o: Outside, base_dir: Path) -> tuple[str, str] | None:
    """``(parameter, value)`` of the parameter naming ``o``: its value is ``o``'s path (as
    written or resolved against ``base_dir``), else a folder above it."""
    target = _absolute(o.path, base_dir)
    for exact in (True, False):
        for name, value in spec.params.model_dump().items():
            for v in value if isinstance(value, list) else [value]:
                if not isinstance(v, str) or not v:
                    continue
                full = _absolute(v, base_dir)
                if target == full if exact else target.startswith(full.rstrip("/") + "/"):
                    return name, v
    return None


def _missing_line(
    where: str,
    o: Outside,
    url: str,
    field: str | None,
    outs: list[tuple[Outside, str | None]],
    spec: StageSpec,
    base_dir: Path,
) -> str:
    """One line: what was not found, the field and path tried, and how to fix it."""
    hints = []
    named = (field, o.path) if field else _field_of(spec, o, base_dir)
    if named is not None:
        label = f"field {named[0]!r}"
        if "://" not in named[1] and not os.path.isabs(named[1]):
            hints.append(f"relative paths resolve against the working directory {base_dir}")
    else:  # not named by a parameter: an entry of a list file the stage reads (warc's manifest)
        lists = [(x, _field_of(spec, x, base_dir)) for x, _ in outs if x.kind == "file" and x is not o]
        lists = [(x, f) for x, f in lists if f is not None]
        label = f"field {lists[0][1][0]!r} (an entry of {lists[0][0].path})" if lists else "input"
        if lists:
            hints.append("relative entries resolve against the list file's folder")
    what = {
        "file": "file not found:",
        "glob": "no file matches",
        "tree": "folder not found:",
        "git": f"git ref {o.ref or 'HEAD'!r} does not resolve in",
    }[o.kind]
    if url.replace(os.sep, "/").endswith(SAMPLE):
        hints.append(SAMPLE_HINT)
    return f"{where}: {label}: {what} {url}" + (f" ({'; '.join(hints)})" if hints else "")
