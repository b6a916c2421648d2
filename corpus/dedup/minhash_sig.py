"""MinHash signatures and LSH band keys for a batch of documents, with numpy.

The permutation scheme is datasketch's ``affine64`` (datasketch >= 2.0): each shingle hash is
pre-mixed once with MurmurHash3's finaliser, then permutation ``k`` maps it to
``a_k * h + b_k mod 2^64`` with odd ``a_k`` (a bijection, so permuting adds no collisions).
``a`` and ``b`` are drawn exactly as datasketch draws them from ``RandomState(seed)``, so a
signature here equals ``datasketch.MinHash(num_perm, seed, scheme="affine64")`` fed the same
shingle hashes — the test suite checks it. Unlike datasketch we do all documents of a batch
in one pass of vectorised multiply-add and a segmented ``minimum.reduceat``.
"""

from __future__ import annotations

import functools

import numpy as np

from corpus.text.shingles import _C, fmix64

EMPTY = np.uint64(2**64 - 1)
"""Signature value of a document without shingles (datasketch's empty value for affine64)."""

_CHUNK = 1 << 11
"""Shingles permuted at once: the (chunk x num_perm) work array (~1.8 MB at 112), allocated
once per batch, stays in cache; 8,192 with a fresh array per chunk ran half as fast."""


@functools.cache
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)``, each ``uint64[num_perm]``: datasketch's ``affine64`` parameters for ``seed``."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 63, num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = gen.randint(0, 1 << 64, num_perm, dtype=np.uint64)
    return a, b


def signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures ``uint64[n_docs, num_perm]`` of the flat shingle hashes of a batch.

    Document ``i`` owns ``hashes[offsets[i]:offsets[i+1]]``; a document without shingles gets
    :data:`EMPTY` everywhere (and must not be bucketed).
    """
    a, b = permutations(num_perm, seed)
    n_docs = len(offsets) - 1
    out = np.full((n_docs, num_perm), EMPTY, dtype=np.uint64)
    mixed = fmix64(np.asarray(hashes, dtype=np.uint64))
    lengths = np.diff(offsets)
    buffer = np.empty((_CHUNK, num_perm), dtype=np.uint64)
    doc = 0
    while doc < n_docs:
        # Take whole documents until the chunk is full (at least one document per chunk).
        stop = int(np.searchsorted(offsets, offsets[doc] + _CHUNK, side="right")) - 1
        stop = min(max(stop, doc + 1), n_docs)
        lo, hi = int(offsets[doc]), int(offsets[stop])
        if hi > lo:
            work = buffer[: hi - lo] if hi - lo <= _CHUNK else np.empty((hi - lo, num_perm), np.uint64)
            np.multiply(mixed[lo:hi, None], a[None, :], out=work)
            work += b
            nonempty = np.flatnonzero(lengths[doc:stop]) + doc
            out[nonempty] = np.minimum.reduceat(work, offsets[nonempty] - lo, axis=0)
        doc = stop
    return out


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``int64[n_docs, bands]``: one 64-bit key per band of ``rows`` consecutive signature values.

    Two documents share a key in band ``j`` iff (up to 2^-64) their signatures agree on all
    ``rows`` values of band ``j``: the LSH collision that makes them candidates.
    """
    if sigs.shape[1] < bands * rows:
        raise ValueError(f"signature has {sigs.shape[1]} values, bands x rows needs {bands * rows}")
    key = np.zeros((sigs.shape[0], bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            key = key * _C + fmix64(sigs[:, r : bands * rows : rows])
    return fmix64(key).view(np.int64)


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Fraction of equal signature positions: the unbiased MinHash estimate of Jaccard."""
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.shape[-1]


def s_curve_threshold(bands: int, rows: int) -> float:
    """Jaccard at which LSH with ``bands x rows`` finds a pair with probability ~1/2:
    ``(1/b)^(1/r)`` (0.72 for FineWeb's 14 x 8)."""
    return (1.0 / bands) ** (1.0 / rows)


def collision_probability(jaccard: float, bands: int, rows: int) -> float:
    """Probability that a pair with this Jaccard shares at least one band: ``1-(1-J^r)^b``."""
    return 1.0 - (1.0 - jaccard**rows) ** bands
