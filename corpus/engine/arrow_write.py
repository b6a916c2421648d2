"""Write each Spark partition as Parquet shards with pyarrow, on the executors, in one pass.

Why not Spark's writer: parquet-mr lists each column chunk's encodings from a HashSet of
enum constants, whose order follows JVM identity hash codes, so the same rows give footers
that differ byte-wise from one JVM to the next. pyarrow with pinned options writes the same
bytes for the same rows, so a shard's sha256 is the same on ``local[1]``, ``local[*]`` and a
cluster. Two more things would leak Spark's batching into the bytes, and both are fixed here:

* row groups are cut by a per-row byte estimate (:func:`row_bytes`), a group ending at the
  first row where its total reaches ``row_group_bytes`` — not at Arrow batch boundaries;
* each row group is written from one contiguous chunk, so page boundaries (the writer checks
  page size every ``write_batch_size`` values) do not depend on batch boundaries either.

One pass: a task splits its rows by the removal-reason column into a kept file and a
``_removed`` file and counts reasons itself, so the stage's rows are computed once — no
persist, no counting job. Files are written as ``.data-NNNNN.parquet.attempt-K`` and renamed
to ``data-NNNNN.parquet`` (NNNNN = partition id) when complete, so a retried task never
leaves half a file under a final name; the runner renames them to ``part-NNNNN.parquet``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus.engine import fs
from corpus.engine.arrow_map import arrow_schema
from corpus.engine.manifest import REASON_GROUP

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

KEPT, REMOVED_PART, STATS = "kept", "removed", "stats"
RESULT_SCHEMA = "partition int, part string, file string, reason string, rows long, cpu_s double"
"""One row per written file and reason group (``reason`` null for kept files), and one
``stats`` row per task: rows it read and the CPU seconds it spent (Arrow in, split, write)."""
ROW_GROUP_ROWS = 1000
"""At most this many rows per row group: a piece of work for :mod:`corpus.engine.pieces`."""
BATCH_BYTES = 64 << 20
"""Arrow batches handed from the JVM to the writer are capped at this size (long rows)."""

WRITER_OPTIONS: dict[str, Any] = {
    "version": "2.6",
    "data_page_version": "1.0",
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_size": 1 << 20,
    "write_batch_size": 1024,
    "dictionary_pagesize_limit": 1 << 20,
}
"""Every option that shapes the bytes, pinned (pyarrow defaults may move between versions)."""


def row_bytes(array: pa.Array) -> np.ndarray:
    """Uncompressed bytes of each row of ``array`` (values, plus 4 per offset): a function of
    the row alone, so row-group cuts do not depend on batching."""
    n = len(array)
    t = array.type
    if pa.types.is_struct(t):
        sizes = np.zeros(n, np.int64)
        for child in array.flatten():
            sizes += row_bytes(child)
        return sizes
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        child = row_bytes(array.flatten())
        parents = pc.list_parent_indices(array).to_numpy()
        return np.bincount(parents, weights=child, minlength=n).astype(np.int64) + 4
    if pa.types.is_string(t) or pa.types.is_binary(t) or pa.types.is_large_string(t):
        return pc.fill_null(pc.binary_length(array), 0).to_numpy().astype(np.int64) + 4
    if pa.types.is_boolean(t):
        return np.ones(n, np.int64)
    if pa.types.is_dictionary(t):
        return row_bytes(array.indices)
    try:
        return np.full(n, max(1, t.bit_width // 8), np.int64)
    except ValueError:  # other variable-width types: a fixed guess keeps cuts row-determined
        return np.full(n, 8, np.int64)


def batch_row_bytes(batch: pa.RecordBatch) -> np.ndarray:
    sizes = np.zeros(batch.num_rows, np.int64)
    for col in batch.columns:
        sizes += row_bytes(col)
    return sizes


class RowGroups:
    """Regroups a stream of batches into row groups: a group ends at the first row where its
    bytes reach ``limit`` or its rows reach ``max_rows`` (the last group may be smaller).

    The row cap makes row groups the unit of parallel work for the per-document stages that
    read a dataset piece by piece (:mod:`corpus.engine.pieces`)."""

    def __init__(self, limit: int, max_rows: int = ROW_GROUP_ROWS) -> None:
        self.limit, self.max_rows = limit, max_rows
        self.pending: list[pa.RecordBatch] = []
        self.total = 0
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> Iterator[list[pa.RecordBatch]]:
        sizes = batch_row_bytes(batch)
        start = 0
        while start < batch.num_rows:
            cum = self.total + np.cumsum(sizes[start:])
            k = int(np.searchsorted(cum, self.limit, side="left"))  # first row reaching it
            k = min(k, self.max_rows - self.rows - 1)
            if k >= len(cum):
                self.pending.append(batch.slice(start))
                self.total = int(cum[-1])
                self.rows += len(cum)
                return
            self.pending.append(batch.slice(start, k + 1))
            yield self.pending
            self.pending, self.total, self.rows, start = [], 0, 0, start + k + 1

    def rest(self) -> Iterator[list[pa.RecordBatch]]:
        if self.pending:
            yield self.pending
        self.pending, self.total, self.rows = [], 0, 0


class Shard:
    """One output file of a task: opened at its first row, renamed into place on close."""

    def __init__(
        self,
        folder: str,
        name: str,
        schema: pa.Schema,
        row_group_bytes: int,
        attempt: int,
        row_group_rows: int = ROW_GROUP_ROWS,
    ) -> None:
        self.folder, self.name, self.schema = folder, name, schema
        self.tmp = fs.join(folder, f".{name}.attempt-{attempt}")
        self.groups = RowGroups(row_group_bytes, row_group_rows)
        self.rows = 0
        self._file = self._writer = None

    def add(self, batch: pa.RecordBatch) -> list[list[pa.RecordBatch]]:
        """Take ``batch``; returns the row groups it completed (written)."""
        done = []
        if batch.num_rows:
            for group in self.groups.add(batch):
                self._write(group)
                done.append(group)
        return done

    def finish(self) -> list[list[pa.RecordBatch]]:
        """Write the last row group; returns it (or nothing). Call :meth:`close` after."""
        done = list(self.groups.rest())
        for group in done:
            self._write(group)
        return done

    def _write(self, group: list[pa.RecordBatch]) -> None:
        if self._writer is None:
            fs.makedirs(self.folder)
            self._file = fs.open_binary_write(self.tmp)
            self._writer = pq.ParquetWriter(self._file, self.schema, **WRITER_OPTIONS)
        table = pa.Table.from_batches(group, self.schema).combine_chunks()
        self._writer.write_table(table, row_group_size=table.num_rows)
        self.rows += table.num_rows

    def close(self) -> int:
        """Finish the file; returns its rows (0: nothing was written, no file)."""
        self.finish()
        if self._writer is not None:
            self._writer.close()
            self._file.close()
            fs.rename(self.tmp, fs.join(self.folder, self.name))
        return self.rows


def _as(batch: pa.RecordBatch, schema: pa.Schema, names: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([batch.column(n) for n in names], schema=schema)


def write_partitions(
    df: DataFrame, folder: str, removed_folder: str, row_group_bytes: int, reason: str | None
) -> list[dict[str, Any]]:
    """Write partition ``p`` of ``df`` to ``folder/data-p.parquet`` (rows whose ``reason``
    column is null, without it) and ``removed_folder/data-p.parquet`` (the others, the column
    named ``reason``); files only for non-empty parts. Returns :data:`RESULT_SCHEMA` rows."""
    from pyspark.sql.types import StructType

    names = [f.name for f in df.schema.fields]
    kept_names = [n for n in names if n != reason]
    kept_schema = arrow_schema(StructType([f for f in df.schema.fields if f.name != reason]))
    full = arrow_schema(df.schema)
    removed_schema = pa.schema([f.with_name("reason") if f.name == reason else f for f in full])

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        cpu_start = time.process_time()
        ctx = TaskContext.get()
        pid, attempt = ctx.partitionId(), ctx.attemptNumber()
        name = f"data-{pid:05d}.parquet"
        kept = Shard(folder, name, kept_schema, row_group_bytes, attempt)
        removed = Shard(removed_folder, name, removed_schema, row_group_bytes, attempt)
        reasons: Counter[str] = Counter()
        rows_in = 0
        for batch in batches:
            rows_in += batch.num_rows
            if reason is None:
                kept.add(_as(batch, kept_schema, kept_names))
                continue
            is_kept = pc.is_null(batch.column(reason))
            kept.add(_as(batch.filter(is_kept), kept_schema, kept_names))
            gone = batch.filter(pc.invert(is_kept))
            if gone.num_rows:
                removed.add(_as(gone, removed_schema, names))
                groups = pc.replace_substring_regex(gone.column(reason), REASON_GROUP, r"\1")
                reasons.update(groups.to_pylist())
        out: dict[str, list] = {k: [] for k in ("partition", "part", "file", "reason", "rows", "cpu_s")}

        def emit(part: str, why: str | None, rows: int, cpu_s: float = 0.0) -> None:
            for k, v in zip(out, (pid, part, name, why, rows, cpu_s), strict=True):
                out[k].append(v)

        if kept.close():
            emit(KEPT, None, kept.rows)
        if removed.close():
            for why, n in sorted(reasons.items()):
                emit(REMOVED_PART, why, n)
        emit(STATS, None, rows_in, time.process_time() - cpu_start)
        yield pa.RecordBatch.from_pydict(
            out,
            schema=pa.schema(
                [
                    ("partition", pa.int32()),
                    ("part", pa.string()),
                    ("file", pa.string()),
                    ("reason", pa.string()),
                    ("rows", pa.int64()),
                    ("cpu_s", pa.float64()),
                ]
            ),
        )

    fs.makedirs(folder)
    spark = df.sparkSession
    key = "spark.sql.execution.arrow.maxBytesPerBatch"
    old = spark.conf.get(key, None)
    spark.conf.set(key, str(BATCH_BYTES))
    try:
        out = df.mapInArrow(task, RESULT_SCHEMA).collect()
    finally:
        if old is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, old)
    return sorted((r.asDict() for r in out), key=lambda r: (r["partition"], r["part"], r["reason"] or ""))


def write_empty(schema: pa.Schema, path: str) -> None:
    """A shard with no rows, so an empty dataset still has a file readers can open."""
    with fs.open_binary_write(path) as f, pq.ParquetWriter(f, schema, **WRITER_OPTIONS):
        pass
