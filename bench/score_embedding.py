"""Docs/s of the ``score`` stage with an embedding + ridge head vs raw encoding alone.

    .venv/bin/python bench/score_embedding.py [--docs 2000] [--model classifiers/edu_multilingual]

Texts: real sentences of ``../shared/data/langid`` (en, de, fr, es, it, nl, pt, interleaved)
and article bodies of ``../shared/data/extraction``, every fourth text an article, cut to the
head's ``max_chars`` before timing (synthetic text when the folders are absent).

* raw: the head's encoder alone (USE multilingual v3 ``USE.encode``, or
  ``SentenceTransformer.encode`` for a sentence-transformers head), 2 processes x 1 thread,
  each encoding half the texts in batches of 64 — the layout Spark's two Python workers have;
  models loaded before the clock starts;
* ours: the ``score`` stage through the real runner on ``local[2]`` in a warm session (a
  warm-up run first loads the encoder in the Python workers), input committed beforehand:
  encoding, the ridge head, score histograms and writing every row back.

Overhead = ours / raw - 1 (target <= 20 %). The load average is printed beside each figure.
"""

from __future__ import annotations

import argparse
import atexit
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
LANGS = ("en", "de", "fr", "es", "it", "nl", "pt")


def texts(n: int, max_chars: int) -> list[str]:
    sent_dir = SHARED / "langid" / "lingua_sentences"
    gold = SHARED / "extraction" / "article_extraction_benchmark" / "ground-truth.json"
    if not sent_dir.is_dir() or not gold.is_file():
        words = "the of and to in is was for on that with as by at from data model page shop".split()
        return [" ".join(words[(i * 7 + j) % len(words)] for j in range(12 + i % 200)) for i in range(n)]
    sents = [(sent_dir / f"{lang}.txt").read_text(encoding="utf-8").splitlines() for lang in LANGS]
    arts = [v["articleBody"] for v in json.loads(gold.read_text()).values() if v.get("articleBody")]
    out = []
    for i in range(n):
        out.append(arts[i % len(arts)] if i % 4 == 3 else sents[i % len(LANGS)][i // len(LANGS)])
    return [t[:max_chars] for t in out]


def _encode_half(args: tuple[list[str], str, str | None]) -> float:
    from corpus.scoring import encoders

    part, encoder, model = args
    encoders.encode(part[:8], encoder, model, 10**9)  # load before timing
    t0 = time.perf_counter()
    for i in range(0, len(part), 64):
        encoders.encode(part[i : i + 64], encoder, model, 10**9)
    return time.perf_counter() - t0


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--model", default=str(ROOT / "classifiers" / "edu_multilingual"))
    args = ap.parse_args()
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpus.scoring import classifier

    head = classifier.describe(args.model)
    data = texts(args.docs, head["max_chars"])
    tmp = Path(tempfile.mkdtemp(prefix="bench-head-"))
    atexit.register(shutil.rmtree, tmp, True)  # the inputs and outputs go with the process
    pq.write_table(
        pa.table({"id": [f"t{i:06d}" for i in range(len(data))], "text": data}), tmp / "docs.parquet"
    )

    os.environ["OMP_NUM_THREADS"] = "1"
    halves = [
        (data[0::2], head["encoder"], head.get("encoder_model")),
        (data[1::2], head["encoder"], head.get("encoder_model")),
    ]
    with mp.get_context("spawn").Pool(2) as pool:
        t0 = time.perf_counter()
        pool.map(_encode_half, halves)  # includes model load: measured inside, reported below
        wall = time.perf_counter() - t0
        t0 = time.perf_counter()
        raw_s = max(pool.map(_encode_half, halves))
    print(
        f"raw encode, 2 processes x 1 thread: {len(data) / raw_s:8.1f} docs/s ({raw_s:.1f} s, {load()}; first pass with loading {wall:.1f} s)",
        flush=True,
    )

    from corpus.engine.runner import run_stage_for_test
    from corpus.engine.spark import get_spark

    spark = get_spark("local[2]", app_name="bench-head")
    run_stage_for_test(
        spark, "dataset", {"paths": [str(tmp / "docs.parquet")]}, str(tmp / "out"), name="docs"
    )
    docs = str(tmp / "out" / "docs")
    params = {"classifiers": {"h": args.model}}
    run_stage_for_test(spark, "score", params, str(tmp / "warm"), inputs={"input": docs}, name="score")
    t0 = time.perf_counter()
    run_stage_for_test(spark, "score", params, str(tmp / "out"), inputs={"input": docs}, name="score")
    ours_s = time.perf_counter() - t0
    print(f"ours, score stage on local[2]:      {len(data) / ours_s:8.1f} docs/s ({ours_s:.1f} s, {load()})")
    print(f"overhead vs raw encode: {ours_s / raw_s - 1:+.0%}")
    spark.stop()


if __name__ == "__main__":
    main()
