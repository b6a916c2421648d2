"""Token streams end to end through the real runner on 4,000 synthetic documents:
exact round trip, epochs, manifest vs DuckDB, and byte-identical shards on local[1]."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from corpus.tokens import fim, mixture
from corpus.tokens import tokenizer as tk

from .conftest import EPOCHS, SEED, SEQ_BEST_FIT, SEQ_TRUNCATE

ROOT = Path(__file__).resolve().parents[2]


def manifest(folder: Path) -> dict:
    return json.loads((folder / "_manifest.json").read_text())


def rows(folder: Path) -> list[dict]:
    return pq.read_table(sorted(str(p) for p in folder.glob("part-*.parquet"))).to_pylist()


@pytest.fixture(scope="module")
def tokenized(tokens_run):
    """Kept tokenize rows by id, with each document's repeats from the mixture rule."""
    docs = {r["id"]: r for r in rows(tokens_run["out"] / "tokenize")}
    ids = sorted(docs)
    epochs = [mixture.requested(EPOCHS, 1.0, docs[i]["source"], docs[i]["bucket"]) for i in ids]
    for i, n in zip(ids, mixture.repeats(ids, epochs, SEED), strict=True):
        docs[i]["repeats"] = int(n)
    return docs


def test_tokenize_stage(tokens_run, tokenized):
    out = tokens_run["out"]
    m = manifest(out / "tokenize")
    empty = sum(1 for d in tokens_run["docs"] if not d["text"].strip())
    assert empty >= 2  # the empty and the whitespace-only document at least
    assert m["rows_in"] == 4_000 and m["rows_kept"] == 4_000 - empty
    assert m["removed_by_reason"] == {"tokenize:empty": empty}
    assert m["metrics"]["tokenizer_sha256"] == tk.sha256(out / "tokenize" / "artifacts" / "tokenizer")
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(out / "tokenize" / "artifacts" / "tokenizer" / "tokenizer.json"))
    eos = m["metrics"]["eos_id"]
    texts = {d["id"]: d["text"] for d in tokens_run["docs"]}
    some = sorted(tokenized)[:500]
    plain = [i for i in some if tokenized[i]["fim"] is None]
    decoded = tok.decode_batch([tokenized[i]["input_ids"][:-1] for i in plain], skip_special_tokens=False)
    assert decoded == [texts[i] for i in plain]
    # Fill-in-the-Middle on the code documents (half of them, PSM and SPM): restored exactly
    code = [d for d in tokenized.values() if d["source"] == "code"]
    moved = [d for d in code if d["fim"] is not None]
    assert {d["fim"] for d in moved} == {"psm", "spm"} and abs(len(moved) / len(code) - 0.5) < 0.06
    assert all(fim.restore(tok, d["input_ids"])[1] == texts[d["id"]] for d in moved)
    assert all(d["fim"] is None for d in tokenized.values() if d["source"] != "code")
    assert sum(m["metrics"]["fim"].values()) == len(code) and m["metrics"]["fim"]["none"] == len(code) - len(
        moved
    )
    assert "artifacts/tokenizer/tokenizer.json" in {a["file"] for a in m["artifacts"]}
    assert all(d["input_ids"][-1] == eos and d["n_tokens"] == len(d["input_ids"]) for d in tokenized.values())
    assert sum(m["metrics"]["tokens_per_source"].values()) == sum(d["n_tokens"] for d in tokenized.values())


def test_tokenizer_cli_trains_the_same_tokenizer(tokens_run, tmp_path):
    from typer.testing import CliRunner

    from corpus.tokens.cli import tokenizer_app

    args = [
        "train",
        "--input",
        str(tokens_run["tmp"] / "docs"),
        "--vocab-size",
        "400",
        "--out",
        str(tmp_path),
        "--sample-docs",
        "3000",
        "--seed",
        str(SEED),
    ]
    result = CliRunner().invoke(tokenizer_app, args)
    assert result.exit_code == 0, result.output
    assert tk.sha256(tmp_path) == tk.sha256(tokens_run["out"] / "tokenize" / "artifacts" / "tokenizer")


def _check_row_shape(row: dict, seq_len: int, pad_id: int) -> list[list[int]]:
    """Row invariants; returns the document segments (padding excluded)."""
    ids, lens, pad = row["input_ids"], row["doc_lens"], row["pad_len"]
    assert len(ids) == seq_len and sum(lens) == seq_len and min(lens) > 0
    if pad:
        assert lens[-1] == pad and ids[seq_len - pad :] == [pad_id] * pad
        lens = lens[:-1]
    ends = np.cumsum(lens)
    return [ids[e - n : e] for e, n in zip(ends, lens, strict=True)]


