"""Apply a pure per-document batch function to a DataFrame with ``mapInArrow``.

The batch function is ``fn(batch: pa.RecordBatch, params) -> pa.RecordBatch``. It runs on
executors, so it must be importable (module level) and params must pickle (pydantic models
do). Heavy resources (models) belong in module-level ``functools.cache`` loaders so each
Python worker loads them once; heavy libraries are imported inside the batch function (or
the loader) so that importing the stage module stays cheap.

A per-document stage is ``Params`` + one batch function that ends in :func:`with_columns` +
a ``run`` that calls :func:`document_stage`::

    def langid_batch(batch, params):
        langs, scores, reasons = ...
        return with_columns(batch, {"lang": pa.array(langs, pa.string()), ...}, reasons)

    def run(ctx, params):
        return document_stage(ctx, langid_batch, params, [("lang", "string"), ("lang_score", "float")])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from corpus.engine import timings
from corpus.engine.listing import TASKS_PER_CORE, listing_map
from corpus.stages.base import REASON, StageContext, StageOutput

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

BatchFn = Callable[[pa.RecordBatch, Any], pa.RecordBatch]


def extend_schema(schema: StructType, fields: Sequence[tuple[str, str]], reason: bool = True) -> StructType:
    """``schema`` plus new ``(name, spark_sql_type)`` fields (replacing same-named ones) and,
    when ``reason``, the nullable :data:`REASON` column."""
    from pyspark.sql.types import StructField, StructType, _parse_datatype_string

    new = [(n, _parse_datatype_string(t)) for n, t in fields]
    if reason and all(n != REASON for n, _ in fields):
        new.append((REASON, _parse_datatype_string("string")))
    names = {n for n, _ in new}
    kept = [f for f in schema.fields if f.name not in names]
    return StructType(kept + [StructField(n, t, True) for n, t in new])


def arrow_schema(schema: StructType) -> pa.Schema:
    """The Arrow schema Spark expects back from ``mapInArrow`` for ``schema``."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema)


