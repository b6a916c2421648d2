"""Per-source text transforms applied just before encoding (the tokenize stage's hook).

A transform is ``fn(text, doc_id, seed) -> text``; randomness must come from
hash(seed, doc_id, purpose). Fill-in-the-Middle for code registers here; the tokenize
stage's ``transforms: {source: name}`` picks one per source.
"""

from __future__ import annotations

from collections.abc import Callable

Transform = Callable[[str, str, int], str]

TRANSFORMS: dict[str, Transform] = {}


def get(name: str) -> Transform:
    """The registered transform ``name``; a clear error listing the known ones."""
    if name not in TRANSFORMS:
        raise ValueError(f"unknown text transform {name!r}; known: {sorted(TRANSFORMS) or 'none yet'}")
    return TRANSFORMS[name]
