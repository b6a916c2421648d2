"""The bucket stage on Spark: exact token-weighted thresholds, ensemble max, levels, frozen
thresholds across partitionings and on local[1], and the grid approximation's stated bound."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from corpus.scoring import buckets
from tests.scoring import helpers

ROOT = Path(__file__).resolve().parents[2]


def test_bucket_boundaries_ensemble_and_frozen_thresholds(spark, tmp_path):
    docs = helpers.rng_docs(3000, seed=5)
    glob1 = helpers.write_docs(tmp_path / "in1", docs, files=1)
    out = tmp_path / "out"
    levels = {"low": [0, 3], "high": [16, 19]}
    helpers.run(
        spark,
        tmp_path,
        out,
        [helpers.dataset_stage(glob1), {"kind": "bucket", "name": "bucket", "levels": levels}],
    )
    # expected thresholds straight from numpy over the same float32 scores and token counts
    tokens = np.asarray(docs["n_tokens"].to_numpy(), dtype=np.float64)
    spec = json.loads((out / "bucket" / "artifacts" / "thresholds.json").read_text())
    for col in ("score_a", "score_b"):
        scores = docs[col].to_numpy().astype(np.float64)
        expect = buckets.weighted_thresholds(scores, tokens)
        assert spec["columns"][col]["thresholds"] == expect
        assert spec["columns"][col]["method"] == "exact"
    got = helpers.rows(out / "bucket", "id, bucket_a, bucket_b, bucket, quality_level")
    ba = buckets.assign(docs["score_a"].to_numpy(), spec["columns"]["score_a"]["thresholds"])
    bb = buckets.assign(docs["score_b"].to_numpy(), spec["columns"]["score_b"]["thresholds"])
    assert [r[1] for r in got] == ba.tolist() and [r[2] for r in got] == bb.tolist()
    assert [r[3] for r in got] == np.maximum(ba, bb).tolist()  # ensemble = max
    assert [r[4] for r in got] == [buckets.level_of(int(b), levels) for b in np.maximum(ba, bb)]
    # each classifier's buckets hold ~5 % of the tokens (one document is < 0.1 % of them)
    share = np.bincount(ba, weights=tokens, minlength=20) / tokens.sum()
    assert np.all(np.abs(share - 0.05) < 0.005)
    manifest = json.loads((out / "bucket" / "_manifest.json").read_text())
    assert manifest["rows_kept"] == 3000 and manifest["rows_removed"] == 0

    # the same documents in 7 files (more partitions), bucketed with the frozen thresholds
    glob2 = helpers.write_docs(tmp_path / "in2", docs, files=7)
    out2 = tmp_path / "out2"
    helpers.run(
        spark,
        tmp_path,
        out2,
        [
            helpers.dataset_stage(glob2),
            {"kind": "bucket", "name": "bucket", "thresholds_from": str(out / "bucket")},
        ],
    )
    assert json.loads((out2 / "bucket" / "artifacts" / "thresholds.json").read_text()) == spec
    assert helpers.rows(out2 / "bucket", "id, bucket_a, bucket_b, bucket, quality_level") == got
    assert json.loads((out2 / "bucket" / "_manifest.json").read_text())["metrics"]["frozen"] is True

    # and on another master: `corpus run --master local[1]` in a subprocess (a second Spark
    # session cannot live beside this one), the same documents in 3 files
    out3 = tmp_path / "out3"
    spec3 = {
        "name": "t",
        "output": str(out3),
        "stages": [
            helpers.dataset_stage(helpers.write_docs(tmp_path / "in3", docs, files=3)),
            {"kind": "bucket", "name": "bucket", "thresholds_from": str(out / "bucket")},
        ],
    }
    (tmp_path / "local1.yaml").write_text(yaml.safe_dump(spec3))
    cmd = [sys.executable, "-m", "corpus.cli", "run", str(tmp_path / "local1.yaml"), "--master", "local[1]"]
    env = {**os.environ, "CORPUS_DRIVER_MEMORY": "1g"}
    r = subprocess.run(
        [*cmd, "--no-progress"], cwd=ROOT, env=env, timeout=600, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert json.loads((out3 / "bucket" / "_manifest.json").read_text())["engine"]["master"] == "local[1]"
    assert helpers.rows(out3 / "bucket", "id, bucket_a, bucket_b, bucket, quality_level") == got


def test_grid_thresholds_state_their_bound_and_errors(spark, tmp_path):
    docs = helpers.rng_docs(2000, seed=9)
    glob1 = helpers.write_docs(tmp_path / "in", docs, files=2)
    out = tmp_path / "out"
    stage = {
        "kind": "bucket",
        "name": "bucket",
        "scores": ["score_a"],
        "exact_max_distinct": 10,
        "grid": 1000,
    }
    helpers.run(spark, tmp_path, out, [helpers.dataset_stage(glob1), stage])
    spec = json.loads((out / "bucket" / "artifacts" / "thresholds.json").read_text())["columns"]["score_a"]
    exact = buckets.weighted_thresholds(
        docs["score_a"].to_numpy().astype(np.float64), docs["n_tokens"].to_numpy()
    )
    assert spec["method"].startswith("grid") and 0 < spec["max_error"] < 1.0 / 1000 + 1e-9
    assert np.all(np.abs(np.array(spec["thresholds"]) - exact) <= spec["max_error"] + 1e-9)

    from corpus.errors import UserError

    with pytest.raises(UserError, match="no score column"):
        helpers.run(
            spark,
            tmp_path,
            tmp_path / "o3",
            [helpers.dataset_stage(glob1), {"kind": "bucket", "scores": ["score_zzz"]}],
        )
