"""``exact_dedup``: one document per normalised text, chosen deterministically.

Texts are normalised (:func:`corpus.text.normalize.normalize_array`: case, punctuation,
digits, accents, spacing) and hashed with 128-bit xxh3 per batch; grouping and the choice of
representative are a DataFrame window so Spark shuffles by hash. The representative is the
row with the highest ``quality_score`` when that column exists, then the smallest ``id``, so
the result does not depend on partitioning. Removed rows get ``duplicate_of:<representative id>``;
every row gets ``text_hash`` and ``dup_count`` (size of its group).
"""

from __future__ import annotations

import pyarrow as pa
import xxhash

from corpus.engine.arrow_map import map_documents, with_columns
from corpus.stages.base import REASON, StageContext, StageOutput, StageParams
from corpus.text.normalize import normalize_array


class Params(StageParams):
    prefer_quality: bool = True
    """Keep the highest ``quality_score`` of a group when the column exists (else smallest id)."""


def hash_batch(batch: pa.RecordBatch, params: Params) -> pa.RecordBatch:
    """Add ``text_hash``: xxh3-128 hex of the normalised text (empty text hashes as "")."""
    normalised = normalize_array(batch.column("text")).to_pylist()
    hashes = [xxhash.xxh3_128_hexdigest((t or "").encode("utf-8")) for t in normalised]
    return with_columns(batch, {"text_hash": pa.array(hashes, pa.string())})


def run(ctx: StageContext, params: Params) -> StageOutput:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    df = ctx.input
    hashed = map_documents(df, hash_batch, params, [("text_hash", "string")], reason=False)
    order = [F.col("id").asc()]
    if params.prefer_quality and "quality_score" in df.columns:
        order.insert(0, F.col("quality_score").desc_nulls_last())
    group = Window.partitionBy("text_hash")
    ranked = (
        hashed.withColumn("_rank", F.row_number().over(group.orderBy(*order)))
        .withColumn("_rep", F.first("id").over(group.orderBy(*order)))
        .withColumn("dup_count", F.count(F.lit(1)).over(group))
    )
    rows = ranked.withColumn(
        REASON,
        F.when(F.col("_rank") == 1, F.lit(None).cast("string")).otherwise(
            F.concat(F.lit("duplicate_of:"), F.col("_rep"))
        ),
    ).drop("_rank", "_rep")
    return StageOutput(rows=rows)
