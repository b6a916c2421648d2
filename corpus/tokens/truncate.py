"""Concatenate-and-cut: the pre-training packing GLM-4.5 keeps (no best-fit at 4K).

Documents (each ending in EOS) are laid end to end in the caller's shuffled order and the
stream is cut every ``seq_len`` tokens, so documents are cut at random offsets — the data
augmentation the recipe keeps — and each epoch of a document, having its own shuffle
position, lands at different cut points. The trailing ``< seq_len`` tokens of a group that do
not fill a row are dropped (counted by the caller); every other token is in exactly one row.
Works on lengths only and returns the same :class:`~corpus.tokens.plan.Plan` as best-fit.
"""

from __future__ import annotations

import numpy as np

from corpus.tokens.plan import Plan


def cut(lengths: np.ndarray, seq_len: int) -> Plan:
    """Plan for rows of exactly ``seq_len`` tokens over documents of ``lengths``, in order."""
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    begins = ends - lengths
    n_rows = int(ends[-1]) // seq_len if len(ends) else 0
    limit = n_rows * seq_len
    stop = np.minimum(ends, limit)  # tokens past the last full row are dropped
    first_row = begins // seq_len
    last_row = (stop - 1) // seq_len
    n_pieces = np.where(stop > begins, last_row - first_row + 1, 0)
    doc = np.repeat(np.arange(len(lengths), dtype=np.int64), n_pieces)
    row = np.repeat(first_row, n_pieces) + (
        np.arange(len(doc)) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    )
    lo = np.maximum(begins[doc], row * seq_len)
    hi = np.minimum(stop[doc], (row + 1) * seq_len)
    return Plan(doc=doc, start=lo - begins[doc], length=hi - lo, row=row, pos=lo - row * seq_len, rows=n_rows)
