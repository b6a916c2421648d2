"""Planted near-duplicates built from real sentences, and the brute-force truth to judge against.

Documents are runs of real sentences (Leipzig corpora via ``shared/data/langid``); a variant
is a copy of a base document with random words replaced until its exact Jaccard similarity
to the base (over the same normalised 5-word shingles the stage uses) reaches a target
level. Everything derives from one seed.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from corpus.text.normalize import normalize_array
from corpus.text.shingles import shingle_hashes


def sentences(shared_data: Path, langs: tuple[str, ...] = ("en", "de", "fr", "es")) -> list[str]:
    folder = shared_data / "langid" / "lingua_sentences"
    out: list[str] = []
    for lang in langs:
        out += [
            s.strip() for s in (folder / f"{lang}.txt").read_text(encoding="utf-8").splitlines() if s.strip()
        ]
    return out


def _grams(words: list[str], n: int) -> set[tuple[str, ...]]:
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def edit_to_jaccard(
    words: list[str], target: float, vocab: list[str], rng: random.Random, n: int = 5
) -> list[str]:
    """``words`` with random positions replaced by random vocabulary words, as many as needed
    for the Jaccard to ``words`` to come closest to ``target`` (bisection on the count)."""
    order = rng.sample(range(len(words)), len(words))
    subs = [rng.choice(vocab) for _ in order]
    base = _grams(words, n)

    def jaccard(k: int) -> float:
        grams = _grams(edited(k), n)
        return len(base & grams) / len(base | grams)

    def edited(k: int) -> list[str]:
        out = list(words)
        for pos, word in zip(order[:k], subs[:k], strict=True):
            out[pos] = word
        return out

    lo, hi = 0, len(words)
    while lo < hi:  # smallest k whose Jaccard is <= target
        mid = (lo + hi) // 2
        if jaccard(mid) <= target:
            hi = mid
        else:
            lo = mid + 1
    best = min((k for k in (lo - 1, lo) if k >= 0), key=lambda k: abs(jaccard(k) - target))
    return edited(best)


def planted_corpus(
    sents: list[str],
    n_base: int,
    n_with_variants: int,
    levels: tuple[float, ...],
    seed: int = 0,
    sentences_per_doc: tuple[int, int] = (6, 12),
    prefix: str = "d",
) -> list[dict]:
    """``n_base`` documents of random sentences; the first ``n_with_variants`` get one or two
    variants, each at a Jaccard level drawn from ``levels``. Rows: id, text, base, level."""
    rng = random.Random(seed)
    texts = [" ".join(rng.sample(sents, rng.randint(*sentences_per_doc))) for _ in range(n_base)]
    docs = [{"id": f"{prefix}{i:06d}", "text": t, "base": i, "level": 1.0} for i, t in enumerate(texts)]
    bases = [t.split() for t in normalize_array(pa.array(texts, pa.large_string())).to_pylist()]
    vocab = sorted({w for words in bases[:200] for w in words})
    for i in range(n_with_variants):
        for v in range(rng.choice((1, 2))):
            level = rng.choice(levels)
            words = edit_to_jaccard(bases[i], level, vocab, rng)
            docs.append({"id": f"{prefix}{i:06d}v{v}", "text": " ".join(words), "base": i, "level": level})
    rng.shuffle(docs)
    return docs


def exact_jaccard_pairs(texts: list[str], n: int = 5) -> dict[tuple[int, int], float]:
    """Exact Jaccard of every pair (i < j) sharing at least one shingle, by sparse products over
    the stage's own shingle hashes: the brute-force truth (pairs absent here have Jaccard 0)."""
    hashes, offsets = shingle_hashes(pa.array(texts, pa.large_string()), n)
    doc = np.repeat(np.arange(len(texts)), np.diff(offsets))
    _, col = np.unique(hashes, return_inverse=True)
    m = sp.csr_matrix((np.ones(len(col), np.float32), (doc, col)), shape=(len(texts), int(col.max()) + 1))
    m.data[:] = 1.0  # duplicates within a document were summed: back to a set
    m.sum_duplicates()
    m.data[:] = 1.0
    sizes = np.asarray(m.sum(axis=1)).ravel()
    inter = sp.triu(m @ m.T, k=1).tocoo()
    union = sizes[inter.row] + sizes[inter.col] - inter.data
    return {
        (int(i), int(j)): float(x / u)
        for i, j, x, u in zip(inter.row, inter.col, inter.data, union, strict=True)
    }
