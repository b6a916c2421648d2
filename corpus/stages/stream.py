"""``stream``: mixture-sampled, packed token streams — one Parquet row per training sequence.

Row format (what the trainer reads):

* ``input_ids list<int32>`` — exactly ``seq_len`` ids;
* ``doc_lens list<int32>`` — lengths of the document pieces in the row, in order; their sum is
  ``seq_len``. When the row is padded, the padding is the *last* entry: ``pad_len`` trailing
  ids equal to the tokenizer's pad id, to be masked from the loss;
* ``pad_len int32`` — trailing padding (0 for ``truncate`` streams);
* ``doc_ids list<string>`` — the document id of each non-padding ``doc_lens`` entry (a document
  cut across rows has its id in each): the trainer holds documents out by id;
* ``source string``, ``bucket string`` (null without a bucket column) — every row holds
  documents of one (source, bucket) group only, so per-source token counts are exact;
* ``seq_id long`` — hash(seed, group, row): the row's deterministic position in the stream.
  Rows are sharded and sorted by it, so every shard and row group is a random mix of groups.

How: epochs per (source, bucket) repeat documents (:mod:`corpus.tokens.mixture`); each
repeat gets a shuffle key. Repeats are split into packing groups — a (source, bucket) group,
cut into ``ceil(repeats / group_docs)`` sub-groups by key — and each group is planned in one
Spark task from lengths alone (``pack: truncate`` = :func:`corpus.tokens.truncate.cut` in key
order; ``pack: best_fit`` = :func:`corpus.tokens.bestfit.pack`). Tokens then join the plan
and rows are assembled in the JVM (slice, sort by offset, flatten), so no task ever holds a
group's tokens and nothing is collected to the driver.

Manifest metrics: tokenizer path/sha256/vocab/eos/pad ids, ``seq_len``, ``pack``, ``rows``,
``tokens`` (document tokens in the stream, padding excluded), ``padding_rate``,
``truncation_rate`` (share of document repeats not wholly inside one row), ``tokens_dropped``
(truncate tails), per group (``source`` or ``source/bucket``) docs, epochs requested vs
realised (repeats per document, and per token), rows, tokens and truncation rate; after the
write, ``tokens_per_source`` / ``tokens_per_group`` count ``len(input_ids)`` per row as
DuckDB does (padding included) and ``padding_per_group`` the padding in them.

With an ``epochs_from`` artifact input (a ``mixture`` stage; ``inputs: {input: mixture,
epochs_from: mixture}`` and ``phase: phase1``) the epochs come from its ``mixture.json`` for that phase
instead of ``epochs:`` — groups are its ``mixture_group`` column — and, when the documents
carry the stage's ``mixture_repeats_<phase>`` column, each document is repeated exactly that
many times (the mixture's systematic sample: realised epochs per group match the artifact).

Shards are written by the runner's Arrow writer (pyarrow, pinned options, row groups cut by
row bytes), so the same inputs and seed give byte-identical shards on any master.

What grouping costs: packing never crosses a group. A best-fit group ends with at most a few
part-filled rows (on 100k long-tailed documents, under 0.01% extra rows), and a truncate group
drops its last ``< seq_len`` tokens; with ``group_docs`` around a million both are noise, but
many small (source, bucket) groups each pay it, and the manifest shows it as padding rate and
``tokens_dropped``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field, field_validator

from corpus.engine import stage_warnings
from corpus.engine.arrow_map import map_batches
from corpus.errors import UserError
from corpus.stages.base import Role, StageContext, StageOutput, StageParams
from corpus.tokens import bestfit, mixture, truncate

INPUTS = {
    "input": Role("dataset", many=True, help="tokenized documents (a tokenize or mixture stage)"),
    "epochs_from": Role("artifact", required=False, help="a mixture stage: epochs per group and phase"),
}


class Params(StageParams):
    seq_len: int = Field(4096, ge=2)
    pack: Literal["truncate", "best_fit"] = "truncate"
    epochs: dict[str, float | dict[str, float]] = Field(default_factory=dict)
    """``{source: epochs}`` or ``{source: {bucket: epochs}}``; 0 leaves a group out."""
    default_epochs: float = Field(1.0, ge=0)
    """Epochs of groups the mixture does not list."""
    bucket_column: str = "bucket"
    """Column holding the quality bucket / tier (any type, compared as a string); absent = none."""
    group_docs: int = Field(1_000_000, gt=0)
    """Document repeats per packing group (bigger packs better; one task plans a group)."""
    shards: int | None = Field(None, gt=0)
    """Output shards; default ``ceil(rows * seq_len / shard_tokens)``."""
    shard_tokens: int = Field(1 << 28, gt=0)
    row_group_bytes: int = Field(32 << 20, gt=0)
    """Parquet row-group size (uncompressed bytes): the unit a streaming reader fetches."""
    phase: str | None = None
    """With an ``epochs_from`` input: the pre-training phase whose epochs this stream realises."""

    @field_validator("epochs", mode="before")
    @classmethod
    def _bucket_keys_as_strings(cls, v: Any) -> Any:
        """Buckets are compared as strings: ``{web: {3: 2.0}}`` means bucket ``"3"``."""
        if isinstance(v, dict):
            return {
                s: {str(b): e for b, e in spec.items()} if isinstance(spec, dict) else spec
                for s, spec in v.items()
            }
        return v

    @field_validator("epochs")
    @classmethod
    def _non_negative(cls, v: dict[str, Any]) -> dict[str, Any]:
        for source, spec in v.items():
            for e in spec.values() if isinstance(spec, dict) else [spec]:
                if e < 0:
                    raise ValueError(f"epochs of {source!r} must be >= 0, got {e}")
        return v


PLAN_SCHEMA = (
    "g int, sub int, row long, pos int, id string, start int, len int, "
    "n_units long, n_cut long, n_rows long, n_unit_tokens long, n_kept_tokens long"
)
"""One row per piece (``row >= 0``), plus one summary row per group (``row = -1``)."""


def plan_group(table: pa.Table, seq_len: int, pack: str) -> pa.Table:
    """Plan one packing group (columns ``g, sub, id, r, key, n_tokens``): pieces + a summary."""
    table = table.sort_by([("key", "ascending"), ("id", "ascending"), ("r", "ascending")])
    lengths = table.column("n_tokens").to_numpy().astype(np.int64)
    plan = bestfit.pack(lengths, seq_len) if pack == "best_fit" else truncate.cut(lengths, seq_len)
    n = len(plan.doc)
    cut = int(np.count_nonzero(plan.cut_docs(lengths)))

    def col(values, typ, summary) -> pa.Array:
        return pa.concat_arrays([pa.array(values, typ), pa.array([summary], typ)])

    def summary(value: int) -> pa.Array:
        return pa.concat_arrays([pa.nulls(n, pa.int64()), pa.array([value], pa.int64())])

    ids = table.column("id").combine_chunks().take(pa.array(plan.doc)).cast(pa.string())
    return pa.table(
        {
            "g": pa.array(np.full(n + 1, table.column("g")[0].as_py(), np.int32)),
            "sub": pa.array(np.full(n + 1, table.column("sub")[0].as_py(), np.int32)),
            "row": col(plan.row, pa.int64(), -1),
            "pos": col(plan.pos, pa.int32(), 0),
            "id": pa.concat_arrays([ids, pa.nulls(1, pa.string())]),
            "start": col(plan.start, pa.int32(), 0),
            "len": col(plan.length, pa.int32(), 0),
            "n_units": summary(len(lengths)),
            "n_cut": summary(cut),
            "n_rows": summary(plan.rows),
            "n_unit_tokens": summary(int(lengths.sum())),
            "n_kept_tokens": summary(plan.tokens),
        }
    )


def _tokenizer_meta(ctx: StageContext) -> dict[str, Any]:
    """Tokenizer facts recorded by the upstream tokenize stage(s); all inputs must agree."""
    metas = {ref: (m.get("metrics") or {}) for ref, m in ctx.input_manifests.items() if ref in ctx.inputs}
    missing = [ref for ref, m in metas.items() if "tokenizer_sha256" not in m]
    if missing or not metas:
        raise UserError(
            f"stage {ctx.name!r}: input {missing or '(none)'} is not the output of a tokenize stage"
        )
    shas = {m["tokenizer_sha256"] for m in metas.values()}
    if len(shas) > 1:
        raise UserError(f"stage {ctx.name!r}: inputs were tokenized with different tokenizers {sorted(shas)}")
    first = next(iter(metas.values()))
    keys = ("tokenizer", "tokenizer_sha256", "vocab_size", "eos_id", "pad_id")
    return {k: first[k] for k in keys if k in first}


def _with_mixture(ctx: StageContext, params: Params) -> tuple[Params, str | None]:
    """Params with the epochs and group column of the ``epochs_from`` mixture's phase, and the
    per-document repeats column; unchanged params (and no column) without a mixture."""
    import json
    from pathlib import Path

    if not ctx.has("epochs_from"):
        return params, None
    path = Path(ctx.artifact("epochs_from")) / "mixture.json"
    if not path.is_file():
        raise UserError(f"stage {ctx.name!r}: input 'epochs_from' has no mixture.json ({path})")
    doc = json.loads(path.read_text())
    if params.epochs:
        raise UserError(f"stage {ctx.name!r}: give `epochs:` or an `epochs_from` input, not both")
    phases = doc["phases"]
    if params.phase not in phases:
        raise UserError(f"stage {ctx.name!r}: `phase` must be one of {sorted(phases)} (the mixture's phases)")
    phase = phases[params.phase]
    update = {"epochs": phase["epochs"], "bucket_column": doc["group_column"], "default_epochs": 0.0}
    return params.model_copy(update=update), phase["repeats_column"]


def _label(source: str, bucket: str | None) -> str:
    return source if bucket is None else f"{source}/{bucket}"


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    meta = _tokenizer_meta(ctx)
    params, repeats_column = _with_mixture(ctx, params)
    frames = []
    for df in ctx.inputs.values():
        bucket = F.col(params.bucket_column) if params.bucket_column in df.columns else F.lit(None)
        repeats = F.col(repeats_column) if repeats_column in df.columns else F.lit(None)
        frames.append(
            df.where(F.col("n_tokens") > 0).select(
                "id",
                "source",
                bucket.cast("string").alias("bucket"),
                "n_tokens",
                "input_ids",
                repeats.cast("double").alias("repeats"),
            )
        )
    docs = functools.reduce(lambda a, b: a.unionByName(b), frames)

    # Groups and their sizes (a handful of rows on the driver); ids must be unique, since the
    # plan joins tokens back by id.
    per_id = docs.groupBy("id").agg(
        F.count("*").alias("copies"), *[F.first(c).alias(c) for c in ("source", "bucket", "n_tokens")]
    )
    stats = per_id.groupBy("source", "bucket").agg(
        F.count("*").alias("docs"), F.sum("n_tokens").alias("tokens"), F.max("copies").alias("copies")
    )
    groups = sorted(stats.collect(), key=lambda r: (r.source, r.bucket is not None, r.bucket or ""))
    if any(r.copies > 1 for r in groups):
        raise UserError(f"stage {ctx.name!r}: document ids are not unique across its inputs")
    n_docs = sum(r.docs for r in groups)
    info: list[dict[str, Any]] = []
    for g, r in enumerate(groups):
        e = mixture.requested(params.epochs, params.default_epochs, r.source, r.bucket)
        info.append(
            {
                "g": g,
                "source": r.source,
                "bucket": r.bucket,
                "epochs": e,
                "docs": r.docs,
                "tokens": r.tokens,
                "n_sub": max(1, math.ceil(r.docs * e / params.group_docs)),
            }
        )

    def lookup(field: str):
        gkey = F.concat(F.col("source"), F.lit("\x1f"), F.coalesce(F.col("bucket"), F.lit("\x00")))
        pairs = [
            x
            for i in info
            for x in (
                F.lit(f"{i['source']}\x1f{chr(0) if i['bucket'] is None else i['bucket']}"),
                F.lit(i[field]),
            )
        ]
        return F.create_map(*pairs)[gkey] if pairs else F.lit(None)

    from pyspark.sql.types import StructType

    keyed = docs.select(
        "id",
        "n_tokens",
        lookup("g").cast("int").alias("g"),
        F.coalesce(F.col("repeats"), lookup("epochs").cast("double")).alias("epochs"),
        lookup("n_sub").cast("int").alias("n_sub"),
    )
    units = map_batches(
        keyed,
        mixture.expand_batch,
        ctx.seed,
        StructType.fromDDL("g int, sub int, id string, r int, key long, n_tokens int"),
    )
    seq_len, pack = params.seq_len, params.pack

    def plan_one(table):  # no type hints: Spark then takes it as a whole-group Table function
        return plan_group(table, seq_len, pack)

    plan = units.groupBy("g", "sub").applyInArrow(plan_one, PLAN_SCHEMA).persist(StorageLevel.MEMORY_AND_DISK)

    metrics = _plan_metrics(plan, info, params, meta, ctx.seed)
    stage_warnings.add(
        metrics, stage_warnings.unfilled_stream_groups(ctx.name, metrics["groups"], params.seq_len)
    )
    rows = _assemble(plan, docs, info, params, meta["pad_id"], ctx.seed)
    shards = params.shards or max(1, math.ceil(metrics["rows"] * params.seq_len / params.shard_tokens))

    def after_write(kept) -> dict[str, Any]:
        plan.unpersist()
        out = (
            kept.groupBy("source", "bucket")
            .agg(
                F.count("*").alias("rows"), F.sum(F.size("input_ids")).alias("t"), F.sum("pad_len").alias("p")
            )
            .collect()
        )
        per_source: dict[str, int] = {}
        for r in out:
            per_source[r.source] = per_source.get(r.source, 0) + r.t
        return {
            "tokens_per_source": dict(sorted(per_source.items())),
            "tokens_per_group": {
                _label(r.source, r.bucket): r.t for r in sorted(out, key=lambda r: (r.source, r.bucket or ""))
            },
            "padding_per_group": {_label(r.source, r.bucket): r.p for r in out},
            "rows_written": sum(r.rows for r in out),
        }

    return StageOutput(
        rows=rows,
        balanced=False,
        rows_in=n_docs,
        metrics=metrics,
        after_write=after_write,
        sort_by=("seq_id",),
        partition_by=("seq_id",),
        shards=shards,
        row_group_bytes=params.row_group_bytes,
    )


def _plan_metrics(plan, info, params: Params, meta: dict[str, Any], seed: int) -> dict[str, Any]:
    """Manifest figures from the plan's summary rows: epochs, truncation, padding, drops."""
    from pyspark.sql import functions as F

    sums = {
        r.g: r
        for r in plan.where(F.col("row") == -1)
        .groupBy("g")
        .agg(*[F.sum(c).alias(c) for c in ("n_units", "n_cut", "n_rows", "n_unit_tokens", "n_kept_tokens")])
        .collect()
    }
    groups: dict[str, Any] = {}
    totals = dict.fromkeys(("units", "cut", "rows", "unit_tokens", "kept"), 0)
    for i in info:
        s = sums.get(i["g"])
        units, cut, rows, unit_tokens, kept = (
            (s.n_units, s.n_cut, s.n_rows, s.n_unit_tokens, s.n_kept_tokens) if s else (0, 0, 0, 0, 0)
        )
        groups[_label(i["source"], i["bucket"])] = {
            "source": i["source"],
            "bucket": i["bucket"],
            "docs": i["docs"],
            "doc_tokens": i["tokens"],
            "epochs_requested": i["epochs"],
            "epochs_realised": units / i["docs"] if i["docs"] else 0.0,
            "epochs_realised_tokens": unit_tokens / i["tokens"] if i["tokens"] else 0.0,
            "packing_groups": i["n_sub"],
            "rows": rows,
            "tokens": kept,
            "truncation_rate": cut / units if units else 0.0,
        }
        for k, v in zip(totals, (units, cut, rows, unit_tokens, kept), strict=True):
            totals[k] += v
    slots = totals["rows"] * params.seq_len
    return {
        **meta,
        "seq_len": params.seq_len,
        "pack": params.pack,
        "seed": seed,
        "rows": totals["rows"],
        "tokens": totals["kept"],
        "padding_rate": (slots - totals["kept"]) / slots if slots else 0.0,
        "truncation_rate": totals["cut"] / totals["units"] if totals["units"] else 0.0,
        "tokens_dropped": totals["unit_tokens"] - totals["kept"],
        "groups": groups,
    }


