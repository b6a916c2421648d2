"""Tokens/s of our tokenize stage vs datatrove's ``DocumentTokenizer``, same documents, same
tokenizer.json, same EOS, in the same run.

Two levels:
* core: one process, documents already in memory — our ``tokenize_batch`` (Arrow in, Arrow
  ``list<int32>`` out) vs datatrove's ``write_unshuffled`` (encode + write its binary file);
* end to end: Parquet in, tokens on disk — our stage through the runner on Spark local[2]
  vs datatrove's ``ParquetReader -> DocumentTokenizer`` on ``LocalPipelineExecutor`` with 2
  tasks / 2 workers (its document shuffle off, as our stage does not shuffle either). The two
  alternate for ``--repeat`` rounds (a shared machine's load moves) and medians are compared.

Documents: real text from ../shared/data when present (181 news articles, 75 languages of
Leipzig sentences grouped 25 to a document), else synthetic text.
Run: .venv/bin/python bench/tokenize_vs_datatrove.py [--vocab 32768] [--repeat 3] [--tokenizer PATH]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def documents() -> list[dict]:
    texts: list[str] = []
    truth = SHARED / "extraction" / "article_extraction_benchmark" / "ground-truth.json"
    if truth.exists():
        texts += [v["articleBody"] for v in json.loads(truth.read_text()).values()] * 8
        for f in sorted((SHARED / "langid" / "lingua_sentences").glob("*.txt")):
            lines = f.read_text(encoding="utf-8").splitlines()
            texts += [" ".join(lines[i : i + 25]) for i in range(0, len(lines), 25)]
    else:
        rng = np.random.default_rng(0)
        words = "the of and to in is was for on that with as by at from data model token".split()
        texts = [" ".join(rng.choice(words, size=int(rng.lognormal(6, 1)))) for _ in range(5000)]
    return [{"id": f"d{i:06d}", "text": t, "source": "web", "url": ""} for i, t in enumerate(texts)]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=32768)
    ap.add_argument("--tokenizer", help="reuse this tokenizer.json instead of training one")
    ap.add_argument("--repeat", type=int, default=3, help="end-to-end rounds (ours, theirs alternating)")
    args = ap.parse_args()

    from tokenizers import Tokenizer

    from corpus.stages import tokenize
    from corpus.tokens import tokenizer as tk

    docs = documents()
    tmp = Path(tempfile.mkdtemp(prefix="bench-tok-"))
    atexit.register(shutil.rmtree, tmp, True)  # the inputs and outputs go with the process
    if args.tokenizer:
        tok_path, secs = Path(args.tokenizer), 0.0
    else:
        tok_path, secs = timed(lambda: tk.train((d["text"] for d in docs), args.vocab, tmp / "tok"))
    size = Tokenizer.from_file(str(tok_path)).get_vocab_size()
    chars = sum(len(d["text"]) for d in docs)
    print(
        f"{len(docs):,} documents, {chars / 1e6:.1f} M characters; tokenizer vocab {size:,} (trained in {secs:.1f} s)"
    )

    # --- core: one process, in memory -------------------------------------------------
    table = pa.Table.from_pylist(docs)
    batches = table.to_batches(max_chunksize=1000)
    params = tokenize.Params(tokenizer=str(tok_path))
    tokenize.tokenize_batch(batches[0], params)  # load the tokenizer outside the timing
    out, ours = timed(lambda: [tokenize.tokenize_batch(b, params) for b in batches])
    n_ours = sum(pa.compute.sum(b.column("n_tokens")).as_py() for b in out)

    from datatrove.data import Document
    from datatrove.pipeline.tokens.tokenizer import DocumentTokenizer

    dt = DocumentTokenizer(
        str(tmp / "dt-core"),
        tokenizer_name_or_path=str(tok_path),
        eos_token=tk.EOS,
        shuffle_documents=False,
        batch_size=1000,
    )
    dt.tokenizer  # noqa: B018 - load outside the timing
    dt_docs = [Document(text=d["text"], id=d["id"]) for d in docs]
    _, theirs = timed(lambda: dt.write_unshuffled(iter(dt_docs), "core.ds"))
    n_theirs = os.path.getsize(tmp / "dt-core" / "core.ds") // dt.token_size
    assert n_ours == n_theirs, (n_ours, n_theirs)
    print(
        f"core (1 process)   ours {n_ours / ours / 1e6:6.2f} M tok/s   datatrove {n_theirs / theirs / 1e6:6.2f} M tok/s"
        f"   ratio {theirs / ours:.2f}x   ({n_ours:,} tokens each; load {load()})"
    )

    # --- end to end: the same 4 Parquet shards in, tokens on disk, 2 workers ------------
    src = tmp / "docs.parquet"
    pq.write_table(table, src)
    from corpus.engine.manifest import write_manifest
    from corpus.engine.runner import run_stage_for_test, write_output
    from corpus.engine.spark import get_spark
    from corpus.stages.base import StageOutput

    spark = get_spark("local[2]")
    counts = write_output(
        StageOutput(rows=spark.read.parquet(str(src)), balanced=False, shards=4), str(tmp / "committed")
    )
    write_manifest(str(tmp / "committed"), {**counts, "rows_in": counts["rows_kept"], "balanced": False})
    spark.read.parquet(str(tmp / "committed")).count()  # warm the session

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import ParquetReader

    def ours_run(k: int) -> tuple[int, float]:
        params = {"tokenizer": str(tok_path)}
        m, secs = timed(
            lambda: run_stage_for_test(
                spark, "tokenize", params, str(tmp / f"out{k}"), inputs={"docs": str(tmp / "committed")}
            )
        )
        return m["metrics"]["tokens"], secs

    def theirs_run(k: int) -> tuple[int, float]:
        pipe = [
            ParquetReader(str(tmp / "committed"), glob_pattern="part-*.parquet"),
            DocumentTokenizer(
                str(tmp / f"dt-e2e{k}"),
                tokenizer_name_or_path=str(tok_path),
                eos_token=tk.EOS,
                shuffle_documents=False,
            ),
        ]
        ex = LocalPipelineExecutor(pipeline=pipe, tasks=2, workers=2, logging_dir=str(tmp / f"dt-logs{k}"))
        _, secs = timed(ex.run)
        return sum(f.stat().st_size for f in (tmp / f"dt-e2e{k}").glob("*.ds")) // dt.token_size, secs

    # Alternate the two so both see the same share of a shared machine's load.
    ours_s, theirs_s = [], []
    for k in range(args.repeat):
        n_ours, secs = ours_run(k)
        ours_s.append(secs)
        n_theirs, secs = theirs_run(k)
        theirs_s.append(secs)
        assert n_ours == n_theirs, (n_ours, n_theirs)
        print(
            f"end to end (2 wk) round {k + 1}: ours {n_ours / ours_s[-1] / 1e6:6.2f} M tok/s ({ours_s[-1]:.1f} s)"
            f"   datatrove {n_theirs / theirs_s[-1] / 1e6:6.2f} M tok/s ({theirs_s[-1]:.1f} s)"
            f"   ratio {theirs_s[-1] / ours_s[-1]:.2f}x   load {load()}",
            flush=True,
        )
    spark.stop()
    ours_m, theirs_m = float(np.median(ours_s)), float(np.median(theirs_s))
    print(
        f"end to end (2 wk)  ours {n_ours / ours_m / 1e6:6.2f} M tok/s   datatrove {n_theirs / theirs_m / 1e6:6.2f} M tok/s"
        f"   ratio {theirs_m / ours_m:.2f}x   (medians of {args.repeat}; {n_ours:,} tokens each; ours includes"
        f" Spark scheduling, the Parquet write and the manifest; load {load()})"
    )


if __name__ == "__main__":
    main()
