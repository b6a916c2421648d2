"""Deterministic held-out split: a row's side depends on hash(seed, key), never on order or
partitioning, so a rerun (or a run on another master) holds out exactly the same rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xxhash


def heldout_mask(keys: Sequence[str | None], seed: int, fraction: float) -> np.ndarray:
    """Boolean array, True for rows whose ``xxh64(seed, key, "heldout")`` falls in the lowest
    ``fraction`` of the 64-bit range. ``keys`` are ids, or a group (e.g. a package name) so that
    every row of a group lands on one side. ``None`` keys count as the empty string."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"held-out fraction must be in [0, 1), got {fraction}")
    cut = fraction * 2.0**64
    return np.fromiter(
        (xxhash.xxh64_intdigest(f"{seed}\x1f{k or ''}\x1fheldout".encode()) < cut for k in keys),
        dtype=bool,
        count=len(keys),
    )
