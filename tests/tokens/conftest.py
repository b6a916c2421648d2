"""Fixtures for token-stream tests: synthetic documents committed as a dataset, and one run
of a small tokens pipeline (tokenize with an on-the-fly tokenizer, a truncate stream and a
best-fit stream) shared by the Spark tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

WORDS = (
    "the of and to in is was for on that with as by at from his her it an are were be this which "
    "data model token stream packing epoch naïve café 数据 模型 ünïcödé 42 1234567 x=1; def f(): "
    "return {} [] \n \t <think> </think> <|user|>"
).split(" ")

SEQ_TRUNCATE = 64
SEQ_BEST_FIT = 256
EPOCHS = {"web": {"hi": 3.2, "lo": 1.5}, "code": 0.5}  # math: default 1.0
SEED = 7


def make_docs(n: int, seed: int = 0) -> list[dict]:
    """Documents with long-tailed lengths (some longer than the best-fit row), three sources,
    quality buckets on web, plus one empty and one whitespace-only document."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(2.3, 1.0, n), 1, 400).astype(int)
    docs = []
    for i, k in enumerate(lengths):
        source = ("web", "web", "code", "math")[i % 4]
        words = rng.choice(len(WORDS), size=k)
        docs.append(
            {
                "id": f"doc{i:06d}",
                "text": " ".join(WORDS[j] for j in words),
                "source": source,
                "url": f"https://example.org/{i}",
                "bucket": ("hi", "lo")[i // 4 % 2] if source == "web" else None,
            }
        )
    docs[5]["text"] = ""
    docs[6]["text"] = " \n\t "
    return docs


def commit(spark, rows: list[dict], folder: Path) -> None:
    """Write ``rows`` as a committed dataset (3 shards + manifest), as the runner would."""
    from corpus.engine.manifest import write_manifest
    from corpus.engine.runner import write_output
    from corpus.stages.base import StageOutput

    df = spark.createDataFrame(rows, "id string, text string, source string, url string, bucket string")
    counts = write_output(StageOutput(rows=df, balanced=False, shards=3), str(folder))
    write_manifest(str(folder), {**counts, "rows_in": counts["rows_kept"], "balanced": False})


def pipeline_yaml(docs: Path, output: Path, path: Path) -> Path:
    spec = {
        "name": "tokens-test",
        "output": str(output),
        "seed": SEED,
        "stages": [
            {
                "kind": "tokenize",
                "inputs": [str(docs)],
                "train_vocab_size": 400,
                "train_sample_docs": 3000,
                "fim": {"sources": ["code"]},
            },
            {
                "name": "pre",
                "kind": "stream",
                "inputs": ["tokenize"],
                "pack": "truncate",
                "seq_len": SEQ_TRUNCATE,
                "epochs": EPOCHS,
                "shards": 3,
                "row_group_bytes": 16384,
            },
            {
                "name": "mid",
                "kind": "stream",
                "inputs": ["tokenize"],
                "pack": "best_fit",
                "seq_len": SEQ_BEST_FIT,
                "epochs": EPOCHS,
                "shards": 2,
            },
        ],
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    return path


@pytest.fixture(scope="session")
def tokens_run(spark, tmp_path_factory) -> dict:
    """4,000 documents through tokenize -> pre (truncate) and mid (best-fit), in-process."""
    from corpus.engine.runner import run_pipeline
    from corpus.spec import load_pipeline

    tmp = tmp_path_factory.mktemp("tokens")
    docs = make_docs(4_000)
    commit(spark, docs, tmp / "docs")
    yaml_path = pipeline_yaml(tmp / "docs", tmp / "out", tmp / "tokens.yaml")
    run_pipeline(spark, load_pipeline(yaml_path), progress=False)
    return {"docs": docs, "yaml": yaml_path, "out": tmp / "out", "tmp": tmp}
