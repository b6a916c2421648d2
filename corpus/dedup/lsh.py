"""LSH candidate pairs from band keys, and their optional verification, as Spark DataFrames.

Documents that share a key in some band are candidates. A bucket of k documents becomes k-1
edges to its smallest id (a star), not k(k-1)/2 pairs: connectivity is the same, and a bucket
of a million copies of one page stays a million edges. Edges are deduplicated across bands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def candidate_edges(band_rows: DataFrame) -> DataFrame:
    """``(src, dst)`` edges, ``dst`` the smallest id of a shared bucket, from ``(id, band, key)``
    rows. A windowed ``min`` per bucket: one shuffle of the band rows, read once (a grouped
    ``min`` joined back reads them twice, so the Python signatures behind them ran twice), and
    no bucket's member list is ever built."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    bucket = Window.partitionBy("band", "key")
    return (
        band_rows.select(F.col("id").alias("src"), F.min("id").over(bucket).alias("dst"))
        .where(F.col("src") != F.col("dst"))
        .distinct()
    )


def verified_edges(edges: DataFrame, shingles: DataFrame, threshold: float) -> DataFrame:
    """Edges whose two documents' exact Jaccard similarity (over their distinct shingle hashes,
    ``shingles`` = ``(id, shingles array<bigint>)``) is at least ``threshold``; adds ``jaccard``.

    Drops LSH false positives. Computed in Spark SQL (no Python) on executors.
    """
    from pyspark.sql import functions as F

    a = shingles.select(F.col("id").alias("src"), F.col("shingles").alias("sa"))
    b = shingles.select(F.col("id").alias("dst"), F.col("shingles").alias("sb"))
    inter = F.size(F.array_intersect("sa", "sb"))
    union = F.size("sa") + F.size("sb") - inter
    return (
        edges.join(a, "src")
        .join(b, "dst")
        .select("src", "dst", (inter / union).alias("jaccard"))
        .where(F.col("jaccard") >= threshold)
    )
