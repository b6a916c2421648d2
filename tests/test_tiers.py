"""Test tiers: tests/conftest.py marks ``spark`` every test that uses a Spark fixture, directly
or through other fixtures, so ``make test-fast`` (``-m "not spark and not slow"``) needs no JVM."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TESTS = """
import pytest


@pytest.fixture
def docs(spark):
    return spark


@pytest.fixture
def cluster_docs(docs, spark_cluster):
    return docs


def test_direct(spark):
    pass


def test_indirect(docs):
    pass


def test_two_levels(cluster_docs):
    pass


def test_pure():
    pass


@pytest.mark.slow
def test_long():
    pass
"""


def collected(folder: Path, expression: str) -> set[str]:
    """Names of the tests in ``folder`` that ``-m expression`` selects (collection only: no
    fixture runs, no Spark starts)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", expression],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 5), proc.stdout[-2000:] + proc.stderr[-2000:]  # 5: nothing selected
    return {line.split("::")[1] for line in proc.stdout.splitlines() if "::" in line}


def test_spark_marker_follows_fixtures_and_fast_tier_excludes_spark_and_slow(tmp_path):
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    spark: spark\n    slow: slow\n")
    (tmp_path / "test_tiers_probe.py").write_text(TESTS)
    assert collected(tmp_path, "spark") == {"test_direct", "test_indirect", "test_two_levels"}
    assert collected(tmp_path, "not spark and not slow") == {"test_pure"}
