"""``bucket``: score columns -> integer quality buckets at token-weighted percentiles
(Nemotron-CC), the ensemble bucket (max over classifiers) and optional named levels.

For each score column ``score_<name>`` it writes ``bucket_<name>`` (0 .. len(percentiles)),
then ``bucket`` = the max of them (null only when every score is null) and, with ``levels``,
``quality_level`` (the level whose ``[lo, hi]`` holds ``bucket``). Definitions in
:mod:`corpus.scoring.buckets`. Tokens per document: ``n_tokens`` when the input has it, else
``length(text) / chars_per_token`` (an estimate before tokenising).

Thresholds are computed by Spark without collecting rows: tokens are summed per distinct score
and, when there are at most ``exact_max_distinct`` distinct scores, those pairs are collected
and the thresholds are exact. Beyond that, scores are cut into ``grid`` equal cells between
their min and max, tokens summed per cell, and each threshold is a cell's upper edge: within
``(max - min) / grid`` of the exact value (the manifest states the bound per column).

Frozen thresholds: ``thresholds_from`` (a committed bucket stage folder, or an artifact folder
holding ``thresholds.json``) or the artifact role ``thresholds`` reuse earlier thresholds, so a
new crawl is bucketed exactly like the old one (assignment is a comparison per row; no
partitioning or master changes it). The thresholds used are this stage's artifact
``thresholds.json``. Every row is kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from corpus.errors import UserError
from corpus.scoring import buckets
from corpus.stages.base import REASON, Outside, Role, StageContext, StageOutput, StageParams

INPUTS = {
    "input": Role("dataset", help="documents with score_<name> columns"),
    "thresholds": Role("artifact", required=False, help="frozen thresholds (an earlier bucket stage)"),
}
FILE = "thresholds.json"


class Params(StageParams):
    scores: list[str] | None = Field(None, description="score columns; default every score_* column")
    percentiles: list[float] = Field(default_factory=lambda: list(buckets.DEFAULT_PERCENTILES))
    levels: dict[str, tuple[int, int]] | None = Field(
        None, description="{name: [lo, hi]} inclusive bucket ranges -> quality_level column"
    )
    level_column: str = "quality_level"
    thresholds_from: str | None = Field(
        None, description="folder of an earlier bucket stage or its artifacts"
    )
    token_column: str = "n_tokens"
    chars_per_token: float = Field(4.0, gt=0, description="token estimate without token_column")
    exact_max_distinct: int = Field(1_000_000, ge=1)
    grid: int = Field(1 << 16, ge=100)

    @field_validator("percentiles")
    @classmethod
    def _ascending(cls, v: list[float]) -> list[float]:
        if not v or sorted(v) != v or not all(0 < p < 100 for p in v):
            raise ValueError("percentiles must be ascending values in (0, 100)")
        return v


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    return [Outside(params.thresholds_from, "tree")] if params.thresholds_from else []


def frozen_thresholds(ctx: StageContext, thresholds_from: str | None, producer: str) -> dict[str, Any] | None:
    """Frozen cut points for a re-run: ``FILE`` from ``thresholds_from`` (a committed stage or
    its artifacts folder) or from the ``thresholds`` artifact role; None when neither is given.
    Raises UserError when both are given or the file is missing (``producer`` names the stage
    kind that writes it). Shared by ``bucket`` and ``code_tier``."""
    folders = []
    if thresholds_from:
        f = Path(ctx.resolve(thresholds_from))
        folders.append(f / "artifacts" if (f / "artifacts" / FILE).is_file() else f)
    if ctx.has("thresholds"):
        folders.append(Path(ctx.artifact("thresholds")))
    if len(folders) > 1:
        raise UserError(f"stage {ctx.name!r}: give thresholds_from or the 'thresholds' input, not both")
    if not folders:
        return None
    path = folders[0] / FILE
    if not path.is_file():
        raise UserError(f"stage {ctx.name!r}: {path} does not exist (not a {producer} stage's output)")
    return json.loads(path.read_text())


def _thresholds(df, col: str, tokens, params: Params, F) -> dict[str, Any]:
    """Exact or grid thresholds of one score column (see the module docstring)."""
    import numpy as np

    scored = df.where(F.col(col).isNotNull()).select(F.col(col).cast("double").alias("s"), tokens.alias("w"))
    per_score = scored.groupBy("s").agg(F.sum("w").alias("w"))
    n_distinct = per_score.count()
    if n_distinct == 0:
        raise UserError(f"column {col!r} has no non-null score")
    if n_distinct <= params.exact_max_distinct:
        pairs = per_score.collect()
        t = buckets.weighted_thresholds(
            np.array([r.s for r in pairs]), np.array([float(r.w) for r in pairs]), params.percentiles
        )
        return {"thresholds": t, "method": "exact", "max_error": 0.0, "distinct_scores": n_distinct}
    lo, hi = scored.agg(F.min("s"), F.max("s")).first()
    width = (hi - lo) / params.grid
    cell = F.least(F.floor((F.col("s") - F.lit(lo)) / F.lit(width)), F.lit(params.grid - 1)).cast("int")
    cells = scored.groupBy(cell.alias("c")).agg(F.sum("w").alias("w")).collect()
    t = buckets.grid_thresholds(
        np.array([r.c for r in cells]),
        np.array([float(r.w) for r in cells]),
        lo,
        hi,
        params.grid,
        params.percentiles,
    )
    return {
        "thresholds": t,
        "method": f"grid of {params.grid} cells",
        "max_error": width,
        "distinct_scores": n_distinct,
    }


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F

    df = ctx.input
    frozen = frozen_thresholds(ctx, params.thresholds_from, "bucket")
    if frozen is not None:
        columns = list(frozen["columns"])
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise UserError(f"stage {ctx.name!r}: frozen thresholds are for {missing}, which the input lacks")
        levels = frozen.get("levels") if params.levels is None else params.levels
    else:
        columns = params.scores or sorted(c for c in df.columns if c.startswith("score_"))
        missing = [c for c in columns if c not in df.columns]
        if not columns or missing:
            raise UserError(
                f"stage {ctx.name!r}: no score column {missing or ''} in the input (columns: {df.columns})"
            )
        levels = params.levels
    n_buckets = len(frozen["percentiles"] if frozen else params.percentiles) + 1
    if levels:
        try:
            buckets.check_levels(levels, n_buckets)
        except ValueError as e:
            raise UserError(f"stage {ctx.name!r}: {e}") from None
    if params.token_column in df.columns:
        tokens, estimated = F.col(params.token_column).cast("long"), False
    else:
        text = F.coalesce(F.length("text"), F.lit(0)) if "text" in df.columns else F.lit(0)
        tokens, estimated = F.ceil(text / F.lit(params.chars_per_token)).cast("long"), True
    if frozen is not None:
        spec = frozen
    else:
        try:
            per_col = {c: _thresholds(df, c, tokens, params, F) for c in columns}
        except UserError as e:
            raise UserError(f"stage {ctx.name!r}: {e}") from None
        spec = {"percentiles": params.percentiles, "columns": per_col, "levels": levels, "ensemble": "max"}

    out = df.withColumn("_tokens", tokens)
    names = []
    for c in columns:
        name = "bucket_" + (c[len("score_") :] if c.startswith("score_") else c)
        t = spec["columns"][c]["thresholds"]
        s = F.col(c).cast("double")
        above = sum((F.when(s > F.lit(float(x)), 1).otherwise(0) for x in t), F.lit(0))
        out = out.withColumn(name, F.when(s.isNull(), None).otherwise(above).cast("int"))
        names.append(name)
    out = out.withColumn(
        "bucket", F.greatest(*[F.col(n) for n in names]) if len(names) > 1 else F.col(names[0])
    )
    if levels:
        level = F.lit(None).cast("string")
        for lname, (lo, hi) in reversed(list(levels.items())):
            level = F.when(F.col("bucket").between(lo, hi), F.lit(lname)).otherwise(level)
        out = out.withColumn(params.level_column, level)
    counts = out.groupBy("bucket").agg(F.count("*").alias("rows"), F.sum("_tokens").alias("tokens")).collect()
    total = sum(r.tokens or 0 for r in counts) or 1
    per_bucket = {
        str(r.bucket): {"rows": r.rows, "tokens": int(r.tokens or 0), "token_share": (r.tokens or 0) / total}
        for r in sorted(counts, key=lambda r: (r.bucket is None, r.bucket or 0))
    }
    Path(ctx.artifacts_dir).mkdir(parents=True, exist_ok=True)
    (Path(ctx.artifacts_dir) / FILE).write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    metrics = {
        "thresholds": {c: spec["columns"][c] for c in columns},
        "frozen": frozen is not None,
        "tokens_estimated": estimated,
        "buckets": per_bucket,
    }
    return StageOutput(
        rows=out.drop("_tokens").withColumn(REASON, F.lit(None).cast("string")), metrics=metrics
    )
