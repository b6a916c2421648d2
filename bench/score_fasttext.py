"""Docs/s of the ``score`` stage with a fastText classifier vs a plain single-process Python
loop over the same model and vs datatrove's ``FastTextClassifierFilter`` on the same documents.

    .venv/bin/python bench/score_fasttext.py [--docs 100000] [--model classifiers/web_quality]

Documents: the gold article bodies of ``../shared/data/extraction`` (real news and blog text),
repeated with new ids to ``--docs`` and cut to the model's ``max_chars`` beforehand, so every
side predicts on the same strings (synthetic text when the folder is absent).

* ours: the ``score`` stage through the real runner on ``local[2]`` in a warm session (input
  committed first, untimed), including what a run does besides scoring: the score histograms
  and writing every row back to Parquet with the manifest;
* loop: one process, fastText's ``model.predict`` per document plus the expected bin value
  (what ours computes per row): the loop a user of the fastText package would write;
* inference, 1 process: probabilities only, fastText's ``predict`` per document after the
  former regex ``normalize`` (the loop the ``score`` stage ran before) and after today's
  ``normalize``, against :mod:`corpus.scoring.fasttext_numpy`'s batch prediction (what the
  stage runs now), each the best of 3 runs;
* datatrove: ``LocalPipelineExecutor`` with 2 tasks / 2 workers, ``ParquetReader`` +
  ``FastTextClassifierFilter`` (keep every document: it scores all of them), no writer.

Wall time depends on the shared machine's load: the load average is printed beside it.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data" / "extraction" / "article_extraction_benchmark" / "ground-truth.json"


def documents(n: int, max_chars: int) -> list[str]:
    if SHARED.is_file():
        bodies = [v["articleBody"] for v in json.loads(SHARED.read_text()).values() if v.get("articleBody")]
    else:
        words = "the of and to in is was for on that with as by at from data model page shop".split()
        bodies = [" ".join(words[(i * 7 + j) % len(words)] for j in range(300)) for i in range(100)]
    return [bodies[i % len(bodies)][:max_chars] for i in range(n)]


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


_SPACE = re.compile(r"\s+")


def regex_normalize(text: str | None, max_chars: int) -> str:
    """``fasttext_model.normalize`` as it was (regex), for the before/after inference figure."""
    return _SPACE.sub(" ", (text or "")[:max_chars]).strip().lower()


def inference(path: str, texts: list[str], n_bins: int, max_chars: int) -> None:
    """Single-process probabilities: fastText per document vs the numpy batch, best of 3."""
    import numpy as np

    from corpus.scoring import fasttext_model, fasttext_numpy

    ft = fasttext_model.load(path)
    fast = fasttext_numpy.load(path)

    def per_doc(norm):
        out = np.zeros((len(texts), n_bins), np.float32)
        for i, t in enumerate(texts):
            labels, probs = ft.predict(norm(t, max_chars), k=n_bins, threshold=0.0)
            for label, p in zip(labels, probs, strict=True):
                out[i, int(label[len(fasttext_model.LABEL) :])] = p
        return out

    def best(fn):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            res = fn()
            times.append(time.perf_counter() - t0)
        return min(times), res

    fast.predict_proba(texts[:100], max_chars)  # warm: tables built once per process
    old_s, old = best(lambda: per_doc(regex_normalize))
    new_s, _ = best(lambda: per_doc(fasttext_model.normalize))
    np_s, ours = best(lambda: fast.predict_proba(texts, max_chars))
    n = len(texts)
    print(
        f"inference, 1 process:     fastText predict per doc {n / old_s:10.0f} docs/s (regex normalize), "
        f"{n / new_s:.0f} docs/s (split normalize) vs numpy batch {n / np_s:.0f} docs/s ({load()})",
        flush=True,
    )
    print(
        f"inference ratio: numpy batch / fastText per doc = {old_s / np_s:.2f}x (regex normalize), "
        f"{new_s / np_s:.2f}x (split normalize); max |p difference| {float(np.abs(ours - old).max()):.1e}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100000)
    ap.add_argument("--model", default=str(ROOT / "classifiers" / "web_quality"))
    args = ap.parse_args()
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpus.scoring import bins, classifier, fasttext_model

    model = classifier.describe(args.model)
    texts = documents(args.docs, model["max_chars"])
    tmp = Path(tempfile.mkdtemp(prefix="bench-score-"))
    atexit.register(shutil.rmtree, tmp, True)  # the inputs and outputs go with the process
    ids = [f"doc{i:07d}" for i in range(len(texts))]
    pq.write_table(pa.table({"id": ids, "text": texts}), tmp / "docs.parquet")

    # loop: one process, one predict per document
    path = str(Path(args.model) / model["file"])
    ft = fasttext_model.load(path)
    values = np.asarray(model["values"])
    n_bins = len(values)
    t0 = time.perf_counter()
    out = np.empty(len(texts), np.float32)
    for i, t in enumerate(texts):
        labels, probs = ft.predict(fasttext_model.normalize(t, model["max_chars"]), k=n_bins, threshold=0.0)
        p = np.zeros(n_bins)
        for label, pr in zip(labels, probs, strict=True):
            p[int(label[len(fasttext_model.LABEL) :])] = pr
        out[i] = bins.expected_value(p[None, :], values)[0]
    loop_s = time.perf_counter() - t0
    print(
        f"loop, 1 process:          {len(texts) / loop_s:10.0f} docs/s ({loop_s:.1f} s, {load()})", flush=True
    )
    inference(path, texts, n_bins, model["max_chars"])

    # datatrove: 2 tasks on 2 workers
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import FastTextClassifierFilter
    from datatrove.pipeline.readers import ParquetReader

    shards = tmp / "shards"
    shards.mkdir()
    for k in range(2):
        pq.write_table(pa.table({"id": ids[k::2], "text": texts[k::2]}), shards / f"part-{k}.parquet")
    os.environ["HF_DATASETS_CACHE"] = str(tmp / "hf")

    class LocalFastTextClassifierFilter(FastTextClassifierFilter):
        """datatrove's filter as it is, minus its check for the ``fasttext-numpy2-wheel``
        distribution (fasttext-community provides the same ``fasttext`` module; the check runs
        in ``PipelineStep.__new__``, as in bench/web_vs_datatrove.py)."""

        def __new__(cls, *a, **k):
            return object.__new__(cls)

    pipe = [
        ParquetReader(str(shards), id_key="id"),
        LocalFastTextClassifierFilter(path, keep_labels=("0", 0.0), newline_replacement=" "),
    ]
    t0 = time.perf_counter()
    LocalPipelineExecutor(pipeline=pipe, tasks=2, workers=2, logging_dir=str(tmp / "dt_logs")).run()
    dt_s = time.perf_counter() - t0
    print(f"datatrove, 2 tasks:       {len(texts) / dt_s:10.0f} docs/s ({dt_s:.1f} s, {load()})", flush=True)

    # ours: the score stage on local[2], warm session, input committed first
    from corpus.engine.runner import run_stage_for_test
    from corpus.engine.spark import get_spark

    spark = get_spark("local[2]", app_name="bench-score")
    run_stage_for_test(
        spark, "dataset", {"paths": [str(tmp / "docs.parquet")]}, str(tmp / "out"), name="docs"
    )
    docs = str(tmp / "out" / "docs")
    params = {"classifiers": {"q": args.model}}
    run_stage_for_test(
        spark, "score", params, str(tmp / "warm"), inputs={"input": docs}, name="score"
    )  # warm-up
    t0 = time.perf_counter()
    m = run_stage_for_test(spark, "score", params, str(tmp / "out"), inputs={"input": docs}, name="score")
    ours_s = time.perf_counter() - t0
    assert m["rows_kept"] == len(texts)
    print(f"ours, score on local[2]:  {len(texts) / ours_s:10.0f} docs/s ({ours_s:.1f} s, {load()})")
    print(f"ratio vs loop: {loop_s / ours_s:.2f}x   ratio vs datatrove: {dt_s / ours_s:.2f}x")
    spark.stop()


if __name__ == "__main__":
    main()
