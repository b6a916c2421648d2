"""Run per-document stages over a committed dataset piece by piece: no shuffle, no sort, and
several consecutive stages in one pass over the data (fusion).

A piece is one row group of one input shard, in manifest order (the writer caps row groups
at :data:`~corpus.engine.arrow_write.ROW_GROUP_ROWS` rows, so there are enough pieces to keep
every core busy), or, for a source stage, one of its work units
(:class:`~corpus.engine.arrow_map.SourceMap`: the source's rows are written where they are
read). Spark tasks take runs of consecutive pieces (:data:`TASKS_PER_CORE`); each piece is
read (pyarrow, or the source's reader) and its batches handed to the first stage's batch
function; the output is split by the removal reason into the stage's kept file and its
``_removed`` file (:class:`~corpus.engine.arrow_write.Shard`, the same writer
and row-group rule as every stage). Each row group of a stage's kept file is then one piece of
the next stage of the chain, written to files of its own, exactly as the next stage would
read that row group from the committed file if it ran alone. So a stage's committed rows,
shards, ``_removed`` and counts are the same whether it runs fused or alone, on any master:
a piece's output depends only on the piece (the batch functions are per document).

File names carry the piece path (``data-<piece>-<group>-<group>….parquet``); sorted, they give
the order of the final ``part-NNNNN`` names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus.engine import fs, timings
from corpus.engine.arrow_map import DocumentMap, SourceMap, _conform, arrow_schema
from corpus.engine.arrow_write import BATCH_BYTES, KEPT, REMOVED_PART, ROW_GROUP_ROWS, STATS, Shard, _as
from corpus.engine.listing import TASKS_PER_CORE, listing_map
from corpus.engine.manifest import REASON_GROUP, REMOVED
from corpus.stages.base import REASON, Collect

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

RESULT_SCHEMA = (
    "stage int, partition int, part string, file string, reason string, rows long, "
    "doc_cpu_s double, cpu_s double, collected binary"
)
"""One row per written file and reason group of each stage of the chain, and per task one
``stats`` row per stage: rows in, CPU seconds in its batch function and in the rest (read,
split, write); with a collector, one ``collected`` row per task (stage = number of steps):
its output rows as an Arrow IPC stream."""
COLLECTED = "collected"
READ_ROWS = 1000
"""Rows per batch read from a piece (as Spark's ``arrow.maxRecordsPerBatch``)."""


def _tasks(
    spark: SparkSession,
    work: list[str],
    fn: Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]],
    schema: str,
    per_core: int = TASKS_PER_CORE,
) -> DataFrame:
    """``fn`` over ``(id, unit)`` batches of ``work`` in at most ``per_core`` tasks a core,
    each a run of consecutive pieces (:func:`~corpus.engine.listing.listing_map`)."""
    tasks = per_core * max(1, spark.sparkContext.defaultParallelism)
    listing = pa.table({"id": pa.array(range(len(work)), pa.int64()), "unit": pa.array(work, pa.string())})
    return listing_map(spark, listing, lambda batch: fn([batch]), schema, tasks)


@dataclass(frozen=True)
class Step:
    """One stage of a chain: its per-document map and where it writes."""

    document: DocumentMap
    folder: str
    row_group_bytes: int
    row_group_rows: int = ROW_GROUP_ROWS

    @property
    def removed_folder(self) -> str:
        return fs.join(self.folder, REMOVED)


def pieces(files: list[str]) -> list[tuple[str, int]]:
    """``(file, row group)`` of every non-empty row group of ``files``, in order."""
    out = []
    for path in files:
        with fs.open_binary(path) as f:
            meta = pq.ParquetFile(f).metadata
        out += [(path, g) for g in range(meta.num_row_groups) if meta.row_group(g).num_rows]
    return out


@dataclass
class Collected:
    """What a chain's collector gave: its rows and the CPU seconds it took in the tasks."""

    rows: list[dict[str, Any]]
    cpu_s: float


