"""MinHash stage wall time at growing input sizes: is it near-linear?

    .venv/bin/python bench/minhash_scale.py [--sizes 10000 40000 160000]

Each size is its own planted corpus of the same kind as ``bench/minhash_vs_datatrove.py``
(documents of 4-10 real sentences, about 22 % of them near-duplicate variants at Jaccard
0.50 ... 1.00; ``tests/dedup/neardups.py``), committed as a dataset of 2 shards. One warm
``local[2]`` session runs the ``minhash`` stage (default 5-word shingles, 14 x 8) through the
real runner on each: signatures, candidate edges, connected components, representatives and
the written output with its manifest. A small warm-up run first starts the Python workers.

The issue's target: each 4x step in documents costs at most 4.8x the wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from minhash_vs_datatrove import build, commit_input  # noqa: E402


def planted(n: int, seed: int) -> list[dict]:
    """About ``n`` documents with the datatrove bench's mix (42 bases : 8 with variants)."""
    return build(n * 42 // 54, n * 8 // 54, seed=seed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000, 160_000])
    args = ap.parse_args()

    from corpus.engine.runner import run_stage_for_test
    from corpus.engine.spark import get_spark

    tmp = Path(tempfile.mkdtemp(prefix="bench-minhash-scale-"))
    try:
        spark = get_spark("local[2]")
        inputs = {}
        for n in [2_000, *args.sizes]:
            t = time.perf_counter()
            docs = planted(n, seed=n)
            inputs[n] = (len(docs), commit_input(spark, docs, tmp / f"in-{n}"))
            print(f"built {len(docs):,} documents in {time.perf_counter() - t:.0f} s", flush=True)
        rows = []
        for n in [2_000, *args.sizes]:
            count, folder = inputs[n]
            t = time.perf_counter()
            m = run_stage_for_test(spark, "minhash", {}, str(tmp / f"out-{n}"), inputs={"docs": folder})
            secs = time.perf_counter() - t
            assert m["rows_kept"] + m["rows_removed"] == count
            if n != 2_000:  # warm-up
                rows.append((count, secs, m["rows_removed"], os.getloadavg()[0]))
                print(f"  {count:,} documents: {secs:.1f} s", flush=True)
        spark.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\n{'documents':>10} {'seconds':>8} {'docs/s':>8} {'removed':>8} {'step x':>7} {'time x':>7} {'load1':>6}"
    )
    prev = None
    for count, secs, removed, load in rows:
        step = f"{count / prev[0]:.2f}" if prev else "-"
        ratio = f"{secs / prev[1]:.2f}" if prev else "-"
        print(
            f"{count:>10,} {secs:>8.1f} {count / secs:>8.0f} {removed:>8,} {step:>7} {ratio:>7} {load:>6.1f}"
        )
        prev = (count, secs)
    worst = (
        max((b[1] / a[1]) / (b[0] / a[0]) * 4 for a, b in zip(rows, rows[1:], strict=False))
        if len(rows) > 1
        else 0
    )
    print(f"worst step normalised to a 4x size step: {worst:.2f}x (target <= 4.8x)")


if __name__ == "__main__":
    main()
