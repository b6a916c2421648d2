"""``probe_roles``: ``docs`` (+ optional ``more``) rows with the ``model`` artifact's weights."""

from __future__ import annotations

from corpus.engine import fs
from corpus.stages.base import REASON, Role, StageContext, StageOutput, StageParams

INPUTS = {
    "docs": Role("dataset"),
    "more": Role("dataset", required=False),
    "model": Role("artifact"),
}


class Params(StageParams):
    pass


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import functions as F

    with fs.open_binary(fs.join(ctx.artifact("model"), "model", "weights.txt")) as f:
        weights = f.read().decode()
    docs = ctx.inputs["docs"]
    if ctx.has("more"):
        docs = docs.unionByName(ctx.inputs["more"])
    out = docs.select("id", "text", F.lit(weights).alias("weights"), F.lit(None).cast("string").alias(REASON))
    return StageOutput(rows=out)
