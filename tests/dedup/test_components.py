"""Distributed connected components: chains and stars collapse, results match union-find and
are the same on local[1], local[*], local[2] and a standalone cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.dedup.graphs import SMALL, chain_and_stars, components, union_find


@pytest.mark.slow  # 147 s at load 19 on 2 cores
def test_chain_stars_and_random_graph(spark):
    """A 2,000-node path with shuffled ids and two 500-node stars each end as one component
    named by its smallest node; the whole graph (plus a random one) matches union-find."""
    edges = chain_and_stars()
    got = components(spark, edges)
    sizes: dict[str, int] = {}
    for comp in got.values():
        sizes[comp] = sizes.get(comp, 0) + 1
    assert sizes["c00000"] == 2000
    assert sizes["a00000"] == 500
    assert sizes["z00000"] == 501
    assert sizes["p1"] == 2
    assert "q1" not in got  # a self-loop alone is no edge: the caller treats it as a singleton
    expected = union_find(edges)
    assert len({c for n, c in expected.items() if n.startswith("r")}) > 10  # many random components
    assert got == expected


@pytest.mark.slow  # three more masters in a subprocess, a standalone cluster: 300 s at load 19
def test_identical_on_every_master(spark, spark_cluster, repo_root):
    """local[1], local[*] and the standalone cluster (one subprocess, a fresh context each)
    give exactly the components this process's local[2] gives. On a 2-core machine local[*]
    is local[2], this process's own master, so the subprocess skips it there."""
    masters = ["local[1]", spark_cluster] + (["local[*]"] if os.cpu_count() != 2 else [])
    proc = subprocess.run(
        [sys.executable, "-m", "tests.dedup.graphs", *masters],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout)
    here = components(spark, chain_and_stars(*SMALL))
    assert here == union_find(chain_and_stars(*SMALL))
    assert list(results) == masters
    for master, got in results.items():
        assert got == here, master
