"""``repo_concat``: the kept files of each repository → repository-level training contexts
(GLM-4.5 mid-training: files of one repository concatenated to learn cross-file dependencies).

Per repository (one Spark group): imports are parsed and resolved within the repository, files
are ordered so each comes after the files it imports (:mod:`corpus.code.imports`, DeepSeek-
Coder's order; cycles broken by fewest unplaced dependencies, then path), and cut at file
boundaries into contexts of at most ``budget_tokens``. A context is the repository name once,
then each file as ``<|file_sep|>`` + its path + a newline + its text (StarCoder2's layout with
GLM-4.5's file separator token; the tokenize stage encodes the separator as its control id
for the sources in ``separator_sources``). A file larger than the budget alone is a context of
its own (counted as ``oversized_files``), never cut.

Tokens are counted with the ``tokenizer`` input (a tokenize stage's artifact) when given, else
estimated as characters / ``chars_per_token``.

Rows: ``id``, ``text``, ``source`` (``repo``), ``repo``, ``context`` (its place in the
repository's order), ``files`` (paths in order),
``n_files``, ``tokens``. Removed (one row per file): ``repo_concat:low_tier`` (a ``code_tier``
of ``low``), ``repo_concat:reserved_marker`` (a file holding ``<|file_sep|>`` itself). The
manifest counts files in / in contexts / removed, oversized files and cycle pairs.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa
from pydantic import Field

from corpus.code import imports as im
from corpus.stages.base import REASON, Role, StageContext, StageOutput, StageParams
from corpus.tokens.tokenizer import FILE_SEP

INPUTS = {
    "input": Role("dataset", help="kept files: repo, path, lang, text (code_tier optional)"),
    "tokenizer": Role("artifact", required=False, help="a tokenize stage's tokenizer, for exact counts"),
}
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),  # applyInArrow wants Spark's own string type back
        ("source", pa.string()),
        ("repo", pa.string()),
        ("context", pa.int32()),
        ("files", pa.list_(pa.string())),
        ("n_files", pa.int32()),
        ("tokens", pa.int64()),
        ("cycle_pairs", pa.int32()),
        (REASON, pa.string()),
    ]
)


class Params(StageParams):
    budget_tokens: int = Field(32_768, gt=0)
    """Context budget (GLM-4.5 mid-training: 32K)."""
    chars_per_token: float = Field(3.5, gt=0)
    source: str = "repo"
    exclude_tiers: list[str] = Field(default_factory=lambda: ["low"])


def _count(texts: list[str], params: Params, tokenizer: str | None) -> list[int]:
    if tokenizer is None:
        return [int(len(t) / params.chars_per_token) + 1 for t in texts]
    from corpus.tokens import encode

    tok = encode.encoder(tokenizer, "", True)
    return [len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)]


def repo_contexts(
    repo: str, files: list[dict[str, Any]], params: Params, tokenizer: str | None = None
) -> list[dict[str, Any]]:
    """Rows (contexts, then removed files) of one repository; ``files`` have path, lang, text."""
    removed, keep = [], []
    for f in files:
        if f.get("code_tier") in params.exclude_tiers:
            removed.append((f, "repo_concat:low_tier"))
        elif FILE_SEP in (f["text"] or ""):
            removed.append((f, "repo_concat:reserved_marker"))
        else:
            keep.append(f)
    by_path = {f["path"]: f for f in keep}
    paths = set(by_path)
    deps = {
        p: im.resolve(p, f["lang"] or "", im.raw_imports(f["lang"] or "", f["text"] or ""), paths, repo)
        for p, f in by_path.items()
    }
    placed = im.order(sorted(paths), deps)
    cycles = im.cycle_pairs(placed, deps)
    pieces = [f"{FILE_SEP}{p}\n{by_path[p]['text']}" for p in placed]
    head = f"{repo}\n"
    sizes = _count([head, *pieces], params, tokenizer)
    contexts: list[list[int]] = []
    used = 0
    for k, size in enumerate(sizes[1:]):
        if contexts and used + size <= params.budget_tokens:
            contexts[-1].append(k)
            used += size
        else:
            contexts.append([k])
            used = sizes[0] + size
    rows = []
    for n, ks in enumerate(contexts):
        text = head + "".join(pieces[k] for k in ks)
        rows.append(
            {
                "id": hashlib.blake2b(f"repo\x1f{repo}\x1f{n}".encode(), digest_size=16).hexdigest(),
                "text": text,
                "source": params.source,
                "repo": repo,
                "context": n,
                "files": [placed[k] for k in ks],
                "n_files": len(ks),
                "tokens": sizes[0] + sum(sizes[k + 1] for k in ks),
                "cycle_pairs": sum(1 for a, b in cycles if a in {placed[k] for k in ks}),
                REASON: None,
            }
        )
    for f, reason in removed:
        rows.append(
            {
                "id": f.get("id")
                or hashlib.blake2b(f"{repo}\x1f{f['path']}".encode(), digest_size=16).hexdigest(),
                "text": None,
                "source": params.source,
                "repo": repo,
                "context": None,
                "files": [f["path"]],
                "n_files": 1,
                "tokens": 0,
                "cycle_pairs": 0,
                REASON: reason,
            }
        )
    return rows


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    docs = ctx.inputs["input"]
    tokenizer = None
    if ctx.has("tokenizer"):
        from corpus.engine import fs
        from corpus.tokens import tokenizer as tk

        tokenizer = str(tk.tokenizer_file(fs.join(ctx.artifact("tokenizer"), "tokenizer")))
    cols = ["id", "repo", "path", "lang", "text"] + (["code_tier"] if "code_tier" in docs.columns else [])

    def per_repo(table: pa.Table) -> pa.Table:
        files = table.to_pylist()
        rows = repo_contexts(files[0]["repo"], sorted(files, key=lambda f: f["path"]), params, tokenizer)
        return pa.Table.from_pylist(rows, schema=SCHEMA)

    rows = docs.select(*cols).groupBy("repo").applyInArrow(per_repo, from_arrow_schema(SCHEMA))
    files_in = sum(int(m.get("rows_kept", 0)) for k, m in ctx.input_manifests.items() if k == "input")

    def after_write(kept) -> dict[str, Any]:
        (r,) = kept.agg(
            F.count("*").alias("contexts"),
            F.sum("n_files").alias("files"),
            F.sum("cycle_pairs").alias("cycles"),
            F.sum(F.when(F.col("tokens") > params.budget_tokens, 1).otherwise(0)).alias("over"),
            F.avg(F.col("tokens") / params.budget_tokens).alias("fill"),
        ).collect()
        return {
            "files_in": files_in,
            "contexts": r["contexts"],
            "files_in_contexts": int(r["files"] or 0),
            "oversized_files": int(r["over"] or 0),
            "cycle_pairs": int(r["cycles"] or 0),
            "mean_fill": round(float(r["fill"] or 0.0), 4),
            "token_count": "tokenizer" if tokenizer else f"estimate: characters / {params.chars_per_token}",
        }

    return StageOutput(rows=rows, balanced=False, rows_in=files_in, after_write=after_write)
