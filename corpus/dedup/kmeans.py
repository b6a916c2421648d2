"""Spherical k-means with faiss for SemDedup's clustering step.

Fit on a sample on the driver (a sample of 10% of a million 384-d embeddings is 150 MB);
assignment runs on executors against broadcast centroids.
"""

from __future__ import annotations

import math

import numpy as np

MIN_POINTS_PER_CENTROID = 40
"""faiss warns below 39 training points per centroid; the sample is topped up to this."""


def default_clusters(n_rows: int, docs_per_cluster: int) -> int:
    """``ceil(n / docs_per_cluster)``: pairwise work per cluster stays bounded, so the whole
    step stays linear in rows (1,000 per cluster gives NeMo Curator's recommended >= 1,000
    clusters from a million documents on)."""
    return max(1, math.ceil(n_rows / docs_per_cluster))


def sample_fraction(n_rows: int, k: int, fraction: float) -> float:
    """The requested fraction, raised so the sample has enough points for ``k`` centroids."""
    if n_rows == 0:
        return 1.0
    return min(1.0, max(fraction, MIN_POINTS_PER_CENTROID * k / n_rows))


def used_clusters(k: int, n_sample: int) -> int:
    """How many centroids :func:`fit` makes for ``k`` requested and ``n_sample`` points."""
    return max(1, min(k, n_sample // MIN_POINTS_PER_CENTROID))


def fit(x: np.ndarray, k: int, seed: int, niter: int = 20) -> np.ndarray:
    """At most ``k`` unit-norm centroids (float32 ``[k, d]``) of the unit-norm rows of ``x``.

    ``k`` is cut to one centroid per :data:`MIN_POINTS_PER_CENTROID` rows: with about one
    centroid per point, near-identical points seed separate centroids and their duplicates
    are split across clusters (a 5-row input asking for 50 clusters gets one)."""
    import faiss

    k = used_clusters(k, len(x))
    # used_clusters keeps >= 40 points per centroid except for k == 1 on a smaller input, where
    # faiss's "please provide at least 39 training points" (printed to stderr by its C++, not
    # a Python warning) tells the user nothing they can act on: its threshold is set to 1.
    km = faiss.Kmeans(
        x.shape[1], k, niter=niter, seed=seed, spherical=True, verbose=False, min_points_per_centroid=1
    )
    km.train(np.ascontiguousarray(x, dtype=np.float32))
    return np.asarray(km.centroids, dtype=np.float32)


def assign(x: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid by cosine: ``(cluster int32, cosine to it float32)`` per row."""
    sims = x @ centroids.T
    best = np.argmax(sims, axis=1)
    return best.astype(np.int32), sims[np.arange(len(x)), best].astype(np.float32)
