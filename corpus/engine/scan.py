"""Read a few columns of a committed dataset on the driver with pyarrow.

For the metrics a stage computes over its written rows (``StageOutput.after_write``): a Spark
job costs seconds of JVM CPU (planning, code generation, a shuffle) on the cores the workers
use, more than reading a couple of narrow columns of the shards takes. Columns only: never
the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.engine import fs

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

BATCH_ROWS = 1 << 20


def scan(kept: DataFrame, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Batches of ``columns`` of every shard ``kept`` reads (a committed dataset's kept rows,
    as the runner hands them to ``after_write``), shard by shard in name order."""
    for path in sorted(kept.inputFiles()):
        with fs.open_binary(path) as f:
            yield from pq.ParquetFile(f).iter_batches(columns=columns, batch_size=BATCH_ROWS)


def table(kept: DataFrame, columns: list[str]) -> pa.Table:
    """``columns`` of all of ``kept`` as one table (for narrow columns)."""
    batches = list(scan(kept, columns))
    if batches:
        return pa.Table.from_batches(batches)
    return pa.table({c: pa.array([], pa.null()) for c in columns})
