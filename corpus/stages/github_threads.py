"""``github_threads``: GitHub exports of repositories → one document per linked thread of
issues, pull requests and commits (:mod:`corpus.github.threads`: linking, ``git show``-style
diffs, bot filtering, per-thread ``username_N``, PII redaction).

``repos`` are folders (or globs of folders), one per repository, each holding the export's
files, told apart by name: ``*issues*.json`` / ``.jsonl`` (issues), ``*prs*`` / ``*pulls*``
(pull requests), ``*commits*.jsonl`` (commits with diffs; several files are merged by sha).
A JSON file may hold an array or one object a line. The repository name (``owner/name``, used to
resolve full-URL references and printed once at the top) comes from ``repo_names`` (folder name
→ ``owner/name``), else the folder name. One Spark task per repository.

Rows: ``id`` (hash of repository and thread key), ``text``, ``source`` (``github``), ``repo``,
``issues``/``prs`` (numbers), ``commits`` (shas), ``usernames`` (people replaced),
``redacted`` (e-mails + IP addresses + secrets replaced). Removed rows (one per item):
``github_threads:bot_pr`` (a pull request opened by a bot, with its commits as
``github_threads:bot_pr_commit``), ``github_threads:bad_json`` (a line or file that is not
JSON), ``github_threads:malformed_item`` (no number / sha), ``github_threads:unreadable_file:<Error>``.
The manifest's ``items_in_documents`` (per kind) and ``removed_by_reason`` together account for
every input issue, PR and commit.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import Field

from corpus.engine import fs
from corpus.engine.listing import listing_map
from corpus.github import threads as th
from corpus.stages.base import REASON, Outside, StageContext, StageOutput, StageParams

INPUTS: dict = {}

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.large_string()),
        ("source", pa.string()),
        ("repo", pa.string()),
        ("issues", pa.list_(pa.int64())),
        ("prs", pa.list_(pa.int64())),
        ("commits", pa.list_(pa.string())),
        ("usernames", pa.int32()),
        ("redacted", pa.int32()),
        ("item_kind", pa.string()),
        ("item_key", pa.string()),
        (REASON, pa.string()),
    ]
)
"""``item_kind``/``item_key`` name the input item of a removed row (null on documents)."""


class Params(StageParams):
    repos: list[str] = Field(min_length=1)
    """Repository export folders or globs of them (relative to the working directory)."""
    repo_names: dict[str, str] = Field(default_factory=dict)
    """Folder name → ``owner/name``."""
    source: str = "github"
    max_comment_chars: int = Field(8_000, gt=0)
    max_file_diff_lines: int = Field(400, gt=0)
    max_diff_chars: int = Field(60_000, gt=0)


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    return [
        Outside(p if "://" in p or Path(p).is_absolute() else str(base_dir / p), "glob") for p in params.repos
    ]


def _kind(name: str) -> str | None:
    low = name.lower()
    if not low.endswith((".json", ".jsonl")):
        return None
    for kind, words in (
        ("issue", ("issue",)),
        ("pr", ("prs", "pulls", "pull_request")),
        ("commit", ("commit",)),
    ):
        if any(w in low for w in words):
            return kind
    return None


def _records(path: str) -> tuple[list[Any], int]:
    """JSON values of a file (an array, or one value a line) and how many lines were not JSON."""
    text = fs.read_text(path)
    stripped = text.lstrip()
    if stripped.startswith("["):
        return json.loads(stripped), 0
    out, bad = [], 0
    for line in text.splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
    return out, bad


def _doc_id(repo: str, key: str) -> str:
    return hashlib.blake2b(f"github\x1f{repo}\x1f{key}".encode(), digest_size=16).hexdigest()


def repo_rows(folder: str, repo: str, params: Params) -> Iterator[dict[str, Any]]:
    """Every row of one repository: its thread documents, then its removed items."""
    items: dict[str, dict] = {"issue": {}, "pr": {}, "commit": {}}
    removed: list[tuple[str, str, str]] = []  # (kind, key, reason)
    for name in fs.listdir(folder):
        kind = _kind(name)
        if kind is None:
            continue
        try:
            records, bad = _records(fs.join(folder, name))
        except json.JSONDecodeError:
            removed.append(("file", name, "github_threads:bad_json"))
            continue
        except (OSError, UnicodeDecodeError) as e:
            removed.append(("file", name, f"github_threads:unreadable_file:{type(e).__name__}"))
            continue
        removed += [("line", f"{name}:{i}", "github_threads:bad_json") for i in range(bad)]
        for r in records:
            key = (
                r.get("sha")
                if kind == "commit" and isinstance(r, dict)
                else r.get("number")
                if isinstance(r, dict)
                else None
            )
            if key is None:
                removed.append((kind, name, "github_threads:malformed_item"))
            else:
                items[kind].setdefault(key, r)
    bot_commits: set[str] = set()
    for n, pr in list(items["pr"].items()):
        if th.is_bot(pr.get("author")):
            removed.append(("pr", str(n), "github_threads:bot_pr"))
            bot_commits |= {c.get("oid") for c in pr.get("commits") or []}
            del items["pr"][n]
    in_other_prs = {c.get("oid") for pr in items["pr"].values() for c in pr.get("commits") or []}
    for sha in sorted(bot_commits - in_other_prs):
        if items["commit"].pop(sha, None) is not None:
            removed.append(("commit", sha, "github_threads:bot_pr_commit"))
    limits = th.Limits(params.max_comment_chars, params.max_file_diff_lines, params.max_diff_chars)
    everyone = th.people(
        list(items["issue"].values()), list(items["pr"].values()), list(items["commit"].values()), repo
    )
    for thread in th.link(items["issue"], items["pr"], items["commit"], repo):
        doc = th.render(thread, items["issue"], items["pr"], items["commit"], repo, limits, everyone)
        yield {
            "id": _doc_id(repo, thread.key),
            "text": doc.text,
            "source": params.source,
            "repo": repo,
            "issues": thread.issues,
            "prs": thread.prs,
            "commits": thread.commits,
            "usernames": doc.usernames,
            "redacted": sum(doc.redactions.values()),
            "item_kind": None,
            "item_key": None,
            REASON: None,
        }
    for kind, key, reason in removed:
        yield {
            "id": _doc_id(repo, f"removed:{kind}:{key}:{reason}"),
            "text": None,
            "source": params.source,
            "repo": repo,
            "issues": [],
            "prs": [],
            "commits": [],
            "usernames": 0,
            "redacted": 0,
            "item_kind": kind,
            "item_key": key,
            REASON: reason,
        }


def threads_batch(batch: pa.RecordBatch, params: Params) -> Iterator[pa.RecordBatch]:
    """Rows of the repositories named in ``batch`` (columns ``folder``, ``repo``)."""
    for folder, repo in zip(
        batch.column("folder").to_pylist(), batch.column("repo").to_pylist(), strict=True
    ):
        rows = list(repo_rows(folder, repo, params))
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=SCHEMA)


def repo_folders(patterns: list[str]) -> list[str]:
    """Folders the patterns name (a folder, or a glob matching folders), sorted, keeping the
    pattern's protocol (``s3a://`` stays as given)."""
    import fsspec

    out: set[str] = set()
    for pattern in patterns:
        fsys, path = fsspec.core.url_to_fs(pattern)
        prefix = pattern.split("://", 1)[0] + "://" if "://" in pattern else ""
        hits = fsys.glob(path) if any(c in path for c in "*?[") else [path]
        out |= {prefix + h if prefix and not h.startswith(prefix) else h for h in hits if fsys.isdir(h)}
    return sorted(out)


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    folders = repo_folders([ctx.resolve(p) for p in params.repos])
    names = [posixpath.basename(f.rstrip("/")) for f in folders]
    listing = [(f, params.repo_names.get(n, n)) for f, n in zip(folders, names, strict=True)]
    table = pa.table(
        {
            "folder": pa.array([f for f, _ in listing], pa.string()),
            "repo": pa.array([r for _, r in listing], pa.string()),
        }
    )

    def after_write(kept) -> dict[str, Any]:
        (r,) = kept.agg(
            F.count("*").alias("documents"),
            F.sum(F.size("issues")).alias("issue"),
            F.sum(F.size("prs")).alias("pr"),
            F.sum(F.size("commits")).alias("commit"),
            F.sum("redacted").alias("redacted"),
        ).collect()
        return {
            "documents": r["documents"],
            "items_in_documents": {k: int(r[k] or 0) for k in ("issue", "pr", "commit")},
            "redacted": int(r["redacted"] or 0),
        }

    rows = listing_map(
        ctx.spark, table, lambda b: threads_batch(b, params), from_arrow_schema(SCHEMA), len(listing)
    )
    return StageOutput(rows=rows, after_write=after_write, metrics={"repos": [name for _, name in listing]})
