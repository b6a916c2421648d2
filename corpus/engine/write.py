"""Write a stage's rows: kept rows to ``<folder>/part-NNNNN.parquet``, removed ones (with their
``reason``) to ``<folder>/_removed/``, in one pass with pyarrow on the executors
(:mod:`corpus.engine.arrow_write`: pinned writer options, so the same rows give the same bytes
on any master), counting rows and reasons while writing.

(Per-document stages are written by :mod:`corpus.engine.pieces` instead, one shard per
piece of their input, and named by :func:`finish` here.)

Shards: ``StageOutput.keep_partitions`` → the rows' own partitions (one per input shard, see
:mod:`corpus.engine.shard_map`); else the rows are hash-partitioned by ``partition_by`` into
``shards`` (or one per :data:`ROWS_PER_SHARD` rows in) and sorted by ``sort_by`` within each.
A source stage that cannot say how many rows it has is spilled to disk once and counted, so
its rows are still computed once.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from corpus.engine import arrow_write, fs
from corpus.engine.manifest import REMOVED, SHARD_RE, shard_entries
from corpus.stages.base import REASON, StageOutput

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

    from corpus.engine.timings import StageTiming

ROWS_PER_SHARD = 20_000


def write_output(
    out: StageOutput, folder: str, rows_hint: int | None = None, stats: StageTiming | None = None
) -> dict[str, Any]:
    """Write ``out.rows`` under ``folder``; return the manifest's counts, shard lists and schema.

    ``rows_hint`` (rows in, when known) sizes the shards without a counting pass; ``stats``
    receives the writer tasks' CPU seconds. Raises
    RuntimeError when a balanced stage returns no :data:`REASON` column."""
    rows = out.rows
    reason = REASON if REASON in rows.columns else None
    if reason is None and out.balanced:
        raise RuntimeError(f"a balanced stage must return a {REASON!r} column")
    spilled = None
    if out.keep_partitions:
        df = rows
    else:
        if out.shards is None and rows_hint is None:
            from pyspark import StorageLevel

            spilled = rows = rows.persist(StorageLevel.DISK_ONLY)
            rows_hint = rows.count()
        df = _partitioned(out, rows, rows_hint)
    removed_folder = fs.join(folder, REMOVED)
    try:
        written = arrow_write.write_partitions(df, folder, removed_folder, out.row_group_bytes, reason)
    finally:
        if spilled is not None:
            spilled.unpersist()
    kept_df = rows.drop(reason) if reason else rows
    if stats is not None:
        stats.write_cpu_s += sum(w["cpu_s"] for w in written if w["part"] == arrow_write.STATS)
    return finish(folder, written, kept_df.schema)


def finish(folder: str, written: list[dict[str, Any]], schema: StructType) -> dict[str, Any]:
    """Name the files the writer tasks left (``written``: their result rows) ``part-NNNNN``
    in (partition, file) order, remove attempts of failed tasks, and return the counts,
    shard lists and kept ``schema`` for the manifest."""
    removed_folder = fs.join(folder, REMOVED)
    for part, target in ((arrow_write.KEPT, folder), (arrow_write.REMOVED_PART, removed_folder)):
        files = sorted({(w["partition"], w["file"]) for w in written if w["part"] == part})
        for i, (_, name) in enumerate(files):
            fs.rename(fs.join(target, name), fs.join(target, f"part-{i:05d}.parquet"))
        for name in fs.listdir(target):  # attempts of failed or speculative tasks
            if not SHARD_RE.match(name) and name != REMOVED:
                fs.remove(fs.join(target, name))
    if not any(w["part"] == arrow_write.KEPT for w in written):
        arrow_write.write_empty(arrow_write.arrow_schema(schema), fs.join(folder, "part-00000.parquet"))
    removed_by_reason: dict[str, int] = {}
    for w in written:
        if w["part"] == arrow_write.REMOVED_PART:
            removed_by_reason[w["reason"]] = removed_by_reason.get(w["reason"], 0) + w["rows"]
    return {
        "rows_kept": sum(w["rows"] for w in written if w["part"] == arrow_write.KEPT),
        "rows_removed": sum(removed_by_reason.values()),
        "removed_by_reason": dict(sorted(removed_by_reason.items())),
        "schema": schema.jsonValue(),
        "shards": shard_entries(folder),
        "removed_shards": shard_entries(removed_folder),
    }


def _partitioned(out: StageOutput, rows: DataFrame, n_rows: int | None) -> DataFrame:
    """``rows`` hash-partitioned into shards and sorted within each."""
    shards = out.shards or max(1, math.ceil((n_rows or 0) / ROWS_PER_SHARD))
    part_by = [c for c in out.partition_by if c in rows.columns]
    sort_by = [c for c in out.sort_by if c in rows.columns]
    df = rows.repartition(shards, *part_by) if part_by else rows.repartition(shards)
    return df.sortWithinPartitions(*sort_by) if sort_by else df