def run_chain(
    spark: SparkSession,
    files: list[str],
    steps: list[Step],
    source: SourceMap | None = None,
    collect: Collect | None = None,
) -> tuple[list[list[dict[str, Any]]], Collected | None]:
    """Apply ``steps`` in order to the rows of ``files`` (the first stage's committed input),
    writing each stage's kept and removed rows under its folder as
    ``data-….parquet``; returns per step its :data:`RESULT_SCHEMA` rows, and the collector's.

    With ``source`` (a source stage; ``files`` unused) the pieces are its work units, read by
    its reader; the first step is the source stage itself, and the reader's CPU seconds are its
    per-document work. ``collect`` (the next stage's :class:`~corpus.stages.base.Collect`)
    runs on every row group the last step commits, exactly the batches
    :func:`map_collect` would read from the committed files."""
    import json

    work = list(source.units) if source is not None else [json.dumps(p) for p in pieces(files)]
    targets = [arrow_schema(s.document.schema) for s in steps]
    kept_schemas = [pa.schema([f for f in t if f.name != REASON]) for t in targets]
    removed_schemas = [
        pa.schema([f.with_name("reason") if f.name == REASON else f for f in t]) for t in targets
    ]
    for step in steps:
        fs.makedirs(step.folder)

    def task(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        attempt = TaskContext.get().attemptNumber()
        out: dict[str, list] = {k: [] for k in ("stage", "partition", "part", "file", "reason", "rows")}
        out.update(doc_cpu_s=[], cpu_s=[], collected=[])
        doc_cpu = [0.0] * len(steps)
        write_cpu = [0.0] * len(steps)
        rows_in = [0] * len(steps)
        gathered: list[pa.RecordBatch] = []
        collect_cpu = 0.0
        start_cpu = timings.cpu_seconds()

        def emit(k: int, p: int, part: str, name: str, why: str | None, rows: int) -> None:
            for key, v in zip(out, (k, p, part, name, why, rows, 0.0, 0.0, None), strict=True):
                out[key].append(v)

        def level(k: int, p: int, name: str, feed: Iterable[pa.RecordBatch]) -> None:
            step = steps[k]
            fname = f"{name}.parquet"
            kept = Shard(
                step.folder, fname, kept_schemas[k], step.row_group_bytes, attempt, step.row_group_rows
            )
            removed = Shard(
                step.removed_folder,
                fname,
                removed_schemas[k],
                step.row_group_bytes,
                attempt,
                step.row_group_rows,
            )
            reasons: Counter[str] = Counter()
            groups = 0

            def down(done: list[list[pa.RecordBatch]]) -> None:
                nonlocal groups, collect_cpu
                if k + 1 < len(steps):
                    for group in done:
                        level(k + 1, p, f"{name}-{groups:05d}", group)
                        groups += 1
                elif collect is not None:
                    for group in done:
                        t = timings.cpu_seconds()
                        table = pa.Table.from_batches(group).combine_chunks()
                        if table.num_rows:
                            gathered.append(collect.fn(table.to_batches()[0], collect.params))
                        collect_cpu += timings.cpu_seconds() - t

            for batch in feed:
                if not batch.num_rows:
                    continue
                rows_in[k] += batch.num_rows
                t = timings.cpu_seconds()
                result = _conform(step.document.fn(batch, step.document.params), targets[k])
                t, doc_cpu[k] = timings.cpu_seconds(), doc_cpu[k] + timings.cpu_seconds() - t
                is_kept = pc.is_null(result.column(REASON))
                gone = result.filter(pc.invert(is_kept))
                if gone.num_rows:
                    removed.add(_as(gone, removed_schemas[k], targets[k].names))
                    groups_of = pc.replace_substring_regex(gone.column(REASON), REASON_GROUP, r"\1")
                    reasons.update(groups_of.to_pylist())
                done = kept.add(_as(result.filter(is_kept), kept_schemas[k], kept_schemas[k].names))
                write_cpu[k] += timings.cpu_seconds() - t
                down(done)
            t = timings.cpu_seconds()
            done = kept.finish()
            write_cpu[k] += timings.cpu_seconds() - t
            down(done)
            t = timings.cpu_seconds()
            if kept.close():
                emit(k, p, KEPT, fname, None, kept.rows)
            if removed.close():
                for why, n in sorted(reasons.items()):
                    emit(k, p, REMOVED_PART, fname, why, n)
            write_cpu[k] += timings.cpu_seconds() - t

        for batch in batches:
            for p, unit in zip(batch.column("id").to_pylist(), batch.column("unit").to_pylist(), strict=True):
                if source is not None:
                    level(0, p, f"data-{p:06d}", source.read(unit, source.params))
                    continue
                path, group = json.loads(unit)
                with fs.open_binary(path) as f:
                    reader = pq.ParquetFile(f).iter_batches(batch_size=READ_ROWS, row_groups=[group])
                    level(0, p, f"data-{p:06d}", reader)
        reading = timings.cpu_seconds() - start_cpu - sum(doc_cpu) - sum(write_cpu) - collect_cpu
        for k in range(len(steps)):
            emit(k, -1, STATS, "", None, rows_in[k])
            out["doc_cpu_s"][-1] = doc_cpu[k] + (reading if k == 0 and source is not None else 0.0)
            out["cpu_s"][-1] = write_cpu[k] + (reading if k == 0 and source is None else 0.0)
        if collect is not None:
            emit(len(steps), -1, COLLECTED, "", None, sum(b.num_rows for b in gathered))
            out["doc_cpu_s"][-1] = collect_cpu
            if gathered:
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, gathered[0].schema) as ipc:
                    for b in gathered:
                        ipc.write_batch(b)
                out["collected"][-1] = sink.getvalue().to_pybytes()
        yield pa.RecordBatch.from_pydict(out, schema=_result_arrow())

    key = "spark.sql.execution.arrow.maxBytesPerBatch"
    old = spark.conf.get(key, None)
    spark.conf.set(key, str(BATCH_BYTES))
    try:
        if work:
            per_core = TASKS_PER_CORE if source is None else source.tasks_per_core
            rows = _tasks(spark, work, task, RESULT_SCHEMA, per_core).collect()
        else:
            rows = []
    finally:
        if old is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, old)
    per_step: list[list[dict[str, Any]]] = [[] for _ in steps]
    collected = Collected([], 0.0) if collect is not None else None
    for r in rows:
        d = r.asDict()
        k = d.pop("stage")
        blob = d.pop("collected")
        if k < len(steps):
            per_step[k].append(d)
        elif collected is not None:
            collected.cpu_s += d["doc_cpu_s"]
            if blob:
                collected.rows += pa.ipc.open_stream(blob).read_all().to_pylist()
    return per_step, collected


