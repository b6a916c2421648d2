"""engine.listing: tasks take their rows from the shipped listing, in order; a reused worker
freezes the collector's view after its first task."""

from __future__ import annotations

import gc
import os

import pyarrow as pa
import pytest

from corpus.engine.listing import listing_map

pytestmark = pytest.mark.spark


def _probe(batch: pa.RecordBatch):
    n = batch.num_rows
    yield pa.RecordBatch.from_pydict(
        {
            "unit": batch.column("unit"),
            "pid": pa.array([os.getpid()] * n, pa.int64()),
            "frozen": pa.array([gc.get_freeze_count()] * n, pa.int64()),
        }
    )


def test_rows_come_in_listing_order_and_reused_workers_are_frozen(spark):
    listing = pa.table({"unit": [f"u{i}" for i in range(12)]})
    schema = "unit string, pid long, frozen long"
    first = listing_map(spark, listing, _probe, schema, tasks=4).collect()
    assert [r["unit"] for r in first] == listing.column("unit").to_pylist()
    second = listing_map(spark, listing, _probe, schema, tasks=4).collect()
    # a worker that ran a task before has frozen what it had loaded (PySpark's gc.collect()
    # after every task then skips it)
    reused = [r for r in second if r["pid"] in {s["pid"] for s in first}]
    assert reused and all(r["frozen"] > 0 for r in reused)
