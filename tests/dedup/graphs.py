"""Test graphs for connected components, and a script entry that computes them on given Spark
masters (a fresh SparkContext per master) and prints the components as JSON.

Run as ``python -m tests.dedup.graphs MASTER [MASTER ...]``.
"""

from __future__ import annotations

import json
import random
import sys


def chain_and_stars(n_chain: int = 2000, n_star: int = 500, n_random: int = 300) -> list[tuple[str, str]]:
    """A path of ``n_chain`` nodes with shuffled ids (so no order helps), a star around its
    smallest node, a star around its largest node, a sparse random graph on ``n_random`` nodes
    (many small components), a duplicated pair and a self-loop."""
    rng = random.Random(7)
    ids = [f"c{i:05d}" for i in range(n_chain)]
    rng.shuffle(ids)
    edges = [(ids[i], ids[i + 1]) for i in range(n_chain - 1)]
    edges += [("a00000", f"a{i:05d}") for i in range(1, n_star)]
    edges += [(f"z{i:05d}", "z99999") for i in range(n_star)]
    edges += [
        (f"r{rng.randrange(n_random):04d}", f"r{rng.randrange(n_random):04d}")
        for _ in range(n_random * 4 // 5)
    ]
    edges += [("p1", "p2"), ("p2", "p1"), ("p1", "p2"), ("q1", "q1")]
    rng.shuffle(edges)
    return edges


def union_find(edges: list[tuple[str, str]]) -> dict[str, str]:
    """Reference components (node -> smallest node) of the non-loop edges, on one machine."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        if a != b:
            ra, rb = find(a), find(b)
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in list(parent)}


SMALL = (120, 20, 60)
"""The graph the every-master test runs (a fresh Spark context per master is slow)."""


def components(spark, edges: list[tuple[str, str]]) -> dict[str, str]:
    from corpus.dedup.components import connected_components

    df = spark.createDataFrame(edges, "src string, dst string").repartition(5)
    return {r["node"]: r["component"] for r in connected_components(df).collect()}


def main(masters: list[str]) -> None:
    from corpus.engine.spark import get_spark

    results = {}
    for master in masters:
        spark = get_spark(master, app_name="corpus-cc-masters")
        results[master] = components(spark, chain_and_stars(*SMALL))
        spark.stop()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
