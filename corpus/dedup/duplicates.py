"""Turn duplicate clusters into the stage contract: one representative kept per cluster, the
others marked with a reason naming it, every row annotated with its cluster size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from corpus.stages.base import REASON

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

CLUSTER_SIZE = "dup_cluster_size"
"""Column every row gets: how many documents its duplicate cluster had (1 = unique). FineWeb-2
keeps it so duplicates can be up-weighted again later."""


def priority(df: DataFrame) -> Column:
    """Sort key, smallest first: highest ``quality_score`` when the column exists (nulls and NaN
    last), then smallest id. Deterministic whatever the partitioning."""
    from pyspark.sql import functions as F

    if "quality_score" in df.columns:
        q = F.col("quality_score").cast("double")
        score = F.when(q.isNull() | F.isnan(q), F.lit(float("inf"))).otherwise(-q)
    else:
        score = F.lit(0.0)
    return F.struct(score.alias("score"), F.col("id").alias("id"))


def representatives(docs: DataFrame, members: DataFrame) -> DataFrame:
    """``(id, rep, size)`` for every document of ``members`` = ``(id, component)``: ``rep`` the
    component member with the best :func:`priority`, ``size`` the component's size."""
    from pyspark.sql import functions as F

    keyed = members.join(docs.select("id", priority(docs).alias("p")), "id")
    best = keyed.groupBy("component").agg(F.min("p").alias("best"), F.count("*").alias("size"))
    return keyed.join(best, "component").select("id", F.col("best.id").alias("rep"), "size")


def mark(docs: DataFrame, reps: DataFrame, reason_prefix: str, size_column: str = CLUSTER_SIZE) -> DataFrame:
    """``docs`` with :data:`REASON` (``<prefix><rep id>`` on non-representatives, null on the
    rest) and ``size_column``; ``reps`` = ``(id, rep, size)`` for clustered docs only."""
    from pyspark.sql import functions as F

    cols = [c for c in docs.columns if c not in (REASON, size_column)]
    joined = docs.select(*cols).join(reps, "id", "left")
    reason = F.when(
        F.col("rep").isNotNull() & (F.col("rep") != F.col("id")), F.concat(F.lit(reason_prefix), "rep")
    )
    return joined.select(
        *cols,
        F.coalesce(F.col("size"), F.lit(1)).cast("int").alias(size_column),
        reason.cast("string").alias(REASON),
    )


def cluster_sizes(reps: DataFrame) -> dict[int, int]:
    """``{cluster size: number of clusters}`` of ``reps`` = ``(id, rep, size)``, in one job."""
    from pyspark.sql import functions as F

    rows = reps.where(F.col("id") == F.col("rep")).groupBy("size").count().collect()
    return {int(r["size"]): int(r["count"]) for r in rows}


def histogram(sizes: dict[int, int]) -> dict[str, int]:
    """Clusters (not documents) by size, in power-of-two bins (``{"2": n, "3-4": n, "5-8": n ...}``),
    from ``{cluster size: number of clusters}``."""
    hist: dict[str, int] = {}
    for size in sorted(sizes):
        lo = 2
        while lo * 2 < size:
            lo *= 2
        label = "2" if size == 2 else f"{lo + 1}-{lo * 2}"
        hist[label] = hist.get(label, 0) + sizes[size]
    return hist
