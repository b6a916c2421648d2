"""Mixture sampling: how many times each document enters a stream, and where.

A mixture gives epochs per source, or per (source, bucket) where a quality bucket or tier
column exists. A document of a group with ``e`` epochs is repeated ``floor(e)`` times, plus
once more when ``u < e - floor(e)`` for ``u`` uniform from hash(seed, id, "epoch", floor(e)),
so a group's realised epochs converge on ``e`` whatever the partitioning. Every repeat ``r``
gets its own shuffle key hash(seed, id, "shuffle", r): repeats of one document are spread
over the stream instead of sitting side by side, and fall at different truncation points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import xxhash

Epochs = Mapping[str, "float | Mapping[str, float]"]
"""``{source: epochs}`` or ``{source: {bucket: epochs}}`` (bucket values as strings)."""


def requested(epochs: Epochs, default: float, source: str, bucket: str | None) -> float:
    """Epochs the mixture asks for a (source, bucket) group; ``default`` when not listed."""
    spec = epochs.get(source, default)
    if isinstance(spec, Mapping):
        return float(spec.get(bucket, default)) if bucket is not None else float(default)
    return float(spec)


def unit_hash(seed: int, doc_id: str, purpose: str, k: int) -> int:
    """64-bit hash of (seed, document id, purpose, k): the source of every random choice."""
    return xxhash.xxh64_intdigest(f"{seed}\x1f{doc_id}\x1f{purpose}\x1f{k}".encode())


def repeats(ids: Sequence[str], epochs: Sequence[float], seed: int) -> np.ndarray:
    """How many times each document is used: ``floor(e)`` plus a hashed Bernoulli(frac(e))."""
    out = np.empty(len(ids), dtype=np.int64)
    for i, (doc_id, e) in enumerate(zip(ids, epochs, strict=True)):
        whole = math.floor(e)
        frac = e - whole
        extra = frac > 0 and unit_hash(seed, doc_id, "epoch", whole) < frac * 2.0**64
        out[i] = whole + extra
    return out


def shuffle_key(seed: int, doc_id: str, r: int) -> int:
    """Signed 64-bit shuffle position of repeat ``r`` of a document (fits Spark's bigint)."""
    return unit_hash(seed, doc_id, "shuffle", r) - (1 << 63)


def expand_batch(batch: pa.RecordBatch, seed: int) -> pa.RecordBatch:
    """One row per (document, repeat) from rows with ``id, n_tokens, g, epochs, n_sub``.

    Output columns ``g, sub, id, r, key, n_tokens``: ``g`` is the (source, bucket) group,
    ``sub`` its packing sub-group (key modulo ``n_sub``), ``key`` the shuffle position.
    """
    ids = batch.column("id").to_pylist()
    n = repeats(ids, batch.column("epochs").to_pylist(), seed)
    idx = np.repeat(np.arange(len(ids)), n)
    r = np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n)
    keys = np.fromiter(
        (shuffle_key(seed, ids[i], k) for i, k in zip(idx.tolist(), r.tolist(), strict=True)),
        dtype=np.int64,
        count=len(idx),
    )
    n_sub = np.asarray(batch.column("n_sub").to_numpy(zero_copy_only=False), dtype=np.int64)[idx]
    take = pa.array(idx)
    return pa.RecordBatch.from_pydict(
        {
            "g": batch.column("g").take(take),
            "sub": pa.array((keys.view(np.uint64) % n_sub.astype(np.uint64)).astype(np.int32)),
            "id": batch.column("id").take(take),
            "r": pa.array(r.astype(np.int32)),
            "key": pa.array(keys),
            "n_tokens": batch.column("n_tokens").take(take),
        }
    )
