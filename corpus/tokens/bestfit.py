"""Best-fit-decreasing packing of documents into rows of ``seq_len`` tokens (Ding et al. 2024,
"Fewer Truncations Improve Language Modeling"), plus the two baselines it is measured against.

Documents longer than ``seq_len`` are cut into full ``seq_len`` chunks (each a row of its own)
and a remainder chunk; every chunk of at most ``seq_len`` tokens is then placed, largest
first, into the open row with the *smallest* remaining capacity that still fits it, or into a
new row. Finding that row is a query on a segment tree indexed by remaining capacity
``0..seq_len`` (each leaf holds its own index when some row has exactly that much room left,
internal nodes hold the maximum of their children), so each chunk costs O(log seq_len) and a
group of N chunks O(N log seq_len). Rows never split a document of at most ``seq_len`` tokens.

The plan works on lengths only: it returns, for each piece of each document, the row it lands
in and its token offset there, so the tokens themselves never have to sit in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus.tokens.plan import Plan


def _chunks(lengths: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split every document into ``seq_len`` chunks plus a remainder: (doc, start, length)."""
    n = -(-lengths // seq_len)
    doc = np.repeat(np.arange(len(lengths), dtype=np.int64), n)
    first = np.repeat(np.cumsum(n) - n, n)
    start = (np.arange(len(doc), dtype=np.int64) - first) * seq_len
    length = np.minimum(lengths[doc] - start, seq_len)
    return doc, start, length


def best_fit_rows(sizes: np.ndarray, seq_len: int) -> np.ndarray:
    """Best-fit decreasing over ``sizes`` (each in 1..seq_len): the row of every item, with rows
    numbered in the order they were opened. Ties between equal sizes keep the input order, so
    the caller's (seeded) order makes the result deterministic."""
    order = np.argsort(-sizes, kind="stable")
    row_of = np.empty(len(sizes), dtype=np.int64)
    # Items larger than half a row never share a row with each other and, coming first, find
    # every open row too full: each opens its own row without a tree query.
    big = int(np.count_nonzero(sizes > seq_len // 2))
    row_of[order[:big]] = np.arange(big)
    width = 1 << max(1, int(seq_len).bit_length())  # leaves 0..seq_len (< width)
    tree = [-1] * (2 * width)
    rows_at: list[list[int]] = [[] for _ in range(seq_len + 1)]
    for r, s in enumerate(sizes[order[:big]].tolist()):
        room = seq_len - s
        if room:
            rows_at[room].append(r)
            tree[width + room] = room
    for i in range(width - 1, 0, -1):
        a, b = tree[2 * i], tree[2 * i + 1]
        tree[i] = a if a > b else b
    n_rows = big
    for k, s in zip(order[big:].tolist(), sizes[order[big:]].tolist(), strict=True):
        if tree[1] >= s:
            i = 1
            while i < width:  # leftmost leaf >= s: the smallest room that fits
                i = 2 * i if tree[2 * i] >= s else 2 * i + 1
            room = i - width
            stack = rows_at[room]
            r = stack.pop()
            if not stack:  # no row left with this room: clear the leaf, refresh ancestors
                tree[i] = -1
                i >>= 1
                while i:
                    a, b = tree[2 * i], tree[2 * i + 1]
                    m = a if a > b else b
                    if tree[i] == m:
                        break
                    tree[i] = m
                    i >>= 1
        else:
            r = n_rows
            n_rows += 1
            room = seq_len
        row_of[k] = r
        room -= s
        if room:
            stack = rows_at[room]
            stack.append(r)
            if len(stack) == 1:
                i = width + room
                tree[i] = room
                i >>= 1
                while i and tree[i] < room:
                    tree[i] = room
                    i >>= 1
    return row_of


def _place(doc, start, length, row, n_rows) -> Plan:
    """Order pieces by (row, insertion order) and give each its offset in the row."""
    order = np.lexsort((np.arange(len(row)), row))
    doc, start, length, row = doc[order], start[order], length[order], row[order]
    ends = np.cumsum(length)
    row_first = np.searchsorted(row, row, side="left")
    row_base = ends[row_first] - length[row_first]
    return Plan(doc, start, length, row, ends - length - row_base, int(n_rows))


def pack(lengths: np.ndarray, seq_len: int) -> Plan:
    """Best-fit-decreasing plan for documents of ``lengths`` tokens (in the caller's order)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    doc, start, length = _chunks(lengths, seq_len)
    full = length == seq_len
    row = np.empty(len(doc), dtype=np.int64)
    n_full = int(np.count_nonzero(full))
    row[full] = np.arange(n_full)
    row[~full] = n_full + best_fit_rows(length[~full], seq_len)
    n_rows = int(row.max()) + 1 if len(row) else 0
    return _place(doc, start, length, row, n_rows)


def first_fit_rows(sizes: np.ndarray, seq_len: int) -> int:
    """Rows used by first-fit in arrival order (baseline): each item goes to the oldest row
    with room, found with a max segment tree over rows."""
    n = len(sizes)
    width = 1 << max(1, int(n).bit_length())
    tree = [0] * (2 * width)
    n_rows = 0
    for s in sizes.tolist():
        if tree[1] >= s:
            i = 1
            while i < width:
                i = 2 * i if tree[2 * i] >= s else 2 * i + 1
        else:
            i = width + n_rows
            n_rows += 1
            tree[i] = seq_len
        tree[i] -= s
        i >>= 1
        while i:
            a, b = tree[2 * i], tree[2 * i + 1]
            tree[i] = a if a > b else b
            i >>= 1
    return n_rows


@dataclass(frozen=True)
class Quality:
    """How a packing method did on one set of lengths."""

    method: str
    rows: int
    lower_bound: int
    padding_rate: float
    split_docs: int
    """Documents of at most ``seq_len`` tokens that were cut across rows."""

    def __str__(self) -> str:
        extra = self.rows / self.lower_bound - 1 if self.lower_bound else 0.0
        return (
            f"{self.method:<16} rows={self.rows:>9,} (+{extra:.4%} over bound {self.lower_bound:,})"
            f"  padding={self.padding_rate:.4%}  split docs<=L={self.split_docs:,}"
        )


def lower_bound(lengths: np.ndarray, seq_len: int) -> int:
    return -(-int(np.sum(lengths)) // seq_len)


def compare(lengths: np.ndarray, seq_len: int) -> list[Quality]:
    """Best-fit decreasing, first-fit and concatenate-and-cut on the same lengths."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total, bound = int(lengths.sum()), lower_bound(lengths, seq_len)
    plan = pack(lengths, seq_len)
    pieces = np.bincount(plan.doc, minlength=len(lengths))
    short = lengths <= seq_len
    out = [
        Quality(
            "best_fit_decr",
            plan.rows,
            bound,
            1 - total / (plan.rows * seq_len),
            int(np.count_nonzero(short & (pieces > 1))),
        )
    ]
    _, _, chunk = _chunks(lengths, seq_len)
    ff_rows = int(np.count_nonzero(chunk == seq_len)) + first_fit_rows(chunk[chunk < seq_len], seq_len)
    out.append(Quality("first_fit", ff_rows, bound, 1 - total / (ff_rows * seq_len), 0))
    ends = np.cumsum(lengths)
    crossing = (ends - lengths) // seq_len != (ends - 1) // seq_len
    out.append(
        Quality(
            "concat_and_cut",
            bound,
            bound,
            1 - total / (bound * seq_len),
            int(np.count_nonzero(short & crossing)),
        )
    )
    return out


def long_tailed_lengths(
    n: int, seed: int, median: float = 600.0, sigma: float = 1.3, max_len: int = 200_000
) -> np.ndarray:
    """Synthetic document lengths: log-normal (web-like median, heavy right tail), >= 1."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.lognormal(np.log(median), sigma, n), 1, max_len).astype(np.int64)
