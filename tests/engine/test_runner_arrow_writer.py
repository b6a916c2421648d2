"""The runner's Arrow writer: same rows -> same shard bytes, whatever the batching and the
input partitioning; kept/removed split and reason counts in one pass; row groups by bytes."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.engine.arrow_write import RowGroups, batch_row_bytes
from corpus.engine.manifest import verify_dataset, write_manifest
from corpus.stages.base import REASON, StageOutput


def test_row_groups_do_not_depend_on_batch_boundaries():
    ids = pa.array([[i] * (i % 13) for i in range(500)], pa.list_(pa.int32()))
    batch = pa.record_batch({"id": pa.array([f"d{i}" for i in range(500)]), "ids": ids})
    sizes = batch_row_bytes(batch)
    assert sizes[0] == 4 + 2 + 4 and sizes[12] == 4 + 3 + 4 + 12 * 4  # offsets + chars, offset + values

    def cuts(batches, limit):
        groups = RowGroups(limit)
        out = [sum(b.num_rows for b in g) for b in batches for g in groups.add(b)]
        return out + [sum(b.num_rows for b in g) for g in groups.rest()]

    whole = cuts([batch], 1000)
    assert cuts([batch.slice(0, 1), batch.slice(1, 250), batch.slice(251)], 1000) == whole
    assert cuts([batch.slice(i, 7) for i in range(0, 500, 7)], 1000) == whole
    assert len(whole) > 10 and sum(whole) == 500


def _write(spark, rows, folder, batch_rows: int, partitions: int) -> dict:
    from corpus.engine.runner import write_output

    df = spark.createDataFrame(rows, f"id string, ids array<int>, {REASON} string").repartition(partitions)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
    try:
        out = StageOutput(rows=df, shards=3, row_group_bytes=2048)
        counts = write_output(out, str(folder))
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
    write_manifest(str(folder), {**counts, "rows_in": len(rows), "balanced": True})
    return counts


def test_same_bytes_whatever_the_batching_and_partitioning(spark, tmp_path):
    rows = [
        (f"d{i:04d}", list(range(i % 50)), None if i % 10 else ("dup_of:d0" if i % 20 else "short"))
        for i in range(600)
    ]
    a = _write(spark, rows, tmp_path / "a", batch_rows=1000, partitions=1)
    b = _write(spark, rows, tmp_path / "b", batch_rows=7, partitions=5)
    assert [(s["file"], s["sha256"]) for s in a["shards"]] == [(s["file"], s["sha256"]) for s in b["shards"]]
    assert a["removed_shards"] == b["removed_shards"]
    assert a["rows_kept"] == 540 and a["removed_by_reason"] == {"dup_of": 30, "short": 30}
    assert verify_dataset(str(tmp_path / "a")) == []
    kept = pq.read_table(tmp_path / "a").to_pylist()
    assert sorted(r["id"] for r in kept) == [f"d{i:04d}" for i in range(600) if i % 10]
    assert all(r["ids"] == list(range(int(r["id"][1:]) % 50)) for r in kept)
    for s in a["shards"]:  # rows sorted by id in each shard, several row groups of ~2 KiB
        f = pq.ParquetFile(tmp_path / "a" / s["file"])
        ids = f.read().column("id").to_pylist()
        assert ids == sorted(ids) and f.metadata.num_row_groups > 1
    removed = pq.read_table(tmp_path / "a" / "_removed").to_pylist()
    assert {r["reason"] for r in removed} == {"dup_of:d0", "short"} and len(removed) == 60


def test_empty_output_still_has_a_shard(spark, tmp_path):
    counts = _write(spark, [("d0", [1], "short")], tmp_path / "e", batch_rows=1000, partitions=1)
    assert counts["rows_kept"] == 0 and len(counts["shards"]) == 1
    assert pq.read_table(tmp_path / "e" / "part-00000.parquet").num_rows == 0
