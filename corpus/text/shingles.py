"""Shingles (hashed word or character n-grams) for a whole batch of texts at once.

The result is flat: one ``uint64`` array of shingle hashes for all documents plus an offsets
array (document ``i`` owns ``hashes[offsets[i]:offsets[i + 1]]``), so MinHash can work on the
batch with numpy instead of a Python loop per n-gram (datatrove's cost).

Tokens are hashed once (xxh64 of each distinct word in the batch, or a mix of each code
point); an n-gram hash is the polynomial combination of its token hashes. A document shorter
than ``n`` tokens gets one shingle of all its tokens (so short duplicates still match); an
empty document gets none.

Languages written without spaces would be one "word" per clause under whitespace splitting
(a Chinese article and its re-post with one place name changed in two sentences: Jaccard 0.46
over ~19 shingles; the English version: 0.90 over ~163), so :func:`shingle_hashes_by_lang`
shingles each row by its ``lang``: :data:`LANG_SHINGLING` gives character n-grams for unspaced
scripts, 5-word shingles for the rest (FineWeb's default).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from corpus.text.normalize import normalize_array

Unit = Literal["word", "char"]

LANG_SHINGLING: dict[str, tuple[Unit, int]] = {
    **dict.fromkeys(("zh", "ja", "yue", "wuu"), ("char", 5)),
    **dict.fromkeys(("th", "lo", "km", "my", "bo", "dz"), ("char", 10)),
}
"""Default ``(unit, n)`` for languages written without spaces (lid.176 codes); others use the
stage's word shingles. Han and kana carry about a word each (jieba: ~1.6 characters per
Chinese word), so 5 characters span ~3 words; Brahmic scripts (Thai ...) after normalisation
(combining vowel and tone marks stripped) take ~3 code points per word (PyThaiNLP newmm on
lingua th: 4.1 clusters per word), so 10 span ~3 words. Character units need no segmenter
dictionary and run vectorised; planted near-copies are found at the same rate as English
(tests/multilingual/test_minhash_languages.py)."""

_C = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier (golden ratio), step of the n-gram polynomial


def fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: an avalanching bijection on uint64 (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def _word_tokens(norm: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(token hashes, tokens per document) from normalised texts, split on whitespace runs."""
    words = pc.utf8_split_whitespace(norm)
    flat = pc.list_flatten(words)
    keep = pc.not_equal(flat, "")  # leading/trailing whitespace yields empty pieces
    doc_of = pc.filter(pc.list_parent_indices(words), keep).to_numpy()
    counts = np.bincount(doc_of, minlength=len(norm)).astype(np.int64)
    encoded = pc.dictionary_encode(pc.filter(flat, keep))
    words_utf8 = encoded.dictionary.cast(pa.large_binary()).to_pylist()
    vocab = np.fromiter(
        (xxhash.xxh64_intdigest(w) for w in words_utf8), dtype=np.uint64, count=len(words_utf8)
    )
    return vocab[encoded.indices.to_numpy()], counts


def _char_tokens(norm: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(mixed code points, code points per document) from normalised texts."""
    points = [np.frombuffer((t or "").encode("utf-32-le"), dtype=np.uint32) for t in norm.to_pylist()]
    counts = np.array([len(p) for p in points], dtype=np.int64)
    flat = np.concatenate(points).astype(np.uint64) if points else np.zeros(0, np.uint64)
    return fmix64(flat + np.uint64(1)), counts


def combine_ngrams(tokens: np.ndarray, counts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-gram hashes ``sum_k tokens[i+k] * C^(n-1-k)`` (mod 2^64) within each document.

    A document with ``0 < c < n`` tokens gets one hash over its ``c`` tokens. Returns
    ``(hashes, offsets)`` with ``len(offsets) == len(counts) + 1``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    ends = np.cumsum(counts)
    starts = ends - counts
    per_doc = np.where(counts >= n, counts - n + 1, np.minimum(counts, 1))
    offsets = np.concatenate([[0], np.cumsum(per_doc)]).astype(np.int64)
    total = len(tokens)
    # Windows over the whole flat array (contiguous slices, no gathers); keep those that end
    # inside their own document.
    padded = np.concatenate([tokens, np.zeros(n - 1, np.uint64)])
    grams = np.zeros(total, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            grams = grams * _C + padded[k : k + total]
    inside = np.arange(total) + n <= np.repeat(ends, counts)
    out = np.empty(int(offsets[-1]), dtype=np.uint64)
    short = np.flatnonzero((counts > 0) & (counts < n))
    long_slot = np.ones(len(out), dtype=bool)
    long_slot[offsets[short]] = False
    out[long_slot] = grams[inside]
    with np.errstate(over="ignore"):
        for d in short:  # rare: documents shorter than one n-gram
            h = np.uint64(0)
            for t in tokens[starts[d] : ends[d]]:
                h = h * _C + t
            out[offsets[d]] = h * _C ** np.uint64(n - counts[d])
    return out, offsets


def shingle_hashes(
    texts: pa.Array | pa.ChunkedArray, n: int = 5, unit: Unit = "word"
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise ``texts`` and return ``(hashes uint64, offsets int64)`` of their n-gram shingles.

    Null texts count as empty. ``unit="word"`` splits on whitespace after normalisation
    (punctuation is already gone); ``unit="char"`` uses Unicode code points, spaces included.
    """
    if n < 1:
        raise ValueError(f"n-gram size must be >= 1, got {n}")
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    norm = normalize_array(texts, collapse_spaces=False)
    tokens, counts = _word_tokens(norm) if unit == "word" else _char_tokens(norm)
    return combine_ngrams(tokens, counts, n)


def shingle_spec(
    lang: str | None, default: tuple[Unit, int], overrides: dict[str, tuple[Unit, int]]
) -> tuple[Unit, int]:
    """``(unit, n)`` for a row in ``lang``: an override, else :data:`LANG_SHINGLING`, else ``default``."""
    if lang is None:
        return default
    return overrides.get(lang) or LANG_SHINGLING.get(lang) or default


def shingle_hashes_by_lang(
    texts: pa.Array | pa.ChunkedArray,
    langs: list[str | None],
    default: tuple[Unit, int] = ("word", 5),
    overrides: dict[str, tuple[Unit, int]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shingle_hashes` with each row's ``(unit, n)`` from its language
    (:func:`shingle_spec`); returns ``(hashes, offsets)`` in row order."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    specs = [shingle_spec(lang, default, overrides or {}) for lang in langs]
    groups: dict[tuple[Unit, int], list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault(spec, []).append(i)
    if len(groups) <= 1:
        unit, n = next(iter(groups), default)
        return shingle_hashes(texts, n, unit)
    lengths = np.zeros(len(texts), dtype=np.int64)
    parts = []
    for (unit, n), rows in groups.items():
        idx = np.array(rows, dtype=np.int64)
        hashes, offsets = shingle_hashes(texts.take(pa.array(idx)), n, unit)
        lengths[idx] = np.diff(offsets)
        parts.append((idx, hashes, offsets))
    out_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    out = np.empty(int(out_offsets[-1]), dtype=np.uint64)
    for idx, hashes, offsets in parts:
        counts = np.diff(offsets)
        within = np.arange(len(hashes)) - np.repeat(offsets[:-1], counts)
        out[np.repeat(out_offsets[idx], counts) + within] = hashes
    return out, out_offsets
