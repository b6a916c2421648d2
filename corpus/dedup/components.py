"""Connected components of an edge DataFrame, computed by Spark (nothing collected to the driver).

Min-label propagation with pointer jumping: every node starts with the smallest id among
itself and its neighbours; each round (1) takes the smallest label among its neighbours and
(2) jumps to its label's label. Labels only decrease and always name a node of the same
component, and a round that changes nothing is a fixpoint where labels are equal across every
edge — so each node ends labelled with its component's smallest node. Jumping halves chain
distances each round, so a path of n nodes takes O(log n) rounds instead of n.

Each round is a few joins and one aggregation, all shuffles with map-side combining: no task
ever holds a component's edge list (the failure users report for single-machine union-find
in datatrove and for NeMo Curator's driver-side steps). Each round's labels are
``localCheckpoint``-ed so the query plan does not grow with the number of rounds.
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
    """``(node, component)`` for every node that appears in ``edges``.

    ``component`` is the smallest node (by the column type's order: strings or integers) of the
    node's connected component, treating edges as undirected. Self-loops and repeated edges are
    allowed. Nodes without edges are absent: the caller knows they are singletons.
    """
    from pyspark.sql import functions as F

    spark = edges.sparkSession
    pairs = edges.select(F.col(src).alias("a"), F.col(dst).alias("b")).where(F.col("a") != F.col("b"))
    sym = pairs.unionByName(pairs.select(F.col("b").alias("a"), F.col("a").alias("b"))).distinct()
    sym = sym.localCheckpoint(eager=True)
    cap = int(spark.conf.get("spark.sql.shuffle.partitions"))
    parts = max(1, min(cap, -(-sym.count() // EDGES_PER_PARTITION)))
    with _shuffle_partitions(spark, parts):
        # Every frame is hash-partitioned the same way (edges by ``b``, labels by ``node``) so the
        # joins below line up without shuffling; a round shuffles three times.
        sym = sym.repartition(parts, "b").localCheckpoint(eager=True)
        labels = (
            sym.groupBy("a")
            .agg(F.min("b").alias("m"))
            .select(F.col("a").alias("node"), F.least("a", "m").alias("label"))
            .repartition(parts, "node")
            .localCheckpoint(eager=True)
        )
        for round_no in range(1, max_rounds + 1):
            # (1) smallest label among neighbours.
            lookup = labels.select(F.col("node").alias("b"), F.col("label").alias("lb"))
            neighbour = sym.join(lookup, "b").groupBy("a").agg(F.min("lb").alias("m"))
            step = labels.join(neighbour, labels.node == neighbour.a).select(
                "node", F.least("label", "m").alias("s"), F.col("label").alias("old")
            )
            # (2) pointer jumping through last round's labels: label := label(s). A round that
            # changes nothing therefore also had s == label everywhere: a true fixpoint.
            jump = labels.select(F.col("node").alias("s"), F.col("label"))
            nxt = step.join(jump, "s").select("node", "label", "old").repartition(parts, "node")
            nxt = nxt.localCheckpoint(eager=True)
            changed = nxt.where(F.col("label") != F.col("old")).count()
            labels = nxt.select("node", "label")
            log.debug("connected components: round %d, %d labels changed", round_no, changed)
            if changed == 0:
                log.info("connected components: %d partitions, converged after %d rounds", parts, round_no)
                return labels.withColumnRenamed("label", "component")
    raise ComponentsDidNotConverge(f"no fixpoint after {max_rounds} rounds")