def test_best_fit_round_trip_is_exact(tokens_run, tokenized):
    out = tokens_run["out"]
    m = manifest(out / "mid")["metrics"]
    L, pad_id = SEQ_BEST_FIT, m["pad_id"]
    seen, by_source = Counter(), Counter()
    for row in rows(out / "mid"):
        for seg in _check_row_shape(row, L, pad_id):
            seen[tuple(seg)] += 1
            by_source[(row["source"], row["bucket"], tuple(seg))] += 1
    expected, expected_source = Counter(), Counter()
    for d in tokenized.values():
        ids = d["input_ids"]
        for start in range(0, len(ids), L):  # documents longer than a row come in row-size chunks
            expected[tuple(ids[start : start + L])] += d["repeats"]
            expected_source[(d["source"], d["bucket"], tuple(ids[start : start + L]))] += d["repeats"]
    assert seen == expected  # every token in exactly as many rows as its epochs say
    assert by_source == expected_source  # and rows carry their documents' source and bucket
    assert any(d["n_tokens"] > L for d in tokenized.values())

    from tokenizers import Tokenizer

    # Decoded, the segments are the documents' texts (plus EOS) exactly; a long document's
    # chunks decode as its chunks.
    tok = Tokenizer.from_file(str(out / "tokenize" / "artifacts" / "tokenizer" / "tokenizer.json"))
    decoded = Counter(tok.decode_batch([list(s) for s in seen.elements()], skip_special_tokens=False))
    want = Counter()
    for d in tokenized.values():
        if d["n_tokens"] <= L:  # the document's text + EOS (checked in test_tokenize_stage)
            want[tok.decode(d["input_ids"], skip_special_tokens=False)] += d["repeats"]
        else:
            for start in range(0, d["n_tokens"], L):
                want[tok.decode(d["input_ids"][start : start + L], skip_special_tokens=False)] += d["repeats"]
    assert decoded == want
    assert m["padding_rate"] < 0.01 and m["tokens_dropped"] == 0


def test_truncate_rows_are_slices_of_the_shuffled_concatenation(tokens_run, tokenized):
    out = tokens_run["out"]
    m = manifest(out / "pre")["metrics"]
    L = SEQ_TRUNCATE
    got = Counter()
    for row in rows(out / "pre"):
        _check_row_shape(row, L, m["pad_id"])
        assert row["pad_len"] == 0
        got[(row["source"], row["bucket"], tuple(row["input_ids"]))] += 1
    # Independent expectation: per (source, bucket), repeats in shuffle-key order, laid end
    # to end and cut every L tokens, the short tail dropped.
    groups: dict = {}
    for d in tokenized.values():
        for r in range(d["repeats"]):
            key = (mixture.shuffle_key(SEED, d["id"], r), d["id"], r)
            groups.setdefault((d["source"], d["bucket"]), []).append((key, d["input_ids"]))
    expected, dropped = Counter(), 0
    for g, units in groups.items():
        stream = [t for _, ids in sorted(units) for t in ids]
        n = len(stream) // L
        dropped += len(stream) - n * L
        expected.update((*g, tuple(stream[i * L : (i + 1) * L])) for i in range(n))
    assert got == expected
    assert m["tokens_dropped"] == dropped
    assert 0 < m["truncation_rate"] < 1


