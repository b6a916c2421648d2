"""Fusion (issue 17): consecutive per-document stages run in one pass over the data, and each
stage's committed rows, ``_removed``, shards and counts are exactly what it commits alone."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.engine.manifest import read_manifest
from tests.engine.conftest import web_pipeline

DOCUMENT_STAGES = ["extract", "langid", "heuristics"]
SAME = ("rows_in", "rows_kept", "rows_removed", "removed_by_reason", "schema", "shards", "removed_shards")


def test_fused_web_stages_commit_what_they_commit_alone(spark, web_reference, sample_warc, tmp_path):
    """The session's web run (fused: the WARC reader → extract → langid → heuristics in one
    pass) against the same stages run one by one."""
    from corpus.engine.runner import run_pipeline
    from corpus.spec import load_pipeline

    _, fused_out = web_reference
    alone_out = tmp_path / "out"
    path = web_pipeline(tmp_path, sample_warc, alone_out, ["warc", *DOCUMENT_STAGES])
    results = run_pipeline(spark, load_pipeline(path), progress=False, fuse=False)
    assert [r["status"] for r in results] == ["ran", "ran", "ran", "ran"]

    for name in ["warc", *DOCUMENT_STAGES]:
        fused, alone = read_manifest(str(fused_out / name)), read_manifest(str(alone_out / name))
        assert {k: fused[k] for k in SAME} == {k: alone[k] for k in SAME}, name
        assert "fused_with" not in alone["timings"]
        assert fused["timings"]["fused_with"] == ["warc", *DOCUMENT_STAGES], name
        for part in (".", "_removed"):  # pyarrow skips "_removed" when reading the stage folder
            a, b = fused_out / name / part, alone_out / name / part
            assert a.exists() == b.exists(), (name, part)
            if a.exists():
                assert pq.read_table(a).equals(pq.read_table(b)), (name, part)
    assert read_manifest(str(fused_out / "heuristics"))["rows_removed"] > 0  # the rules had work


def test_chain_nests_pieces_and_row_groups(spark, tmp_path):
    """Two maps in one pass over pieces cut into several row groups (3 rows each): every row
    group of the first stage's kept file is one piece of the second, as when it runs alone."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    from corpus.engine.arrow_map import DocumentMap, with_columns
    from corpus.engine.pieces import Step, map_collect, run_chain
    from corpus.engine.write import finish
    from corpus.stages.base import Collect

    def drop_thirds(batch, _):
        xs = batch.column("x").to_pylist()
        return with_columns(
            batch, {"y": pa.array([x * 2 for x in xs])}, [None if x % 3 else "a:third" for x in xs]
        )

    def group_sum(batch, _):  # one row per row group: which rows, and a sum over them
        ids, xs = batch.column("id").to_pylist(), batch.column("x").to_pylist()
        return pa.RecordBatch.from_pydict({"ids": [",".join(ids)], "total": [sum(xs)]})

    def drop_fourths(batch, _):
        ys = batch.column("y").to_pylist()
        return with_columns(batch, {}, [None if y % 4 else "b:fourth" for y in ys])

    base = [StructField("id", StringType(), True), StructField("x", LongType(), True)]
    reason = StructField("_reason", StringType(), True)
    first = DocumentMap(drop_thirds, None, StructType([*base, StructField("y", LongType(), True), reason]))
    second = DocumentMap(drop_fourths, None, StructType([*base, StructField("y", LongType(), True), reason]))
    kept1 = StructType([f for f in first.schema.fields if f.name != "_reason"])

    files = []
    for n in range(2):
        xs = list(range(n * 40, n * 40 + 37))
        path = tmp_path / f"in-{n}.parquet"
        pq.write_table(pa.table({"id": [f"d{x:03d}" for x in xs], "x": xs}), path, row_group_size=10)
        files.append(str(path))

    def commit(folder, written, schema):
        return finish(str(folder), [w for w in written if w["part"] != "stats"], schema)

    fused, gathered = run_chain(
        spark,
        files,
        [Step(first, str(tmp_path / "f1"), 1 << 20, 3), Step(second, str(tmp_path / "f2"), 1 << 20, 3)],
        collect=Collect(group_sum, None, "ids string, total long"),
    )
    f1, f2 = commit(tmp_path / "f1", fused[0], kept1), commit(tmp_path / "f2", fused[1], kept1)
    (alone1,), _ = run_chain(spark, files, [Step(first, str(tmp_path / "a1"), 1 << 20, 3)])
    a1 = commit(tmp_path / "a1", alone1, kept1)
    (alone2,), _ = run_chain(
        spark,
        [str(tmp_path / "a1" / s["file"]) for s in a1["shards"]],
        [Step(second, str(tmp_path / "a2"), 1 << 20, 3)],
    )
    a2 = commit(tmp_path / "a2", alone2, kept1)

    assert len(f1["shards"]) == 8 and len(f2["shards"]) > len(f1["shards"])  # 8 pieces, nested groups
    assert (f1, f2) == (a1, a2)
    assert f2["rows_kept"] + f2["rows_removed"] == f1["rows_kept"] and f2["removed_by_reason"]["b:fourth"] > 0

    # the collector saw exactly the row groups a later pass reads from the committed files
    committed = [str(tmp_path / "f2" / s["file"]) for s in f2["shards"]]
    later = map_collect(spark, committed, group_sum, None, "ids string, total long")
    assert sorted(map(tuple, (r.values() for r in gathered.rows))) == sorted(
        map(tuple, (r.values() for r in later))
    )
    assert len(later) == sum(pq.ParquetFile(f).metadata.num_row_groups for f in committed) > 8
