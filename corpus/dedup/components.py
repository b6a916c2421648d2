"""Connected components of an edge DataFrame, computed by Spark (nothing collected to the driver).

FastSV (Zhang, Azad & Hu, "FastSV: a distributed-memory connected component algorithm with
fast convergence", 2020) on DataFrames: parent pointers that only decrease, whole trees hooked
under smaller trees, pointer shortcutting. Plain min-label propagation needs as many rounds as
the longest path; hooking trees needs about log n.

Each round is a few joins and one aggregation (shuffles with map-side combining): no task
holds a component's edge list and nothing is collected to the driver — the failure users
report for datatrove's single-process union-find and NeMo Curator's driver-side steps.

Each round's pointers are written to Parquet under ``scratch`` and read back. That cuts the
lineage like a checkpoint, and also cuts the *size estimate* chain: a ``localCheckpoint`` keeps
its origin plan's statistics, and joins multiply estimates, so after ~10 rounds Spark's planner
spends minutes multiplying numbers with millions of digits (seen with Spark 4.0 here).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from corpus.engine import fs

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


class ComponentsDidNotConverge(RuntimeError):
    """Raised when ``max_rounds`` pass without a fixpoint (never seen; a guard, not a limit)."""


EDGES_PER_PARTITION = 1_000_000
"""Shuffle partitions = symmetric edges / this (capped by the session's setting): a 2,000-edge
graph runs each round as a handful of tasks instead of hundreds of empty ones."""


@contextmanager
def _shuffle_partitions(spark: SparkSession, n: int) -> Iterator[None]:
    key = "spark.sql.shuffle.partitions"
    before = spark.conf.get(key)
    spark.conf.set(key, str(n))
    try:
        yield
    finally:
        spark.conf.set(key, before)


def connected_components(
    edges: DataFrame, scratch: str, src: str = "src", dst: str = "dst", max_rounds: int = 64
) -> DataFrame:
    """``(node, component)`` for every node that appears in ``edges``, materialised.

    ``component`` is the smallest node (by the column type's order: strings or integers) of the
    node's connected component, treating edges as undirected. Self-loops and repeated edges are
    allowed. Nodes without edges are absent: the caller knows they are singletons. ``scratch``
    (a Spark path that must not exist yet; removed at the end) holds the per-round pointers.
    """
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    spark = edges.sparkSession
    pairs = edges.select(F.col(src).alias("a"), F.col(dst).alias("b")).where(F.col("a") != F.col("b"))
    sym = pairs.unionByName(pairs.select(F.col("b").alias("a"), F.col("a").alias("b"))).distinct()
    sym = _materialise(sym, fs.join(scratch, "edges"))
    cap = int(spark.conf.get("spark.sql.shuffle.partitions"))
    parts = max(1, min(cap, -(-sym.count() // EDGES_PER_PARTITION)))
    try:
        with _shuffle_partitions(spark, parts):
            # f: parent pointer, initially the smallest of a node and its neighbours.
            first = sym.groupBy("a").agg(F.min("b").alias("m"))
            f = _materialise(
                first.select(F.col("a").alias("node"), F.least("a", "m").alias("f")),
                fs.join(scratch, "round-000"),
            )
            for round_no in range(1, max_rounds + 1):
                # The number of changed pointers is observed while the round is written: no
                # separate counting job.
                seen = Observation(f"cc-round-{round_no}")
                step = _fastsv_round(sym, f).observe(
                    seen, F.count(F.when(F.col("new") != F.col("f"), 1)).alias("n")
                )
                nxt = _materialise(step, fs.join(scratch, f"round-{round_no:03d}"))
                changed = seen.get["n"]
                f = nxt.select("node", F.col("new").alias("f"))
                log.debug("connected components: round %d, %d parents changed", round_no, changed)
                if changed == 0:
                    log.info(
                        "connected components: %d partitions, converged after %d rounds", parts, round_no
                    )
                    return f.select("node", F.col("f").alias("component")).localCheckpoint(eager=True)
        raise ComponentsDidNotConverge(f"no fixpoint after {max_rounds} rounds")
    finally:
        fs.remove(scratch)


def _materialise(df: DataFrame, path: str) -> DataFrame:
    df.write.mode("overwrite").parquet(fs.spark_path(path))
    return df.sparkSession.read.parquet(fs.spark_path(path))


def _fastsv_round(sym: DataFrame, f: DataFrame) -> DataFrame:
    """One FastSV round on parent pointers ``f`` = ``(node, f)``; returns ``(node, new, f)``.

    With grandparents ``gf = f[f]``, for every edge ``(a, b)``: hook ``a``'s parent tree under
    ``gf[b]`` (stochastic hooking: ``f[f[a]] <- min(., gf[b])``), point ``a`` itself there
    (aggressive hooking: ``f[a] <- min(., gf[b])``), and shortcut (``f[a] <- min(., gf[a])``).
    Pointers only decrease and stay inside the component; when none changes, every edge joins
    nodes with equal parents and ``f[f] == f``: each node points at its component's minimum.
    """
    from pyspark.sql import functions as F

    grand = f.join(f.select(F.col("node").alias("f"), F.col("f").alias("gf")), "f").select("node", "f", "gf")
    by_a = grand.select(F.col("node").alias("a"), F.col("f").alias("fa"))
    by_b = grand.select(F.col("node").alias("b"), F.col("gf").alias("gfb"))
    hooks = sym.join(by_a, "a").join(by_b, "b")
    offers = hooks.select(F.col("fa").alias("node"), "gfb").unionByName(
        hooks.select(F.col("a").alias("node"), "gfb")
    )
    best = offers.groupBy("node").agg(F.min("gfb").alias("offer"))
    return grand.join(best, "node", "left").select(
        "node", F.least("f", "gf", F.coalesce("offer", "gf")).alias("new"), "f"
    )
