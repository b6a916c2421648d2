"""The mixture stage end to end on 10,000 documents: dataset -> tokenize -> mixture -> two
phase streams. Default policy: the top web bucket gets >= 3.2 epochs, the lowest buckets go to
``_removed`` with ``mixture:dropped_bucket:<b>``, and the epochs realised in each stream's
tokens match the mixture artifact within 2 % per group."""

import json

import numpy as np
import pyarrow as pa

from tests.scoring import helpers

WORDS = "the of and a to in is you that it he was for on are as with his they at be this from".split()


def _docs(n: int) -> dict[str, list]:
    rng = np.random.default_rng(11)
    source = np.where(np.arange(n) % 10 < 8, "web", np.where(np.arange(n) % 10 == 8, "multilingual", "code"))
    lengths = rng.integers(5, 120, n)
    web = source == "web"
    return {
        "id": [f"d{i:05d}" for i in range(n)],
        "text": [" ".join(rng.choice(WORDS, k)) for k in lengths],
        "source": source.tolist(),
        "bucket": pa.array(np.where(web, rng.integers(0, 20, n), -1), pa.int32()).tolist(),
        "score_math_sci": pa.array(np.where(web, rng.random(n) * 0.6, np.nan), pa.float32()).tolist(),
        "score_edu_multilingual": pa.array(rng.random(n) * 5, pa.float32()).tolist(),
    }


def test_default_mixture_realised_epochs_match_the_artifact(spark, tmp_path):
    n = 10_000
    docs = _docs(n)
    for col in ("bucket", "score_math_sci"):  # non-web rows have no bucket / math score
        docs[col] = [v if s == "web" else None for v, s in zip(docs[col], docs["source"], strict=True)]
    glob = helpers.write_docs(tmp_path / "in", docs, files=3)
    out = tmp_path / "out"

    def stream(phase):
        return {
            "kind": "stream",
            "name": phase,
            "inputs": {"input": "mixture", "epochs_from": "mixture"},
            "phase": phase,
            "pack": "truncate",
            "seq_len": 64,
        }

    helpers.run(
        spark,
        tmp_path,
        out,
        [
            helpers.dataset_stage(glob),
            {"kind": "tokenize", "train_vocab_size": 300, "train_sample_docs": 2000},
            {"kind": "mixture"},
            stream("phase1"),
            stream("phase2"),
        ],
        seed=3,
    )
    mix = json.loads((out / "mixture" / "artifacts" / "mixture.json").read_text())
    assert (out / "mixture" / "artifacts" / "mixture.png").stat().st_size > 1000
    assert mix["tokens_estimated"] is False  # counted after tokenising
    groups = {(g["source"], g["group"]): g for g in mix["groups"]}
    assert groups[("web", "high")]["epochs"]["phase1"] >= 3.2
    assert groups[("multilingual", "high_utility")]["epochs"]["phase1"] > 1
    assert groups[("web", "math_sci")]["epochs"]["phase1"] > 1
    assert groups[("code", "code")]["epochs"]["phase2"] > groups[("code", "code")]["epochs"]["phase1"]

    # the lowest web buckets are in _removed with their bucket as the reason
    removed = dict(helpers.removed(out / "mixture"))
    expect = {
        i: f"mixture:dropped_bucket:{b}"
        for i, s, b, m in zip(docs["id"], docs["source"], docs["bucket"], docs["score_math_sci"], strict=True)
        if s == "web" and b <= 3
    }
    assert removed == expect and len(expect) > 1000
    manifest = json.loads((out / "mixture" / "_manifest.json").read_text())
    assert manifest["rows_removed"] == len(expect) and manifest["rows_kept"] + len(expect) == n
    # the streams name the tokenizer, through the mixture (export and bits per byte read it)
    tok = json.loads((out / "tokenize" / "_manifest.json").read_text())["metrics"]["tokenizer"]
    assert json.loads((out / "phase1" / "_manifest.json").read_text())["metrics"]["tokenizer"] == tok

    # realised epochs in the token streams vs the artifact, per group and phase
    for phase in ("phase1", "phase2"):
        sm = json.loads((out / phase / "_manifest.json").read_text())["metrics"]
        for (source, group), g in groups.items():
            if g["dropped"]:
                continue
            want = g["epochs"][phase]
            label = f"{source}/{group}"
            realised_tokens = sm["tokens_per_group"].get(label, 0) / g["tokens"]
            assert abs(realised_tokens - want) <= 0.02 * want, (phase, label, realised_tokens, want)
            assert abs(sm["groups"][label]["epochs_realised"] - want) <= 0.02 * want
            assert sm["groups"][label]["epochs_requested"] == want
