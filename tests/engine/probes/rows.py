"""``probe_rows``: ``n`` documents ``doc-NNNN``; every fifth is removed (``probe:fifth``)."""

from __future__ import annotations

from corpus.stages.base import REASON, StageContext, StageOutput, StageParams

INPUTS: dict = {}


class Params(StageParams):
    n: int = 10


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F

    df = ctx.spark.range(params.n).select(
        F.format_string("doc-%04d", "id").alias("id"),
        F.format_string("text %d", "id").alias("text"),
        F.when(F.col("id") % 5 == 4, F.lit("probe:fifth")).otherwise(F.lit(None)).alias(REASON),
    )
    return StageOutput(rows=df, rows_in=params.n)
