"""The packing plan both packers return: where each piece of each document goes.

Packers work on document lengths only; applying a plan to the tokens (slicing each document
into its pieces and concatenating each row's pieces in ``pos`` order) is the caller's job, so
packing a group never needs its tokens in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Plan:
    """Parallel arrays, one entry per piece; ``doc`` indexes the caller's length array."""

    doc: np.ndarray
    start: np.ndarray
    """Offset of the piece inside its document."""
    length: np.ndarray
    row: np.ndarray
    pos: np.ndarray
    """Offset of the piece inside its row."""
    rows: int

    @property
    def tokens(self) -> int:
        return int(self.length.sum())

    def cut_docs(self, lengths: np.ndarray) -> np.ndarray:
        """Boolean per document: not wholly inside one row (split across rows or partly dropped)."""
        kept = np.bincount(self.doc, weights=self.length, minlength=len(lengths))
        pieces = np.bincount(self.doc, minlength=len(lengths))
        return (pieces != 1) | (kept != np.asarray(lengths))