def _assemble(plan, docs, info, params: Params, pad_id: int, seed: int):
    """Rows from the plan: slice each piece out of its document, order by offset, pad."""
    from pyspark.sql import functions as F

    pieces = plan.where(F.col("row") >= 0).select("g", "sub", "row", "pos", "id", "start", "len")
    seg = pieces.join(docs.select("id", "input_ids"), "id").select(
        "g",
        "sub",
        "row",
        F.struct(
            "pos", "len", F.slice("input_ids", F.col("start") + 1, F.col("len")).alias("ids"), F.col("id")
        ).alias("p"),
    )
    packed = seg.groupBy("g", "sub", "row").agg(F.sort_array(F.collect_list("p")).alias("ps"))
    ids = F.flatten(F.col("ps.ids"))
    pad = F.lit(params.seq_len) - F.size(ids)
    source = F.create_map(*[x for i in info for x in (F.lit(i["g"]), F.lit(i["source"]))])
    bucket = F.create_map(*[x for i in info for x in (F.lit(i["g"]), F.lit(i["bucket"]).cast("string"))])
    return packed.select(
        F.xxhash64(F.lit(seed), F.lit("row"), "g", "sub", "row").alias("seq_id"),
        F.when(pad > 0, F.concat(ids, F.array_repeat(F.lit(pad_id), pad))).otherwise(ids).alias("input_ids"),
        F.when(pad > 0, F.concat(F.col("ps.len"), F.array(pad))).otherwise(F.col("ps.len")).alias("doc_lens"),
        pad.cast("int").alias("pad_len"),
        F.col("ps.id").alias("doc_ids"),
        source[F.col("g")].alias("source"),
        bucket[F.col("g")].alias("bucket"),
    )
