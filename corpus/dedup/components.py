"""Connected components of an edge DataFrame, computed by Spark (nothing collected to the driver).

FastSV (Zhang, Azad & Hu, "FastSV: a distributed-memory connected component algorithm with
fast convergence", 2020) on DataFrames: parent pointers that only decrease, whole trees hooked
under smaller trees, pointer shortcutting. Plain min-label propagation needs as many rounds as
the longest path; hooking trees needs about log n. The first rounds are min-label rounds all
the same (:data:`MIN_LABEL_ROUNDS`): far cheaper, and enough for LSH duplicate clusters.

Each round is a few joins and one aggregation (shuffles with map-side combining): no task
holds a component's edge list and nothing is collected to the driver — the failure users
report for datatrove's single-process union-find and NeMo Curator's driver-side steps.

Each round's pointers are ``localCheckpoint``-ed (lineage cut) and re-wrapped without their
origin plan's size estimate: a checkpoint keeps the estimate of the plan that produced it and
joins multiply estimates, so after ~10 rounds Spark's planner spent minutes multiplying
integers with millions of digits (seen with PySpark 4 here).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


class ComponentsDidNotConverge(RuntimeError):
    """Raised when ``max_rounds`` pass without a fixpoint (never seen; a guard, not a limit)."""


EDGES_PER_PARTITION = 1_000_000
"""Shuffle partitions = symmetric edges / this (capped by the session's setting): a 2,000-edge
graph runs each round as a handful of tasks instead of hundreds of empty ones."""


MIN_LABEL_ROUNDS = 2
"""Rounds of plain min-label propagation before FastSV rounds. One costs a third of a FastSV
round (one join and one aggregation instead of five joins); duplicate clusters from LSH
buckets (stars, overlapping a little) converge within them, and a round that changes
nothing proves convergence whichever kind it was. Long paths go on with FastSV."""


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
    edges: DataFrame, src: str = "src", dst: str = "dst", max_rounds: int = 64
) -> DataFrame:
    """``(node, component)`` for every node that appears in ``edges``, materialised.

    ``component`` is the smallest node (by the column type's order: strings or integers) of the
    node's connected component, treating edges as undirected. Self-loops and repeated edges are
    allowed. Nodes without edges are absent: the caller knows they are singletons.
    """
    from pyspark.sql import functions as F

    spark = edges.sparkSession
    pairs = edges.select(F.col(src).alias("a"), F.col(dst).alias("b")).where(F.col("a") != F.col("b"))
    sym = _checkpoint(
        pairs.unionByName(pairs.select(F.col("b").alias("a"), F.col("a").alias("b"))).distinct()
    )
    cap = int(spark.conf.get("spark.sql.shuffle.partitions"))
    parts = max(1, min(cap, -(-sym.count() // EDGES_PER_PARTITION)))
    with _shuffle_partitions(spark, parts):
        # f: parent pointer, initially the smallest of a node and its neighbours.
        f = _checkpoint(_min_label_step(sym, None))
        for round_no in range(1, max_rounds + 1):
            step = _min_label_step if round_no <= MIN_LABEL_ROUNDS else _fastsv_round
            nxt = _checkpoint(step(sym, f))
            changed = nxt.where(F.col("new") != F.col("f")).count()
            f = nxt.select("node", F.col("new").alias("f"))
            log.debug(
                "connected components: round %d (%s), %d parents changed", round_no, step.__name__, changed
            )
            if changed == 0:
                log.info("connected components: %d partitions, converged after %d rounds", parts, round_no)
                return f.select("node", F.col("f").alias("component"))
    raise ComponentsDidNotConverge(f"no fixpoint after {max_rounds} rounds")


def _checkpoint(df: DataFrame) -> DataFrame:
    """``localCheckpoint`` the rows, then rebuild the DataFrame over them without the origin
    plan's size estimate (see the module docstring: joins multiply those estimates, so a
    plain checkpoint per round makes planning time explode after ~10 rounds)."""
    from pyspark.sql import DataFrame

    done = df.localCheckpoint(eager=True)
    session = done.sparkSession
    return DataFrame(session._jsparkSession.createDataFrame(done._jdf.rdd(), done._jdf.schema()), session)


def _min_label_step(sym: DataFrame, f: DataFrame | None) -> DataFrame:
    """One min-label round: ``f[a] <- min(f[a], f[b] for each neighbour b)``; returns
    ``(node, new, f)``. With ``f`` None (every node its own parent) it gives the first
    labelling ``(node, f)``: the smallest of a node and its neighbours.

    Pointers only decrease and stay inside the component. When a round changes nothing, every
    edge joins equal parents, so each component has one parent, its smallest node."""
    from pyspark.sql import functions as F

    if f is None:
        first = sym.groupBy("a").agg(F.min("b").alias("m"))
        return first.select(F.col("a").alias("node"), F.least("a", "m").alias("f"))
    by_b = f.select(F.col("node").alias("b"), F.col("f").alias("fb"))
    offer = sym.join(by_b, "b").groupBy("a").agg(F.min("fb").alias("m"))
    return f.join(offer.withColumnRenamed("a", "node"), "node").select(
        "node", F.least("f", "m").alias("new"), "f"
    )


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
