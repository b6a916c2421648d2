"""Shared fixtures: one Spark session for the whole test run, paths to real third-party data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def spark():
    """One local[2] session (start-up is ~8 s); stopped at the end of the run."""
    from corpus.engine.spark import get_spark

    session = get_spark("local[2]", app_name="corpus-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repo; tests that need it skip cleanly on a user's clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (third-party test data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """Master URL of a real standalone Spark cluster (master + one worker on 127.0.0.1)."""
    from tests.cluster import standalone_cluster

    with standalone_cluster(tmp_path_factory.mktemp("spark-cluster")) as url:
        yield url
