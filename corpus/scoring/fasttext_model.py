"""fastText supervised classifiers over bins of a score (DCLM's quality model is one: word
bigrams, curated positives vs crawl negatives). Training writes the ``__label__<bin> text``
file fastText reads; inference returns class probabilities in bin order.

fastText trains single-threaded here (``thread=1``) so the same data and seed give the same
model; quantisation (``.ftz``, product quantisation + a pruned vocabulary) keeps shipped
models to a few MB.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

LABEL = "__label__"
_SPACE = re.compile(r"\s+")


def normalize(text: str | None, max_chars: int) -> str:
    """One line of lower-cased text (fastText reads a line per example): the first
    ``max_chars`` characters, whitespace runs collapsed to one space."""
    return _SPACE.sub(" ", (text or "")[:max_chars]).strip().lower()


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


def predict_proba(path: str, texts: Sequence[str | None], n_bins: int, max_chars: int) -> np.ndarray:
    """``(len(texts), n_bins)`` float32 probabilities, column ``b`` = ``__label__<b>``."""
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
