"""pipelines/midtrain.yaml end to end on the session Spark: repository contexts, GitHub threads,
reasoning, agent trajectories and long web documents mixed into best-fit 32K / 128K streams
(no document that fits a row is split; long documents tagged and up-sampled in the 128K
stream), then ``corpus train``'s mid-training stages on those streams.

Scaled down: the rows are the demo's lengths (32K -> 1,024, 128K -> 2,048 tokens, as
pipelines/midtrain_demo.yaml and pipelines/train.yaml), so the long-document threshold and the
repository budget are 1,024 tokens; the pre-training inputs (web documents, the tokenizer) are
written by the test; the repositories are one package of this project (corpus/dedup, several
of whose files pass code_filter) instead of all of it, to keep the run short. Everything else
is the pipeline file as shipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEMO_LENGTHS = {32768: 1024, 131072: 2048}
"""Full length -> demo length (pipelines/midtrain_demo.yaml, pipelines/train.yaml's demo)."""
SCALED_FIELDS = ("seq_len", "budget_tokens", "min")
LONG = 1024  # the demo's long-document threshold (32,768 scaled like the 32K row)
PRE_SEQ = 128
WORDS = (
    "the of and to in is was for on that with as by at from model data token long context "
    "repository thread commit review answer reason tool call def return import class 42 1024"
).split()


def rescale(node: Any, lengths: dict[int, int]) -> Any:
    """``node`` with every length field (seq_len, budget_tokens, a score threshold ``min``)
    that holds a full length replaced by its scaled length."""
    if isinstance(node, dict):
        return {
            k: lengths.get(v, v) if k in SCALED_FIELDS and isinstance(v, int) else rescale(v, lengths)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [rescale(v, lengths) for v in node]
    return node


def repath(node: Any, paths: dict[str, str]) -> Any:
    """``node`` with every string equal to a key of ``paths`` (or starting with ``key/``) replaced."""
    if isinstance(node, dict):
        return {k: repath(v, paths) for k, v in node.items()}
    if isinstance(node, list):
        return [repath(v, paths) for v in node]
    if isinstance(node, str):
        for old, new in paths.items():
            if node == old or node.startswith(old + "/"):
                return new + node[len(old) :]
    return node


def _commit(spark, rows: list[dict], folder: Path) -> None:
    from corpus.engine.manifest import write_manifest
    from corpus.engine.runner import write_output
    from corpus.stages.base import StageOutput

    df = spark.createDataFrame(rows, "id string, text string, source string, bucket int")
    counts = write_output(StageOutput(rows=df, balanced=False, shards=2), str(folder))
    write_manifest(str(folder), {**counts, "rows_in": counts["rows_kept"], "balanced": False})


def _web_docs() -> list[dict]:
    """Web documents from a few dozen to several thousand words: some short (dropped from
    mid-training), some above the threshold, two longer than a 2,048-token row."""
    rng = np.random.default_rng(3)
    words = [40, 60, 90, 150, 300, 500] + [700, 900, 1200, 1500, 1800, 2400, 3000, 5000]
    return [
        {
            "id": f"web{i:03d}",
            "text": " ".join(rng.choice(WORDS, size=n)),
            "source": "web",
            "bucket": int(8 + i % 10),
        }
        for i, n in enumerate(words)
    ]


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory) -> dict[str, Any]:
    """One in-process run of the scaled midtrain.yaml."""
    from corpus.engine.runner import run_pipeline
    from corpus.spec import load_pipeline_dict
    from corpus.tokens.tokenizer import train

    tmp = tmp_path_factory.mktemp("midtrain")
    web = tmp / "web"
    docs = _web_docs()
    _commit(spark, docs, web)
    train([d["text"] for d in docs], 512, tmp / "pre" / "tokenizer")  # the "pre-training" tokenizer
    spec = yaml.safe_load((ROOT / "pipelines" / "midtrain.yaml").read_text())
    spec = rescale(spec, DEMO_LENGTHS)
    spec = repath(
        spec,
        {
            "out/mixture/tokenize": str(tmp / "pre"),  # a folder holding tokenizer/, as an artifact
            "out/web/bucket": str(web),
            "corpus": str(ROOT / "corpus" / "dedup"),
            "tests/data": str(ROOT / "tests" / "data"),
        },
    )
    spec["output"] = str(tmp / "out")
    run_pipeline(spark, load_pipeline_dict(spec, tmp / "midtrain.yaml"), progress=False)
    return {"out": tmp / "out", "tmp": tmp}


def _rows(folder: Path) -> list[tuple]:
    import duckdb

    return duckdb.sql(
        f"select doc_ids, doc_lens, pad_len, source, bucket from '{folder}/part-*.parquet'"
    ).fetchall()


def _docs(out: Path) -> dict[str, tuple[str, str, int, int, int]]:
    """id -> (source, group, n_tokens, repeats 32K, repeats 128K) of the mixture's kept rows."""
    import duckdb

    rows = duckdb.sql(
        "select id, source, mixture_group, n_tokens, mixture_repeats_midtrain_32k, "
        f"mixture_repeats_midtrain_128k from '{out}/mixture/part-*.parquet'"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("stream, seq_len, col", [("midtrain_32k", 1024, 3), ("midtrain_128k", 2048, 4)])
def test_streams_split_no_document_that_fits(built, stream, seq_len, col):
    """On the output rows: every piece of a document <= seq_len is the whole document, every
    document appears its mixture repeats times (all of its tokens), and each source is there."""
    docs = _docs(built["out"])
    pieces: dict[str, list[int]] = {}
    for doc_ids, doc_lens, pad, _, _ in _rows(built["out"] / stream):
        assert sum(doc_lens) == seq_len and (pad == 0 or doc_lens[-1] == pad)
        for d, n in zip(doc_ids, doc_lens, strict=False):
            pieces.setdefault(d, []).append(n)
    fits = [d for d, v in docs.items() if v[2] <= seq_len and v[col] > 0]
    assert fits and len([d for d, v in docs.items() if v[2] > seq_len and v[col] > 0]) >= 1
    for d in fits:
        assert pieces[d] == [docs[d][2]] * docs[d][col], (d, docs[d], pieces[d])
    for d, v in docs.items():
        assert sum(pieces.get(d, [])) == v[2] * v[col], d
    assert {v[0] for v in docs.values() if v[col] > 0} == {"web", "repo", "github", "reasoning", "agent"}


def test_long_documents_tagged_and_upsampled_in_128k(built):
    import duckdb

    out = built["out"]
    docs = _docs(out)
    web = {d: v for d, v in docs.items() if v[0] == "web"}
    assert web and all((v[1] == "long_doc") == (v[2] >= LONG) for v in web.values())
    assert all(v[3:] == (1, 3) for v in web.values()), "long documents: 1 epoch at 32K, 3 at 128K"
    removed = dict(
        duckdb.sql(f"select source, count(*) from '{out}/mixture/_removed/*.parquet' group by 1").fetchall()
    )
    assert removed.get("web", 0) >= 1, "short web documents go to _removed (pre-training had them)"
    groups = json.loads((out / "midtrain_128k" / "_manifest.json").read_text())["metrics"]["groups"]
    assert groups["web/long_doc"]["epochs_realised"] == 3.0


def test_midtrain_sources_rendered(built):
    """The mid-training sources reach the mixture in their training formats."""
    import duckdb

    out = built["out"]
    one = {
        s: duckdb.sql(f"select text from '{out}/{s}/part-*.parquet' limit 1").fetchall()[0][0]
        for s in ("repo_concat", "github_threads", "reasoning", "agent")
    }
    assert "<|file_sep|>" in one["repo_concat"]
    threads = duckdb.sql(f"select string_agg(text, '') from '{out}/github_threads/part-*.parquet'")
    assert "diff --git" in threads.fetchall()[0][0]
    assert "<think>" in one["reasoning"] and "<|assistant|>" in one["agent"]
    removed = {
        r[0]
        for s in ("reasoning", "agent")
        for r in duckdb.sql(f"select reason from '{out}/{s}/_removed/*.parquet'").fetchall()
    }
    assert {"reasoning:wrong_answer", "reasoning:duplicate_question", "agent:undeclared_tool"} <= removed


def test_corpus_train_runs_the_midtraining_stages(built):
    """pipelines/train.yaml's stage table with a tiny model, pointed at the streams built above:
    a pre-training stage, then the two mid-training stages at their lengths (2 / 2 / 1 steps)."""
    from corpus.train.config import TrainConfig
    from corpus.train.data import write_stream
    from corpus.train.loop import train
    from tests.train.helpers import random_rows

    out, tmp = built["out"], built["tmp"]
    raw = yaml.safe_load((ROOT / "pipelines" / "train.yaml").read_text())
    vocab = json.loads((out / "midtrain_32k" / "_manifest.json").read_text())["metrics"]["vocab_size"]
    raw["model"] = {
        **raw["model"],
        "vocab_size": vocab,
        "hidden_size": 32,
        "intermediate_size": 64,
        "moe_intermediate_size": 16,
        "head_dim": 8,
        "n_routed_experts": 4,
    }
    pre = [s for s in raw["stages"] if s.get("phase", "pretrain") == "pretrain"][:1]
    mid = [s for s in raw["stages"] if s.get("phase") == "midtrain"]
    assert [s["name"] for s in mid] == ["midtrain_32k", "midtrain_128k"]
    assert [s["seq_len"] for s in mid] == list(DEMO_LENGTHS.values())
    # the table needs a pre-training stage first: random ids of this tokenizer (not under test)
    facts = json.loads((out / "midtrain_32k" / "_manifest.json").read_text())["metrics"]
    meta = {k: facts[k] for k in ("tokenizer", "tokenizer_sha256", "vocab_size") if k in facts}
    write_stream(
        str(tmp / "pretrain"), random_rows(32, PRE_SEQ, vocab, 0), PRE_SEQ, 16, "truncate", metrics=meta
    )
    pre[0].update(seq_len=PRE_SEQ, tokens=2 * 2048, streams=[str(tmp / "pretrain")])
    for s, steps in zip(mid, (2, 1), strict=True):
        s.update(tokens=steps * 2048, streams=[str(out / s["name"])])
    raw.update(
        stages=pre + mid,
        batch={"global_tokens": 2048, "micro_tokens": 2048, "warmup_frac": 0.0},
        eval={"holdout": 0.0},
        data={"lanes": 1, "shuffle_tokens": 8192},
        checkpoint={"every_steps": 100, "keep_last": 1},
    )
    raw["run"].update(output=str(tmp / "train"))
    summary = train(TrainConfig.model_validate(raw), tmp / "train", quiet=True)
    metrics = [json.loads(line) for line in (tmp / "train" / "metrics.jsonl").read_text().splitlines()]
    steps = [m for m in metrics if "loss" in m and "stage" in m]
    assert [m["stage"] for m in steps] == ["pretrain_phase1"] * 2 + ["midtrain_32k"] * 2 + ["midtrain_128k"]
    assert all(np.isfinite(m["loss"]) for m in steps), summary


def test_demo_pipeline_is_midtrain_yaml_scaled(repo_root):
    """pipelines/midtrain_demo.yaml is pipelines/midtrain.yaml at the demo lengths, reading the
    demo tokenizer and writing its own folder — nothing else differs — and train.yaml's demo
    mid-training stages read its streams at their lengths."""
    full = yaml.safe_load((repo_root / "pipelines" / "midtrain.yaml").read_text())
    demo = yaml.safe_load((repo_root / "pipelines" / "midtrain_demo.yaml").read_text())
    want = repath(rescale(full, DEMO_LENGTHS), {"out/mixture/tokenize": "out/tokens_demo/tokenize"})
    want.update(name=demo["name"], output=demo["output"])
    assert demo == want
    streams = {f"{demo['output']}/{s['name']}": s for s in demo["stages"] if s["kind"] == "stream"}
    mid = [
        s
        for s in yaml.safe_load((repo_root / "pipelines" / "train.yaml").read_text())["stages"]
        if s.get("phase") == "midtrain"
    ]
    for s in mid:
        (path,) = s["streams"]
        assert (streams[path]["seq_len"], streams[path]["pack"]) == (s["seq_len"], s["packing"])
