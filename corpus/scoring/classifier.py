"""A trained classifier folder -> scores. One loader for every kind the ``score`` stage applies.

A folder written by :mod:`corpus.scoring.train` holds ``model_card.json``; its ``model``
section says what to load:

* ``{"kind": "fasttext", "file": "model.ftz", "values": [...], "max_chars": n}`` — score =
  expected value of the bin values under fastText's class probabilities;
* ``{"kind": "embedding_head", "file": "head.npz", "encoder": ..., "encoder_model": ...,
  "max_chars": n, "clip": [lo, hi]}`` — score = ``embedding @ coef + intercept``, clipped;
* a folder with ``config.json`` and no model card is a Hugging Face sequence-classification
  model (the FineWeb-Edu classifier's shape): one logit = the score (regression), several =
  expected label index under the softmax.

Errors: a missing folder or one with neither file raises ``FileNotFoundError`` (one line).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

CARD = "model_card.json"


def describe(path: str) -> dict[str, Any]:
    """The ``model`` section of the folder's card, or ``{"kind": "hf_sequence"}``."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"classifier folder {path!r} does not exist")
    card = folder / CARD
    if card.is_file():
        model = json.loads(card.read_text())["model"]
        if not (folder / model.get("file", "")).is_file() and model["kind"] != "hf_sequence":
            raise FileNotFoundError(
                f"classifier folder {path!r}: model file {model.get('file')!r} is missing"
            )
        return model
    if (folder / "config.json").is_file():
        return {"kind": "hf_sequence", "max_chars": 10_000}
    raise FileNotFoundError(
        f"classifier folder {path!r} has neither {CARD} (a corpus classifier) nor config.json "
        "(a Hugging Face sequence-classification model)"
    )


@functools.cache
def _head(path: str) -> tuple[np.ndarray, float]:
    with np.load(path, allow_pickle=False) as z:
        return z["coef"].astype(np.float32), float(z["intercept"])


@functools.cache
def _hf(path: str, device: str):
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).to(device).eval()
    return tok, model


def hf_scores(path: str, texts: Sequence[str], device: str = "cpu", batch_size: int = 32) -> np.ndarray:
    """Scores from a local sequence-classification model, batched, truncated to its window."""
    import torch

    tok, model = _hf(path, device)
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tok(list(texts[i : i + batch_size]), truncation=True, padding=True, return_tensors="pt")
        with torch.inference_mode():
            logits = model(**enc.to(device)).logits.float()
        if logits.shape[1] == 1:
            out.append(logits[:, 0].cpu().numpy())
        else:
            idx = torch.arange(logits.shape[1], dtype=torch.float32)
            out.append((logits.softmax(-1) @ idx).cpu().numpy())
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)


def score(
    path: str, texts: Sequence[str | None], embeddings: np.ndarray | None = None, threads: int = 1
) -> np.ndarray:
    """float32 score per text from the classifier folder at ``path``.

    ``embeddings`` (rows aligned with ``texts``) replace encoding for an embedding head
    (the caller checks they come from the head's encoder)."""
    model = describe(path)
    folder = Path(path)
    kind = model["kind"]
    max_chars = int(model.get("max_chars", 10_000))
    if kind == "fasttext":
        from corpus.scoring import bins, fasttext_model

        values = model["values"]
        probs = fasttext_model.predict_proba(str(folder / model["file"]), texts, len(values), max_chars)
        return bins.expected_value(probs, values)
    if kind == "embedding_head":
        from corpus.scoring import encoders

        coef, intercept = _head(str(folder / model["file"]))
        if embeddings is None:
            embeddings = encoders.encode(
                texts, model["encoder"], model.get("encoder_model"), max_chars, threads
            )
        lo, hi = model["clip"]
        return np.clip(embeddings @ coef + intercept, lo, hi).astype(np.float32)
    if kind == "hf_sequence":
        return hf_scores(str(folder), [(t or "")[:max_chars] for t in texts])
    raise ValueError(f"classifier folder {path!r}: unknown model kind {kind!r}")
