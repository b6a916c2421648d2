"""Bins of an annotation score: what a fastText classifier predicts, and how its class
probabilities become a score again.

An annotation score (e.g. the 0-5 educational value) is cut at ``edges`` into ``len(edges)+1``
bins; bin ``i`` holds scores ``s`` with ``edges[i-1] <= s < edges[i]``. Each bin has a
``value`` (the mean training label in it), and a document's score is the expected value
``sum_i p_i * value_i`` over the classifier's probabilities, so a model trained on classes
still produces a continuous, rankable score (as FineWeb-Edu's regression head does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def default_edges(labels: np.ndarray) -> list[float]:
    """Integer bins spanning the labels: edges at ``k + 0.5`` between ``floor(min)`` and
    ``ceil(max)`` (0-5 scores -> 6 bins; 0/1 labels -> 2 bins)."""
    lo, hi = math.floor(float(np.min(labels))), math.ceil(float(np.max(labels)))
    if hi <= lo:
        raise ValueError(f"labels have a single value ({lo}): nothing to learn")
    return [k + 0.5 for k in range(lo, hi)]


def assign(scores: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Bin index (int64) of each score: the number of edges ``<=`` the score."""
    return np.searchsorted(np.asarray(edges, dtype=np.float64), np.asarray(scores, dtype=np.float64), "right")


def bin_values(labels: np.ndarray, edges: Sequence[float]) -> list[float]:
    """Mean label in each bin; an empty bin takes its midpoint (end bins: the edge -/+ 0.5)."""
    idx = assign(labels, edges)
    out = []
    for b in range(len(edges) + 1):
        members = labels[idx == b]
        if len(members):
            out.append(float(members.mean()))
        elif b == 0:
            out.append(float(edges[0]) - 0.5)
        elif b == len(edges):
            out.append(float(edges[-1]) + 0.5)
        else:
            out.append((float(edges[b - 1]) + float(edges[b])) / 2)
    return out


def expected_value(probs: np.ndarray, values: Sequence[float]) -> np.ndarray:
    """``probs (n, bins) @ values (bins,)`` as float32, rows renormalised to sum 1."""
    p = np.asarray(probs, dtype=np.float64)
    total = p.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return ((p / total) @ np.asarray(values, dtype=np.float64)).astype(np.float32)
