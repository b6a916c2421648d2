"""fastText supervised classifiers over bins of a score (DCLM's quality model is one: word
bigrams, curated positives vs crawl negatives). Training writes the ``__label__<bin> text``
file fastText reads; inference returns class probabilities in bin order.

fastText trains single-threaded here (``thread=1``) so the same data and seed give the same
model; quantisation (``.ftz``, product quantisation + a pruned vocabulary) keeps shipped
models to a few MB.

Inference goes through :mod:`corpus.scoring.fasttext_numpy` (batched numpy, the same
probabilities as fastText's ``predict`` within float rounding) for the models it implements
(supervised, softmax, no subwords, labels ``__label__0 .. __label__<n-1>``: every shipped
classifier); any other model falls back to fastText's own per-line ``predict``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

LABEL = "__label__"


def normalize(text: str | None, max_chars: int) -> str:
    """One line of lower-cased text (fastText reads a line per example): the first
    ``max_chars`` characters, whitespace runs collapsed to one space, no space at either end.

    ``str.split()`` splits on exactly the characters re's ``\\s`` matches (``str.isspace``;
    tests/scoring/test_fasttext_numpy.py checks every code point), so this equals the former
    ``re.sub(r"\\s+", " ", ...).strip()`` at under half its cost (1,500-character article
    bodies: 19 µs instead of 41 µs per text, one core, load average 2.9)."""
    return " ".join((text or "")[:max_chars].split()).lower()


def write_training_file(path: str, texts: Sequence[str | None], bin_idx: np.ndarray, max_chars: int) -> None:
    """``__label__<bin> <normalised text>`` per line (UTF-8)."""
    with open(path, "w", encoding="utf-8") as f:
        for text, b in zip(texts, bin_idx.tolist(), strict=True):
            f.write(f"{LABEL}{b} {normalize(text, max_chars)}\n")


def train(
    train_file: str,
    out_path: str,
    *,
    dim: int,
    epoch: int,
    lr: float,
    word_ngrams: int,
    min_count: int,
    minn: int,
    maxn: int,
    bucket: int,
    seed: int,
    quantize: bool,
    cutoff: int,
) -> dict[str, Any]:
    """Train on ``train_file``, save to ``out_path`` (``.ftz`` when quantised, else ``.bin``);
    returns the arguments used (for the model card)."""
    import fasttext

    args = dict(
        dim=dim,
        epoch=epoch,
        lr=lr,
        wordNgrams=word_ngrams,
        minCount=min_count,
        minn=minn,
        maxn=maxn,
        bucket=bucket,
        seed=seed,
    )
    model = fasttext.train_supervised(input=train_file, thread=1, verbose=0, loss="softmax", **args)
    if quantize:
        model.quantize(input=train_file, qnorm=True, retrain=cutoff > 0, cutoff=cutoff, thread=1, verbose=0)
    model.save_model(out_path)
    return {**args, "loss": "softmax", "quantized": quantize, "cutoff": cutoff if quantize else None}


@functools.cache
def load(path: str):
    """The fastText model at ``path``, once per process (fastText prints nothing on load)."""
    import fasttext

    if not os.path.isfile(path):
        raise FileNotFoundError(f"fastText model {path!r} does not exist")
    fasttext.FastText.eprint = lambda *a, **k: None  # its load-time warning is about the old API
    return fasttext.load_model(str(Path(path)))


@functools.cache
def _numpy_model(path: str):
    """The numpy reader's model at ``path`` when it implements it, else None (fastText then)."""
    from corpus.scoring import fasttext_numpy

    try:
        model = fasttext_numpy.load(path)
    except ValueError:  # a file the reader does not follow: fastText reads (or rejects) it
        return None
    return model if model.unsupported() is None else None


def predict_proba(path: str, texts: Sequence[str | None], n_bins: int, max_chars: int) -> np.ndarray:
    """``(len(texts), n_bins)`` float32 probabilities, column ``b`` = ``__label__<b>``: what
    fastText's ``predict(normalize(text, max_chars), k=n_bins, threshold=0)`` gives (its
    probabilities are ``p + 1e-5``; all zeros for a line with no known word or n-gram)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"fastText model {path!r} does not exist")
    fast = _numpy_model(path)
    if fast is not None and fast.nlabels == n_bins:
        return fast.predict_proba(texts, max_chars)
    model = load(path)
    lines = [normalize(t, max_chars) for t in texts]
    out = np.zeros((len(lines), n_bins), dtype=np.float32)
    if not lines:
        return out
    labels, probs = model.predict(lines, k=n_bins, threshold=0.0)
    for i, (ls, ps) in enumerate(zip(labels, probs, strict=True)):
        for label, p in zip(ls, ps, strict=True):
            out[i, int(label[len(LABEL) :])] = p
    return out
