"""exact_dedup stage: normalised-text hash, deterministic representative, duplicate_of reasons."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from corpus.stages.base import REASON, StageContext
from corpus.stages.exact_dedup import Params, hash_batch, run

TEXT = "The council approved the new library budget on Tuesday."
VARIANT = "  the COUNCIL approved the new library budget on Tuesday!!\n"
OTHER = "The council rejected the new library budget on Tuesday."


def test_hash_ignores_case_punctuation_and_spacing_only():
    batch = pa.RecordBatch.from_pydict({"id": ["a", "b", "c", "d"], "text": [TEXT, VARIANT, OTHER, ""]})
    hashes = hash_batch(batch, Params()).column("text_hash").to_pylist()
    assert hashes[0] == hashes[1]
    assert len({hashes[0], hashes[2], hashes[3]}) == 3
    assert all(len(h) == 32 for h in hashes)


def _ctx(spark, df, tmp_path):
    return StageContext(
        spark=spark,
        name="exact_dedup",
        seed=0,
        inputs={"prev": df},
        base_dir=Path.cwd(),
        output_dir=str(tmp_path),
    )


def test_keeps_smallest_id_and_names_it(spark, tmp_path):
    rows = [("d3", VARIANT), ("d1", TEXT), ("d2", TEXT + " "), ("d9", OTHER)]
    # Spread the group over partitions: the choice must not depend on where rows land.
    df = spark.createDataFrame(rows, "id string, text string").repartition(3)
    out = {r["id"]: r for r in run(_ctx(spark, df, tmp_path), Params()).rows.collect()}
    assert {k: r[REASON] for k, r in out.items()} == {
        "d1": None,
        "d2": "duplicate_of:d1",
        "d3": "duplicate_of:d1",
        "d9": None,
    }
    assert out["d1"]["dup_count"] == 3 and out["d9"]["dup_count"] == 1
    assert out["d1"]["text"] == TEXT  # text is not rewritten


def test_prefers_highest_quality_score_when_present(spark, tmp_path):
    rows = [("d1", TEXT, 0.2), ("d2", VARIANT, 0.9), ("d3", TEXT, None)]
    df = spark.createDataFrame(rows, "id string, text string, quality_score double")
    out = {r["id"]: r[REASON] for r in run(_ctx(spark, df, tmp_path), Params()).rows.collect()}
    assert out == {"d1": "duplicate_of:d2", "d2": None, "d3": "duplicate_of:d2"}
    by_id = {
        r["id"]: r[REASON]
        for r in run(_ctx(spark, df, tmp_path), Params(prefer_quality=False)).rows.collect()
    }
    assert by_id == {"d1": None, "d2": "duplicate_of:d1", "d3": "duplicate_of:d1"}