@pytest.mark.parametrize("stream", ["pre", "mid"])
def test_manifest_matches_duckdb_and_epochs(tokens_run, tokenized, stream):
    folder = tokens_run["out"] / stream
    m = manifest(folder)
    metrics = m["metrics"]
    glob = f"{folder}/part-*.parquet"
    per_source = dict(duckdb.sql(f"select source, sum(len(input_ids)) from '{glob}' group by 1").fetchall())
    assert per_source == metrics["tokens_per_source"]
    per_group = duckdb.sql(
        f"select source, bucket, sum(len(input_ids)), count(*), sum(pad_len) from '{glob}' group by 1, 2"
    ).fetchall()
    for source, bucket, tokens, n_rows, pad in per_group:
        g = metrics["groups"][source if bucket is None else f"{source}/{bucket}"]
        assert tokens == metrics["tokens_per_group"][source if bucket is None else f"{source}/{bucket}"]
        assert n_rows == g["rows"] and tokens - pad == g["tokens"]
    assert m["rows_kept"] == metrics["rows"] == duckdb.sql(f"select count(*) from '{glob}'").fetchall()[0][0]
    assert metrics["seq_len"] == (SEQ_TRUNCATE if stream == "pre" else SEQ_BEST_FIT)
    assert (
        metrics["tokenizer_sha256"] == manifest(tokens_run["out"] / "tokenize")["metrics"]["tokenizer_sha256"]
    )
    assert len(m["shards"]) == (3 if stream == "pre" else 2)
    if stream == "pre":  # row_group_bytes: 16 KiB -> several row groups per shard
        assert all(pq.ParquetFile(folder / s["file"]).metadata.num_row_groups > 1 for s in m["shards"])

    for label, g in metrics["groups"].items():
        docs = [
            d
            for d in tokenized.values()
            if (d["source"] if d["bucket"] is None else f"{d['source']}/{d['bucket']}") == label
        ]
        assert g["docs"] == len(docs)
        assert g["epochs_realised"] == pytest.approx(sum(d["repeats"] for d in docs) / len(docs))
        assert g["epochs_requested"] == mixture.requested(EPOCHS, 1.0, docs[0]["source"], docs[0]["bucket"])
        if g["epochs_requested"] >= 1:  # 1,000 docs a group: the hashed draw is within 2% here
            assert abs(g["epochs_realised"] / g["epochs_requested"] - 1) <= 0.02


@pytest.mark.slow  # the whole pipeline again in a subprocess: 135 s at load 19
def test_same_bytes_on_local1(tokens_run, tmp_path):
    """The whole pipeline again in a subprocess on local[1] with 3 shuffle partitions instead
    of 8 (with the tokenizer the local[2] run trained: training is tested on its own): every
    shard, kept and removed, of every stage is byte-identical to the local[2] run's — same
    sha256 in both manifests and on disk."""
    import yaml

    from corpus.engine.manifest import verify_dataset

    spec = yaml.safe_load(tokens_run["yaml"].read_text())
    spec["output"] = str(tmp_path / "out")
    first = spec["stages"][0]
    del first["train_vocab_size"], first["train_sample_docs"]
    first["tokenizer"] = str(tokens_run["out"] / "tokenize" / "artifacts" / "tokenizer")
    spec["spark"] = {"conf": {"spark.sql.shuffle.partitions": "3"}}  # and other partitioning than 8
    path = tmp_path / "tokens.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    env = {**os.environ, "CORPUS_DRIVER_MEMORY": "1g"}
    cmd = [sys.executable, "-m", "corpus.cli", "run", str(path), "--master", "local[1]", "--no-progress"]
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, timeout=600, capture_output=True)
    for stage in ("tokenize", "pre", "mid"):
        a, b = tokens_run["out"] / stage, tmp_path / "out" / stage
        ma, mb = manifest(a), manifest(b)
        assert ma["engine"]["master"] == "local[2]" and mb["engine"]["master"] == "local[1]"
        assert verify_dataset(str(a)) == [] and verify_dataset(str(b)) == []
        assert len(ma["shards"]) > 1
        for key in ("shards", "removed_shards"):
            assert [(s["file"], s["sha256"]) for s in ma[key]] == [
                (s["file"], s["sha256"]) for s in mb[key]
            ], f"{stage} {key}"
        local = {"tokenizer": None, "tokenizer_trained_on_docs": None}  # where it came from
        assert {**ma["metrics"], **local} == {**mb["metrics"], **local}
    assert manifest(tokens_run["out"] / "tokenize")["removed_shards"]  # the empty documents


def _ctx(spark, rows, metrics):
    from corpus.stages.base import StageContext

    df = spark.createDataFrame(rows, "id string, source string, n_tokens int, input_ids array<int>")
    return StageContext(
        spark=spark,
        name="s",
        seed=0,
        inputs={"t": df},
        base_dir=ROOT,
        output_dir="/tmp",
        input_manifests={"t": {"metrics": metrics}},
    )


def test_stream_input_errors_are_clear(spark):
    from corpus.errors import UserError
    from corpus.stages import stream

    rows = [("a", "web", 2, [5, 0]), ("a", "web", 3, [6, 7, 0])]
    with pytest.raises(UserError, match="not the output of a tokenize stage"):
        stream.run(_ctx(spark, rows, {}), stream.Params())
    meta = {"tokenizer_sha256": "x", "pad_id": 0, "eos_id": 0, "vocab_size": 8}
    with pytest.raises(UserError, match="ids are not unique"):
        stream.run(_ctx(spark, rows, meta), stream.Params())
