"""The score stage on Spark: a shipped classifier by path and a train_classifier artifact by
role give, for every row, exactly the score the classifier computes in-process."""

import json
from pathlib import Path

import numpy as np
import pytest

from corpus.scoring import classifier
from tests.scoring import helpers

ROOT = Path(__file__).resolve().parents[2]
MATH = [
    "The derivative of a polynomial of degree n is a polynomial of degree n - 1.",
    "Compute the eigenvalues of the matrix and solve the linear system by Gaussian elimination.",
    "The integral of sin(x) from 0 to pi equals 2, by the fundamental theorem of calculus.",
]
OTHER = [
    "Use git rebase to move your branch onto the latest commit of the main branch.",
    "The configuration file lists the virtual hosts the web server answers for.",
    "Press the escape key to leave insert mode and return to normal mode.",
]


def test_scores_by_path_and_by_artifact_role(spark, tmp_path):
    n = 240
    texts = [(MATH if i % 2 else OTHER)[i % 3] + f" Example {i}." for i in range(n)]
    docs = {
        "id": [f"r{i:04d}" for i in range(n)],
        "text": texts,
        "source": ["web"] * n,
        "annotation": [float(i % 2) * 5.0 for i in range(n)],  # 5 = the math sentences, 0 = others
    }
    glob = helpers.write_docs(tmp_path / "in", docs, files=2)
    out = tmp_path / "out"
    helpers.run(
        spark,
        tmp_path,
        out,
        [
            helpers.dataset_stage(glob),
            {
                "kind": "train_classifier",
                "name": "train",
                "classifier": {
                    "name": "toy",
                    "threshold": 3.0,
                    "edges": [2.5],
                    "fasttext": {"dim": 8, "epoch": 5, "bucket": 5000, "quantize": False},
                    "labels_are": "5 for the sentences the test calls math, 0 for the others",
                },
            },
            {
                "kind": "score",
                "inputs": {"input": "docs", "model": "train"},
                "classifiers": {"math_sci": str(ROOT / "classifiers" / "math_sci")},
            },
        ],
    )
    card = json.loads((out / "train" / "artifacts" / "model_card.json").read_text())
    assert card["name"] == "toy" and card["rows"]["train"] + card["rows"]["heldout"] == n
    manifest = json.loads((out / "train" / "_manifest.json").read_text())
    assert manifest["metrics"]["heldout"]["auc"] == card["metrics"]["heldout"]["auc"]
    assert {a["file"] for a in manifest["artifacts"]} >= {"artifacts/model.bin", "artifacts/model_card.json"}

    got = helpers.rows(out / "score", "id, text, score_toy, score_math_sci")
    assert len(got) == n
    texts_sorted = [r[1] for r in got]
    want_toy = classifier.score(str(out / "train" / "artifacts"), texts_sorted)
    want_math = classifier.score(str(ROOT / "classifiers" / "math_sci"), texts_sorted)
    np.testing.assert_allclose([r[2] for r in got], want_toy, rtol=1e-6)
    np.testing.assert_allclose([r[3] for r in got], want_math, rtol=1e-6)
    # the toy labels are learnable: math rows score above the others
    toy = np.array([r[2] for r in got])
    is_math = np.array([int(r[0][1:]) % 2 == 1 for r in got])
    assert toy[is_math].mean() > 2.5 > toy[~is_math].mean()
    scores = json.loads((out / "score" / "_manifest.json").read_text())["metrics"]["scores"]
    assert scores["score_toy"]["rows"] == n and sum(scores["score_toy"]["histogram"]) == n
    h = scores["score_toy"]
    assert (h["min"], h["max"]) == (float(toy.min()), float(toy.max()))
    assert h["mean"] == pytest.approx(float(toy.mean()))
    edges = np.linspace(h["min"], h["max"], 21)
    assert h["histogram"] == np.histogram(toy, bins=edges)[0].tolist()  # 20 bins, last one closed
