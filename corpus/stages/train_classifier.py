"""``train_classifier``: train a scoring classifier on labelled rows (an ``annotate`` stage's
output, or any dataset with a label column); the result is an artifact, not rows.

Rows with a null label (failed annotations) are left out and counted. The rows, cut to the
classifier's ``max_chars``, are collected to the driver and trained on there (fastText and a
ridge head train in one process anyway; an annotated sample is thousands to a few hundred
thousand rows). The held-out split hashes ``split_column`` (default ``id``) with the
pipeline seed, so reruns hold out the same rows.

Artifact files (``<stage>/artifacts/``): the model (``model.ftz`` or ``head.npz``),
``model_card.json`` and ``MODEL_CARD.md``; ``corpus classifier train`` writes the same folder.
The manifest's ``metrics`` hold the held-out metrics. A ``score`` stage takes the artifact by
role: ``inputs: {input: <docs>, model: <this stage>}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from corpus.errors import UserError
from corpus.scoring.train import TrainConfig
from corpus.stages.base import Role, StageContext, StageOutput, StageParams

INPUTS = {"input": Role("dataset", help="rows with a text column and a label column")}


class Params(StageParams):
    classifier: TrainConfig
    text_column: str = "text"
    label_column: str = Field("annotation", description="float label, e.g. the annotate stage's 0-5 score")
    split_column: str = Field("id", description="held-out split key (a group column keeps groups whole)")
    max_rows: int | None = Field(None, gt=0, description="train on at most this many rows (hashed sample)")
    threads: int = Field(1, ge=1, description="encoder threads (embedding heads)")


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F

    from corpus.scoring import train

    df = ctx.input
    cfg = params.classifier
    emb = cfg.head.embedding_column if cfg.model == "embedding_head" else None
    need = [params.text_column, params.label_column, params.split_column, *([emb] if emb else [])]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise UserError(f"stage {ctx.name!r}: input has no column(s) {missing} (columns: {df.columns})")
    labelled = df.where(F.col(params.label_column).isNotNull())
    if params.max_rows is not None:
        rank = F.xxhash64(F.lit(ctx.seed), F.lit("train_sample"), F.col("id"))
        labelled = labelled.orderBy(rank).limit(params.max_rows)
    cols = [
        F.col(params.split_column).cast("string").alias("key"),
        F.substring(F.col(params.text_column), 1, cfg.chars()).alias("text"),
        F.col(params.label_column).cast("double").alias("label"),
        *([F.col(emb).alias("emb")] if emb else []),
    ]
    table = labelled.select(*cols).orderBy("key", "label", "text").toArrow()  # fastText is order-dependent
    n_unlabelled = df.where(F.col(params.label_column).isNull()).count()
    if table.num_rows == 0:
        raise UserError(f"stage {ctx.name!r}: no row has a non-null {params.label_column!r}")
    embeddings = None
    if emb:
        embeddings = np.asarray(table.column("emb").to_pylist(), dtype=np.float32)
    try:
        card = train.fit(
            cfg,
            table.column("key").to_pylist(),
            table.column("text").to_pylist(),
            table.column("label").to_numpy(),
            ctx.artifacts_dir,
            ctx.seed,
            embeddings=embeddings,
            threads=params.threads,
        )
    except (ValueError, FileNotFoundError) as e:
        raise UserError(f"stage {ctx.name!r}: {e}") from None
    metrics: dict[str, Any] = {
        "classifier": cfg.name,
        "rows_labelled": table.num_rows,
        "rows_unlabelled": n_unlabelled,
        "heldout": card["metrics"]["heldout"],
        "model_bytes": card["bytes"],
    }
    return StageOutput(rows=None, metrics=metrics)