def _result_arrow() -> pa.Schema:
    return pa.schema(
        [
            ("stage", pa.int32()),
            ("partition", pa.int32()),
            ("part", pa.string()),
            ("file", pa.string()),
            ("reason", pa.string()),
            ("rows", pa.int64()),
            ("doc_cpu_s", pa.float64()),
            ("cpu_s", pa.float64()),
            ("collected", pa.binary()),
        ]
    )


def map_collect(
    spark: SparkSession,
    files: list[str],
    fn: Callable[[pa.RecordBatch, Any], pa.RecordBatch],
    params: Any,
    schema: str,
) -> list[dict[str, Any]]:
    """``fn(batch, params)`` over every row group of ``files`` (read with pyarrow, as the
    pieces pass reads them), its output rows returned to the driver: for stage-wide sums a
    stage needs before its pass (per-task partial sums; no Spark SQL plan, no shuffle)."""
    import json

    work = [json.dumps(p) for p in pieces(files)]
    if not work:
        return []

    acc = timings.document_accumulator()

    def task(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        spent = 0.0
        for batch in batches:
            for unit in batch.column("unit").to_pylist():
                path, group = json.loads(unit)
                with fs.open_binary(path) as f:
                    for part in pq.ParquetFile(f).iter_batches(batch_size=READ_ROWS, row_groups=[group]):
                        if part.num_rows:
                            start = timings.cpu_seconds()
                            out = fn(part, params)
                            spent += timings.cpu_seconds() - start
                            yield out
        if acc is not None:
            acc.add(spent)

    return [r.asDict() for r in _tasks(spark, work, task, schema).collect()]
