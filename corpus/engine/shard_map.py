"""Map a pure batch function over a committed dataset shard by shard: partition i = shard i.

Why: a per-document map (tokenize) needs no shuffle to be deterministic when its input is a
committed dataset — the runner already split it deterministically (by id hash, or piece by
piece for per-document stages) — so the
output can keep that split: output shard i holds input shard i's rows in the same order, on
any master. Spark's Parquet reader packs and splits files by size and core count, so the
shards are read here with pyarrow instead, one task per shard, in manifest order. With the
runner's writer (``StageOutput(keep_partitions=True)``) the rows then
never leave Python workers except once through the JVM: no shuffle, no sort, no persist.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.engine import fs, timings
from corpus.engine.arrow_map import BatchFn, _conform, arrow_schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

BATCH_ROWS = 1000
"""Rows per batch handed to the batch function (as Spark's ``arrow.maxRecordsPerBatch``)."""


def shard_files(dataset: str, manifest: dict[str, Any]) -> list[str]:
    """The dataset's shards in manifest order."""
    return [fs.join(dataset, s["file"]) for s in manifest.get("shards", [])]


def map_shards(
    spark: SparkSession, files: list[str], fn: BatchFn, params: Any, schema: StructType
) -> DataFrame:
    """``fn(batch, params)`` over every row of ``files``; partition i holds file i's rows in
    file order, conformed to ``schema``."""
    if not files:
        return spark.createDataFrame([], schema)
    target = arrow_schema(schema)
    acc = timings.document_accumulator()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        spent = 0.0
        try:
            for batch in batches:
                for i in batch.column("id").to_pylist():
                    with fs.open_binary(files[i]) as f:
                        for part in pq.ParquetFile(f).iter_batches(batch_size=BATCH_ROWS):
                            if part.num_rows:
                                start = timings.cpu_seconds()
                                out = fn(part, params)
                                spent += timings.cpu_seconds() - start
                                yield _conform(out, target)
        finally:
            if acc is not None:
                acc.add(spent)

    # range(n) in n partitions: partition i holds exactly i, with no Python worker to build it
    return spark.range(len(files), numPartitions=len(files)).mapInArrow(run, schema)
