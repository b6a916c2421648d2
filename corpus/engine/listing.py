"""Driver-side listings (files, work units, pieces) handed to Python tasks without a Python RDD.

``spark.createDataFrame(sc.parallelize(rows))`` converts the rows in Python workers of their
own: Spark keys its worker daemons by the runner's environment, so that conversion and the
``mapInArrow`` that follows start two daemons per executor, each importing the pipeline's
preloaded modules (:mod:`corpus.engine.daemon`) one after the other: 6.5 s of one core each
for the web stages, measured with Spark's event log and py-spy on a 22k-record run. Here the
tasks are a JVM-only ``spark.range`` and each Python task takes its rows from the listing
shipped with the function (PySpark broadcasts a pickled function over 1 MB itself).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

TASKS_PER_CORE = 4
"""Pieces (row groups, source units) go to at most this many Spark tasks per core, each a run
of consecutive pieces: a task costs tens of milliseconds of JVM and Python CPU, a cheap stage
(a fastText score) about as much per 1,000-row piece, and four tasks a core still even out
pieces of unequal cost. Output files are per piece either way."""


_FROZEN = 0
"""Pid of the process that froze (a forked child inherits the value and freezes for itself)."""


def _freeze_once() -> None:
    """After a Python worker's first task: one collection, then ``gc.freeze()``, so the models
    and tables its batch functions loaded lazily (fastText, go-enry, a language's tokenizer ...)
    are not walked again by the ``gc.collect()`` PySpark runs after every task (see
    :func:`corpus.engine.daemon.preload`, which does the same for what the daemon preloads)."""
    global _FROZEN
    if _FROZEN != os.getpid():
        _FROZEN = os.getpid()
        gc.collect()
        gc.freeze()


def listing_map(
    spark: SparkSession,
    listing: pa.Table,
    fn: Callable[[pa.RecordBatch], Iterator[pa.RecordBatch]],
    schema: StructType | str,
    tasks: int,
) -> DataFrame:
    """``fn`` over the rows of ``listing`` in ``tasks`` Spark tasks, each a run of consecutive
    rows (as ``parallelize`` slices them), its output rows a DataFrame of ``schema``.

    ``fn`` gets the task's rows as one RecordBatch with ``listing``'s columns, in listing order;
    a task without rows does not call it."""
    rows = listing.num_rows

    def task(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        ids = [i for b in batches for i in b.column("id").to_pylist()]
        if ids:
            yield from fn(listing.take(pa.array(ids, pa.int64())).combine_chunks().to_batches()[0])
        _freeze_once()

    return spark.range(0, rows, 1, max(1, min(tasks, rows))).mapInArrow(task, schema)
