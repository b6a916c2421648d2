"""``score``: apply one or more trained classifiers to every document -> ``score_<name>`` columns.

Classifiers come as an artifact input (``inputs: {input: docs, model: train_quality}``, or a
plain folder such as ``model: classifiers/web_quality``) and/or as ``classifiers: {name:
folder}`` paths; both are fingerprinted (a changed model reruns the stage). Kinds: fastText
(score = expected bin value), embedding + ridge head, or a local Hugging Face
sequence-classification folder (see :mod:`corpus.scoring.classifier`). An artifact's column
name is its model card's ``name``.

Executors load each model once per Python worker. A null text scores as the empty string.
Every row is kept (``in == kept``); the manifest's ``metrics.scores`` has, per column, the mean
and a 20-bin histogram over ``[min, max]``.

``embedding_column``: for embedding heads, vectors already in the row (e.g. SemDedup's
``embedding``) are used instead of encoding — only when their dimension equals the head's, and
only if you know they come from the head's encoder (the stage cannot tell).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field, field_validator

from corpus.errors import UserError
from corpus.stages.base import Outside, Role, StageContext, StageOutput, StageParams

INPUTS = {
    "input": Role("dataset", help="documents with a text column"),
    "model": Role("artifact", required=False, help="a classifier folder (train_classifier's artifact)"),
}

NAME = re.compile(r"^[A-Za-z0-9_]+$")


class Params(StageParams):
    classifiers: dict[str, str] = Field(default_factory=dict, description="{name: classifier folder}")
    text_column: str = "text"
    embedding_column: str | None = None
    threads: int = Field(1, ge=1, description="encoder threads per Python worker")

    @field_validator("classifiers")
    @classmethod
    def _names(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [n for n in v if not NAME.match(n)]
        if bad:
            raise ValueError(f"classifier names must be letters, digits or _: {bad}")
        return v


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    """Each classifier folder given by path (a tree: every file is fingerprinted)."""
    return [Outside(path, "tree") for path in params.classifiers.values()]


def score_batch(
    batch: pa.RecordBatch, spec: tuple[tuple[tuple[str, str], ...], str, str | None, int]
) -> pa.RecordBatch:
    """Adds ``score_<name>`` (float32) for each ``(name, folder)`` of ``spec``."""
    from corpus.engine.arrow_map import with_columns
    from corpus.scoring import classifier

    models, text_column, emb_column, threads = spec
    texts = batch.column(text_column).to_pylist()
    emb = None
    if emb_column is not None and emb_column in batch.schema.names:
        values = batch.column(emb_column).to_pylist()
        if all(v is not None for v in values) and len({len(v) for v in values}) == 1:
            emb = np.asarray(values, dtype=np.float32)
    cols = {}
    for name, folder in models:
        use = emb
        if emb is not None:
            model = classifier.describe(folder)
            if model["kind"] != "embedding_head" or model["dim"] != emb.shape[1]:
                use = None
        cols[f"score_{name}"] = pa.array(classifier.score(folder, texts, use, threads), pa.float32())
    return with_columns(batch, cols)


def _models(ctx: StageContext, params: Params) -> list[tuple[str, str]]:
    """``(name, folder)`` of every classifier; errors are one line (UserError)."""
    from corpus.scoring import classifier

    found: list[tuple[str, str]] = []
    given = [(n, ctx.resolve(p)) for n, p in params.classifiers.items()]
    if ctx.has("model"):
        folder = ctx.artifact("model")
        card = Path(folder) / classifier.CARD
        if not card.is_file():
            raise UserError(f"stage {ctx.name!r}: input 'model' ({folder}) holds no {classifier.CARD}")
        import json

        given.append((json.loads(card.read_text())["name"], folder))
    for name, folder in given:
        try:
            model = classifier.describe(folder)
            if model["kind"] == "embedding_head":
                from corpus.scoring import encoders

                encoders.check(model["encoder"], model.get("encoder_model"))
        except FileNotFoundError as e:
            raise UserError(f"stage {ctx.name!r}: {e}") from None
        found.append((name, folder))
    if not found:
        raise UserError(
            f"stage {ctx.name!r}: no classifier (give `classifiers:` or an input with role 'model')"
        )
    names = [n for n, _ in found]
    if len(set(names)) != len(names):
        raise UserError(f"stage {ctx.name!r}: two classifiers named the same: {names}")
    return found


def run(ctx: StageContext, params: Params) -> StageOutput:
    from corpus.engine.arrow_map import document_stage

    models = _models(ctx, params)
    if params.text_column not in ctx.input.columns:
        raise UserError(f"stage {ctx.name!r}: input has no column {params.text_column!r}")
    spec = (tuple(models), params.text_column, params.embedding_column, params.threads)
    columns = [(f"score_{n}", "float") for n, _ in models]
    return document_stage(
        ctx,
        score_batch,
        spec,
        columns,
        after_write=lambda kept: {"scores": _histograms(kept, [c for c, _ in columns])},
    )


def _histograms(kept, columns: list[str]) -> dict[str, Any]:
    """Per score column: rows, mean, min, max and a 20-bin histogram over [min, max] (the last
    bin closed). Read from the committed shards with pyarrow, the score columns only (two
    passes: range, then counts), instead of Spark jobs that cost more than the scan."""
    from corpus.engine.scan import scan

    def chunks(c: str):
        for batch in scan(kept, [c]):
            x = batch.column(0).drop_null().to_numpy().astype(np.float64)
            if len(x):
                yield x

    out: dict[str, Any] = {}
    for c in columns:
        n, total, lo, hi = 0, 0.0, np.inf, -np.inf
        for x in chunks(c):
            n, total = n + len(x), total + float(x.sum())
            lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
        if not n:
            out[c] = {"rows": 0}
            continue
        width = (hi - lo) / 20 or 1.0
        counts = np.zeros(20, np.int64)
        for x in chunks(c):
            counts += np.bincount(np.minimum(np.floor((x - lo) / width), 19).astype(np.int64), minlength=20)
        out[c] = {"rows": n, "mean": total / n, "min": lo, "max": hi, "histogram": counts.tolist()}
    return out
