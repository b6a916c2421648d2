"""The ``minhash`` stage on Spark: judged against brute-force exact Jaccard over all pairs of a
planted corpus, and the stage contract (accounting, reasons, representatives, cluster sizes)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from corpus.dedup.minhash_sig import s_curve_threshold
from corpus.engine.runner import write_output
from corpus.stages import minhash
from corpus.stages.base import REASON, StageContext
from tests.dedup.neardups import exact_jaccard_pairs, planted_corpus, sentences


def _run(spark, rows: list[dict], schema: str, tmp_path: Path, seed: int = 0, partitions: int = 3, **params):
    df = spark.createDataFrame([tuple(r[c.split()[0]] for c in schema.split(", ")) for r in rows], schema)
    ctx = StageContext(
        spark=spark,
        name="minhash",
        seed=seed,
        inputs={"heuristics": df.repartition(partitions)},
        base_dir=Path.cwd(),
        output_dir=str(tmp_path),
    )
    return minhash.run(ctx, minhash.Params(**params))


def _clusters(rows) -> dict[str, str]:
    """id -> representative id (itself when kept)."""
    rep = {}
    for r in rows:
        reason = r[REASON]
        rep[r["id"]] = reason.removeprefix(minhash.REASON_PREFIX) if reason else r["id"]
    return rep


def test_oracle_against_exact_jaccard(spark, shared_data, tmp_path):
    """~2,400 documents: 1,500 of real sentences, 600 of them with 1-2 variants edited to a
    Jaccard level drawn from 0.30, 0.35, ..., 1.00. With t = (1/14)^(1/8) = 0.719 and candidate
    pairs verified at t:

    * recall >= 0.95 over all pairs with exact Jaccard >= t + 0.05;
    * precision >= 0.95, a merged pair (same cluster) counting as correct when its exact
      Jaccard >= t - 0.05 (the band [t - 0.05, t + 0.05) is the S-curve's grey zone);
    * no merged pair below t - 0.15.
    """
    levels = tuple(float(x) for x in np.round(np.arange(0.30, 1.0001, 0.05), 2))
    docs = planted_corpus(sentences(shared_data), 1500, 600, levels, seed=0)
    truth = exact_jaccard_pairs([d["text"] for d in docs])
    t = s_curve_threshold(14, 8)
    out = _run(spark, docs, "id string, text string", tmp_path, verify_threshold=round(t, 4))
    rep = _clusters(out.rows.select("id", REASON).collect())
    assert len(rep) == len(docs)

    index = {d["id"]: i for i, d in enumerate(docs)}
    members: dict[str, list[int]] = {}
    for doc_id, r in rep.items():
        members.setdefault(r, []).append(index[doc_id])
    merged = {tuple(sorted(p)) for m in members.values() for p in combinations(m, 2)}
    positives = {p for p, j in truth.items() if j >= t + 0.05}
    assert len(positives) > 200  # the planted corpus really has near-duplicates to find
    recall = len(positives & merged) / len(positives)
    precision = sum(truth.get(p, 0.0) >= t - 0.05 for p in merged) / len(merged)
    too_far = sorted(truth.get(p, 0.0) for p in merged if truth.get(p, 0.0) < t - 0.15)
    assert recall >= 0.95, recall
    assert precision >= 0.95, precision
    assert too_far == []
    assert out.metrics["duplicates_removed"] == sum(len(m) - 1 for m in members.values())
    assert out.metrics["s_curve_threshold"] == pytest.approx(t, abs=1e-4)


def test_contract_representatives_and_accounting(spark, tmp_path):
    base = (
        "Apache Spark distributes the shuffle across executors so that no single machine has to hold "
        "every candidate pair while the connected components of the duplicate graph are computed"
    )
    rows = [
        {"id": "a", "text": base, "quality_score": 0.2},
        {"id": "b", "text": base + ".", "quality_score": 0.9},  # best quality: representative
        {"id": "c", "text": base.upper(), "quality_score": None},
        {
            "id": "d",
            "text": "A completely different page about baking sourdough bread at home.",
            "quality_score": 0.5,
        },
        {"id": "e", "text": "", "quality_score": 0.1},
        {"id": "f", "text": None, "quality_score": 0.1},
        {"id": "g", "text": "too short", "quality_score": 0.3},
        {"id": "h", "text": "Too short!", "quality_score": float("nan")},
    ]
    out = _run(spark, rows, "id string, text string, quality_score double", tmp_path)
    got = {r["id"]: r for r in out.rows.collect()}
    assert set(got) == {r["id"] for r in rows}
    assert {k: v[REASON] for k, v in got.items()} == {
        "a": "minhash_duplicate_of:b",
        "b": None,
        "c": "minhash_duplicate_of:b",
        "d": None,
        "e": None,
        "f": None,
        "g": None,  # NaN quality ranks last: g (0.3) is kept
        "h": "minhash_duplicate_of:g",
    }
    assert {k: v["dup_cluster_size"] for k, v in got.items()} == {
        "a": 3, "b": 3, "c": 3, "d": 1, "e": 1, "f": 1, "g": 2, "h": 2,
    }  # fmt: skip
    assert out.metrics["cluster_size_histogram"] == {"2": 1, "3-4": 1}
    assert out.metrics["duplicates_removed"] == 3
    counts = write_output(out, str(tmp_path / "minhash"))
    assert counts["rows_kept"] + counts["rows_removed"] == len(rows)
    assert counts["removed_by_reason"] == {"minhash_duplicate_of": 3}


def test_same_rows_whatever_the_partitioning_and_smallest_id_without_quality(spark, shared_data, tmp_path):
    docs = planted_corpus(sentences(shared_data, ("en",)), 150, 60, (0.8, 0.9, 1.0), seed=5, prefix="p")
    runs = [
        sorted(
            _run(spark, docs, "id string, text string", tmp_path, partitions=p, seed=11)
            .rows.select("id", "dup_cluster_size", REASON)
            .collect()
        )
        for p in (1, 7)
    ]
    assert runs[0] == runs[1]
    removed = [r for r in runs[0] if r[REASON]]
    assert len(removed) > 30
    for r in removed:  # no quality column: the representative is the smallest id
        assert r[REASON].removeprefix(minhash.REASON_PREFIX) < r["id"]