def _conform(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """Reorder and cast ``batch`` to ``target`` (string vs large_string, int widths ...)."""
    cols = []
    for f in target:
        if f.name in batch.schema.names:
            col = batch.column(f.name)
            cols.append(col if col.type == f.type else col.cast(f.type))
        else:
            cols.append(pa.nulls(batch.num_rows, f.type))
    return pa.RecordBatch.from_arrays(cols, schema=target)


def map_batches(df: DataFrame, fn: BatchFn, params: Any, schema: StructType) -> DataFrame:
    """``df.mapInArrow`` with ``fn(batch, params)``, output conformed to ``schema``. The CPU
    seconds inside ``fn`` go to the running stage's ``document_cpu_s`` (:mod:`~corpus.engine.timings`)."""
    target = arrow_schema(schema)
    acc = timings.document_accumulator()

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        spent = 0.0
        try:
            for batch in batches:
                if batch.num_rows:
                    start = timings.cpu_seconds()
                    out = fn(batch, params)
                    spent += timings.cpu_seconds() - start
                    yield _conform(out, target)
        finally:
            if acc is not None:
                acc.add(spent)

    return df.mapInArrow(run, schema)


def with_columns(
    batch: pa.RecordBatch,
    columns: Mapping[str, pa.Array],
    reasons: Sequence[str | None] | pa.Array | None = None,
) -> pa.RecordBatch:
    """``batch`` with ``columns`` set (a same-named column is replaced in place, new ones are
    appended in the given order) and, when ``reasons`` is given (one per row, None = kept),
    the :data:`REASON` column. Every column must have ``batch.num_rows`` rows.

    The per-document stages build their output with this: the input columns pass through
    untouched (zero copy), so a stage only says what it adds.
    """
    out = {name: batch.column(name) for name in batch.schema.names}
    out.update(columns)
    if reasons is not None:
        out[REASON] = reasons if isinstance(reasons, pa.Array) else pa.array(reasons, pa.string())
    return pa.RecordBatch.from_pydict(out)


def map_documents(
    df: DataFrame, fn: BatchFn, params: Any, columns: Sequence[tuple[str, str]] = (), reason: bool = True
) -> DataFrame:
    """``df`` through ``fn(batch, params)`` with ``columns`` (``(name, spark_sql_type)``) added
    to its schema, plus the :data:`REASON` column when ``reason``."""
    return map_batches(df, fn, params, extend_schema(df.schema, columns, reason=reason))


@dataclass(frozen=True)
class DocumentMap:
    """What a per-document stage does to each batch, for the runner to apply itself (shard by
    shard, several stages in one pass: :mod:`corpus.engine.pieces`): ``fn(batch, params)``
    with output conformed to ``schema`` (input schema + columns + :data:`REASON`)."""

    fn: BatchFn
    params: Any
    schema: StructType

    def same_work(self, other: DocumentMap | None) -> bool:
        """Whether ``other`` maps batches exactly as this does (same function, params, schema)."""
        return (
            other is not None
            and other.fn is self.fn
            and other.params == self.params
            and other.schema == self.schema
        )


def pass_through(batch: pa.RecordBatch, params: Any) -> pa.RecordBatch:
    """The :class:`DocumentMap` of a source stage: its rows come out of the reader as they are."""
    return batch


@dataclass(frozen=True)
class SourceMap:
    """What a source stage reads, for the runner to read itself: ``read(unit, params)`` yields
    the Arrow batches (``schema`` + :data:`REASON`) of one work unit (a JSON string: some
    files, a repository ...), each a piece of :mod:`corpus.engine.pieces` in list order: its
    rows are written by the task that reads them, and the per-document stages after it join
    the same pass
    (:mod:`corpus.engine.pieces`), so the rows never go through the JVM, a spill or a shuffle."""

    units: list[str]
    read: Callable[[str, Any], Iterator[pa.RecordBatch]]
    params: Any
    tasks_per_core: int = TASKS_PER_CORE
    """Units go to at most this many Spark tasks a core (runs of consecutive units): more for
    units that take seconds each (WARC files), so the scheduler evens them out; a Spark task
    costs tens of milliseconds (:data:`corpus.engine.listing.TASKS_PER_CORE`)."""


def source_stage(
    ctx: StageContext,
    units: list[str],
    read: Callable[[str, Any], Iterator[pa.RecordBatch]],
    params: Any,
    schema: StructType,
    tasks_per_core: int = TASKS_PER_CORE,
    **output: Any,
) -> StageOutput:
    """The whole ``run`` of a source stage that reads work ``units`` with ``read`` (see
    :class:`SourceMap`); ``schema`` includes :data:`REASON`. ``rows`` reads the same units
    with ``mapInArrow`` (for callers that want a DataFrame); the runner reads them itself."""

    def task(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        target = arrow_schema(schema)
        for batch in batches:
            for unit in batch.column("unit").to_pylist():
                for out in read(unit, params):
                    yield _conform(out, target)

    timed = timings.timed(task)
    listing = pa.table({"unit": pa.array(units, pa.string())})
    return StageOutput(
        rows=listing_map(ctx.spark, listing, lambda batch: timed([batch]), schema, len(units)),
        document=DocumentMap(pass_through, None, schema),
        source=SourceMap(list(units), read, params, tasks_per_core),
        **output,
    )


def document_stage(
    ctx: StageContext,
    fn: BatchFn,
    params: Any,
    columns: Sequence[tuple[str, str]] = (),
    **output: Any,
) -> StageOutput:
    """The whole ``run`` of a per-document stage: its single input through ``fn`` (which sets
    ``columns`` and the removal reason, see :func:`with_columns`); ``output`` goes to
    :class:`StageOutput` (``metrics``, ``retry_column`` ...). The rows are also described as
    a :class:`DocumentMap`, so the runner can apply ``fn`` to the committed input's shards
    directly (no shuffle) and fuse consecutive per-document stages."""
    schema = extend_schema(ctx.input.schema, columns)
    rows = map_batches(ctx.input, fn, params, schema)
    return StageOutput(rows=rows, document=DocumentMap(fn, params, schema), **output)
