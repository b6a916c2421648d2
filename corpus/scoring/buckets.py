"""Token-weighted percentile buckets (Nemotron-CC): cut each classifier's score where 5 %,
10 %, ..., 95 % of the *tokens* (not documents) lie below, giving 20 integer buckets of about
5 % of the tokens each; the ensemble bucket of a document is the max over its classifiers.

Definitions (exact): with scores sorted ascending and ``W(s)`` the tokens of documents scoring
``<= s``, the threshold at percentile ``p`` is the smallest score ``s`` with
``100 * W(s) >= p * W_total``. A score's bucket is the number of thresholds strictly below it,
so bucket 0 holds scores ``<= t_5`` and bucket ``k`` scores in ``(t_{k-1}, t_k]``. Ties never
split: equal scores share a bucket, so a bucket can hold more (or less) than 5 % of tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

DEFAULT_PERCENTILES: tuple[float, ...] = tuple(float(p) for p in range(5, 100, 5))

DEFAULT_LEVELS: dict[str, tuple[int, int]] = {
    "low": (0, 3),
    "medium_low": (4, 7),
    "medium": (8, 11),
    "medium_high": (12, 15),
    "high": (16, 19),
}
"""Our grouping of the 20 buckets into five named levels of four buckets (~20 % of tokens each)."""


def weighted_thresholds(
    scores: np.ndarray, weights: np.ndarray, percentiles: Sequence[float] = DEFAULT_PERCENTILES
) -> list[float]:
    """Thresholds at token-weighted ``percentiles`` (see the module docstring).

    ``scores`` float, ``weights`` non-negative token counts (one per score, or per distinct
    score after aggregation: the result is the same). Raises ``ValueError`` on empty input or
    zero total weight."""
    s = np.asarray(scores, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if len(s) == 0 or w.sum() <= 0:
        raise ValueError("no tokens to compute percentiles over")
    order = np.argsort(s, kind="stable")
    s, cum = s[order], np.cumsum(w[order])
    total = cum[-1]
    idx = [int(np.searchsorted(cum * 100.0, p * total, side="left")) for p in percentiles]
    return [float(s[min(i, len(s) - 1)]) for i in idx]


def grid_thresholds(
    cells: np.ndarray, weights: np.ndarray, lo: float, hi: float, grid: int, percentiles: Sequence[float]
) -> list[float]:
    """Approximate thresholds from a histogram: ``cells`` = ``floor((score - lo) / (hi - lo) *
    grid)`` clipped to ``[0, grid - 1]``, ``weights`` the tokens per cell. Each threshold is its
    cell's upper edge, so it is within one cell width ``(hi - lo) / grid`` of the exact one and
    every document of a cell lands in the same bucket."""
    cut = weighted_thresholds(np.asarray(cells, dtype=np.float64), weights, percentiles)
    width = (hi - lo) / grid if hi > lo else 0.0
    return [hi if c >= grid - 1 else lo + (c + 1) * width for c in cut]


def assign(scores: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Bucket (int32) of each score: the number of thresholds strictly below it."""
    t = np.asarray(thresholds, dtype=np.float64)
    return np.searchsorted(t, np.asarray(scores, dtype=np.float64), side="left").astype(np.int32)


def ensemble(buckets: Sequence[np.ndarray]) -> np.ndarray:
    """Element-wise max over classifiers' buckets (Nemotron-CC's ensemble)."""
    return np.max(np.vstack([np.asarray(b) for b in buckets]), axis=0).astype(np.int32)


def level_of(bucket: int | None, levels: Mapping[str, Sequence[int]]) -> str | None:
    """Name of the level whose inclusive ``[lo, hi]`` bucket range holds ``bucket``."""
    if bucket is None:
        return None
    for name, (lo, hi) in levels.items():
        if lo <= bucket <= hi:
            return name
    return None


def check_levels(levels: Mapping[str, Sequence[int]], n_buckets: int) -> None:
    """Raise ``ValueError`` unless the ranges are ``[lo, hi]`` pairs that do not overlap and lie
    within ``0 .. n_buckets - 1`` (gaps are allowed: such buckets get no level)."""
    seen: set[int] = set()
    for name, rng in levels.items():
        if len(rng) != 2 or not 0 <= rng[0] <= rng[1] < n_buckets:
            raise ValueError(f"level {name!r}: range {list(rng)} is not [lo, hi] within 0..{n_buckets - 1}")
        span = set(range(rng[0], rng[1] + 1))
        if span & seen:
            raise ValueError(f"level {name!r} overlaps another level")
        seen |= span
