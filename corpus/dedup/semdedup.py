"""SemDedup's per-cluster step (Abbas et al., 2023), as a pure numpy function.

Within one k-means cluster, documents are visited in keep-priority order; a document is a
duplicate when its cosine similarity to an already *kept* document is at least ``1 - eps``,
and its representative is the first such kept document. (NeMo Curator compares with every
earlier document, kept or not; comparing with kept ones only never removes a document whose
only near-twin was itself removed.) Work is blocked so memory stays ``O(block x kept)``.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1024


def greedy_representatives(emb: np.ndarray, order: np.ndarray, eps: float) -> np.ndarray:
    """For unit-norm rows ``emb`` visited in ``order`` (indices, best first), the index of each
    row's representative: itself when kept, else the first kept row with cosine >= 1 - eps."""
    threshold = np.float32(1.0 - eps)
    x = np.ascontiguousarray(emb[order], dtype=np.float32)
    n = len(x)
    rep_sorted = np.arange(n)
    kept: list[int] = []  # positions in visiting order
    kept_vecs = np.zeros((0, x.shape[1]), dtype=np.float32)
    for start in range(0, n, BLOCK):
        block = x[start : start + BLOCK]
        hit_prev = block @ kept_vecs.T >= threshold if len(kept) else np.zeros((len(block), 0), bool)
        inner = block @ block.T >= threshold
        is_kept = np.zeros(len(block), dtype=bool)
        for i in range(len(block)):
            if hit_prev.shape[1] and hit_prev[i].any():
                rep_sorted[start + i] = kept[int(np.argmax(hit_prev[i]))]
                continue
            twins = inner[i, :i] & is_kept[:i]
            if twins.any():
                rep_sorted[start + i] = start + int(np.argmax(twins))
            else:
                is_kept[i] = True
        kept += (start + np.flatnonzero(is_kept)).tolist()
        kept_vecs = np.concatenate([kept_vecs, block[is_kept]])
    rep = np.empty(n, dtype=np.int64)
    rep[order] = order[rep_sorted]
    return rep
