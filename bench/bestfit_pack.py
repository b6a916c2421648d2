"""Best-fit-decreasing packing: docs/s on 1M long-tailed document lengths, rows vs the lower
bound ceil(sum(len) / L), side by side with first-fit and concatenate-and-cut on the same
lengths, and what splitting one group into smaller packing groups costs.

Run: .venv/bin/python bench/bestfit_pack.py [--docs 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from corpus.tokens import bestfit, truncate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    args = ap.parse_args()
    lengths = bestfit.long_tailed_lengths(args.docs, seed=0)
    print(f"{args.docs:,} lengths: log-normal median 600, mean {lengths.mean():.0f}, max {lengths.max():,}")
    for seq_len in (4096, 32768, 131072):
        t = time.perf_counter()
        bestfit.pack(lengths, seq_len)
        bfd = time.perf_counter() - t
        t = time.perf_counter()
        truncate.cut(lengths, seq_len)
        cut = time.perf_counter() - t
        bound = bestfit.lower_bound(lengths, seq_len)
        print(f"\nL={seq_len:,}: lower bound {bound:,} rows")
        print(f"  best-fit decreasing plan {args.docs / bfd:>11,.0f} docs/s  ({bfd:.2f} s)")
        print(
            f"  concat-and-cut plan      {args.docs / cut:>11,.0f} docs/s  ({cut:.2f} s)  best-fit/cut time {bfd / cut:.1f}x"
        )
        for q in bestfit.compare(lengths, seq_len):
            print("  ", q)
        for groups in (10, 100) if seq_len == 32768 else ():
            rows = sum(bestfit.pack(part, seq_len).rows for part in np.array_split(lengths, groups))
            print(
                f"  best-fit in {groups:>3} groups of {args.docs // groups:,}: {rows:,} rows (+{rows / bound - 1:.4%})"
            )


if __name__ == "__main__":
    main()
