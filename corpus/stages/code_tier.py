"""``code_tier``: per-language code quality tiers — each file is scored by the quality model of
its language and put into ``low`` / ``medium`` / ``high`` (GLM-4.5: language-specific quality
models tier source code; the mixture up-samples high and excludes low).

Models: ``models`` is a folder of classifier folders, one per language group
(:data:`corpus.code.tier.GROUPS`, picked by the ``lang`` column; every other language uses
``other``), default ``classifiers/code_quality`` (fastText on proxy labels, see its
MODEL_CARD.md). Scoring is :func:`corpus.scoring.classifier.score`, rounded to 4 decimals.

Tiers are the bucket mechanism of :mod:`corpus.scoring.buckets` applied per language group:
the group's scores are cut at token-weighted ``percentiles`` (default 25 and 75: three
buckets), so ``bucket`` 0 / 1 / 2 = ``quality_level`` low / medium / high, each language
judged against its own files (scores of different models are not comparable). Thresholds
are exact: tokens are summed per (group, rounded score) in Spark and only those pairs are
collected (at most 10,001 per group). Tokens per file: ``n_tokens`` when present, else
``length(text) / chars_per_token``, at least 1.

Frozen thresholds: ``thresholds_from`` (an earlier code_tier stage folder, or any folder with
a ``thresholds.json`` such as ``classifiers/code_quality``) or the artifact role
``thresholds``; a language group in the input that the frozen file lacks is an error. The
thresholds used are this stage's artifact ``thresholds.json``. Every row is kept
(``in == kept``); columns added: ``code_model``, ``score_code_quality``, ``bucket``,
``quality_level``. The manifest has rows and tokens per group and level.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import Field, field_validator

from corpus.code import tier
from corpus.errors import UserError
from corpus.stages.base import REASON, Outside, Role, StageContext, StageOutput, StageParams
from corpus.stages.bucket import FILE, frozen_thresholds

INPUTS = {
    "input": Role("dataset", help="source files with text and lang columns (repos / code_filter)"),
    "thresholds": Role("artifact", required=False, help="frozen thresholds (an earlier code_tier stage)"),
}
MODEL_COLUMN = "code_model"


class Params(StageParams):
    models: str = Field("classifiers/code_quality", description="folder of per-language classifier folders")
    percentiles: list[float] = Field(default_factory=lambda: list(tier.DEFAULT_PERCENTILES))
    thresholds_from: str | None = Field(
        None, description="an earlier code_tier stage, or a thresholds.json folder"
    )
    text_column: str = "text"
    lang_column: str = "lang"
    score_column: str = "score_code_quality"
    bucket_column: str = "bucket"
    level_column: str = "quality_level"
    token_column: str = "n_tokens"
    chars_per_token: float = Field(4.0, gt=0)

    @field_validator("percentiles")
    @classmethod
    def _two(cls, v: list[float]) -> list[float]:
        if len(v) != len(tier.LEVELS) - 1 or sorted(v) != v or not all(0 < p < 100 for p in v):
            raise ValueError(f"percentiles must be {len(tier.LEVELS) - 1} ascending values in (0, 100)")
        return v


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    out = [Outside(params.models, "tree")]
    return out + ([Outside(params.thresholds_from, "tree")] if params.thresholds_from else [])


def available(folder: str) -> list[str]:
    """Model groups with a classifier folder under ``folder``."""
    from corpus.scoring import classifier

    return [g for g in [*tier.GROUPS, tier.OTHER] if (Path(folder) / g / classifier.CARD).is_file()]


def model_of(lang: str | None, groups: list[str]) -> str:
    g = tier.group_of(lang)
    return g if g in groups else tier.OTHER


def tier_score_batch(batch: pa.RecordBatch, spec: tuple[str, tuple[str, ...], str, str]) -> pa.RecordBatch:
    """Adds ``code_model`` (the group whose model scored the row) and the rounded score."""
    import numpy as np

    from corpus.engine.arrow_map import with_columns
    from corpus.scoring import classifier

    folder, groups, text_column, lang_column = spec
    texts = batch.column(text_column).to_pylist()
    langs = batch.column(lang_column).to_pylist()
    models = [model_of(lang, list(groups)) for lang in langs]
    scores = np.zeros(len(texts), dtype=np.float64)
    for g in sorted(set(models)):
        idx = [i for i, m in enumerate(models) if m == g]
        scores[idx] = classifier.score(str(Path(folder) / g), [texts[i] for i in idx])
    return with_columns(
        batch,
        {
            MODEL_COLUMN: pa.array(models, pa.string()),
            "_score": pa.array(tier.round_scores(scores), pa.float64()),
        },
        [None] * len(texts),
    )


def thresholds(pairs: list[tuple[str, float, float]], percentiles: list[float]) -> dict[str, Any]:
    """Per group ``{thresholds, files, tokens}`` from ``(group, score, tokens)`` rows (a score
    may repeat: :func:`corpus.scoring.buckets.weighted_thresholds` sums ties the same way)."""
    import numpy as np

    from corpus.scoring import buckets

    out = {}
    for g in sorted({p[0] for p in pairs}):
        s = np.array([p[1] for p in pairs if p[0] == g])
        w = np.array([p[2] for p in pairs if p[0] == g])
        t = buckets.weighted_thresholds(s, w, percentiles)
        out[g] = {"thresholds": t, "tokens": int(w.sum())}
    return out


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F

    from corpus.engine.arrow_map import map_documents

    df = ctx.input
    for c in (params.text_column, params.lang_column):
        if c not in df.columns:
            raise UserError(f"stage {ctx.name!r}: input has no column {c!r} (run repos / code_filter first)")
    folder = ctx.resolve(params.models)
    groups = available(folder)
    if tier.OTHER not in groups:
        raise UserError(
            f"stage {ctx.name!r}: {folder} holds no '{tier.OTHER}' model (classifiers/code_quality's shape)"
        )
    frozen = frozen_thresholds(ctx, params.thresholds_from, "code_tier")
    cores = ctx.spark.sparkContext.defaultParallelism
    if df.rdd.getNumPartitions() < cores:
        df = df.repartition(2 * cores, "id")
    spec = (folder, tuple(groups), params.text_column, params.lang_column)
    scored = map_documents(df, tier_score_batch, spec, [(MODEL_COLUMN, "string"), ("_score", "double")])
    scored = scored.localCheckpoint(eager=True)  # scoring is the expensive part: once

    if params.token_column in df.columns:
        tokens = F.col(params.token_column).cast("double")
    else:
        tokens = F.ceil(F.coalesce(F.length(params.text_column), F.lit(0)) / F.lit(params.chars_per_token))
    scored = scored.withColumn("_tokens", F.greatest(tokens.cast("double"), F.lit(1.0)))  # >= 1 per file
    present = [r[0] for r in scored.select(MODEL_COLUMN).distinct().collect()]
    if frozen is not None:
        per_group = frozen["groups"]
        missing = sorted(set(present) - set(per_group))
        if missing:
            raise UserError(f"stage {ctx.name!r}: frozen thresholds have no language group {missing}")
        percentiles = frozen["percentiles"]
    else:
        pairs = scored.groupBy(MODEL_COLUMN, "_score").agg(F.sum("_tokens").alias("w")).collect()
        per_group = thresholds([(r[0], r[1], float(r[2] or 0)) for r in pairs], params.percentiles)
        percentiles = params.percentiles

    bucket = F.lit(None).cast("int")
    for g in present:
        above = sum(
            (F.when(F.col("_score") > F.lit(float(x)), 1).otherwise(0) for x in per_group[g]["thresholds"]),
            F.lit(0),
        )
        bucket = F.when(F.col(MODEL_COLUMN) == g, above).otherwise(bucket)
    names = F.array(*[F.lit(n) for n in tier.LEVELS])
    out = (
        scored.withColumn(params.bucket_column, bucket.cast("int"))
        .withColumn(params.level_column, F.element_at(names, F.col(params.bucket_column) + 1))
        .withColumnRenamed("_score", params.score_column)
    )
    counts = (
        out.groupBy(MODEL_COLUMN, params.level_column)
        .agg(F.count("*").alias("n"), F.sum("_tokens").alias("t"))
        .collect()
    )
    per_level: dict[str, dict[str, Any]] = {}
    for r in sorted(counts, key=lambda r: (r[0], tier.LEVELS.index(r[1]))):
        per_level.setdefault(r[0], {})[r[1]] = {"rows": r["n"], "tokens": int(r["t"] or 0)}
    doc = {
        "percentiles": percentiles,
        "groups": per_group,
        "levels": list(tier.LEVELS),
        "models": params.models,
        "chars_per_token": params.chars_per_token,
    }
    Path(ctx.artifacts_dir).mkdir(parents=True, exist_ok=True)
    (Path(ctx.artifacts_dir) / FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    metrics = {"frozen": frozen is not None, "thresholds": per_group, "tiers": per_level}
    return StageOutput(
        rows=out.drop("_tokens").withColumn(REASON, F.lit(None).cast("string")), metrics=metrics
    )
