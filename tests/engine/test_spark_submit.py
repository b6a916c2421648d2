"""The web pipeline through ``spark-submit`` on a real standalone cluster with two workers
writes the same rows as the local run, stage by stage (kept rows and removed rows with their
reasons). It is the suite's one full cluster run: it also covers `corpus run --master
spark://...`, which the entry point calls with spark-submit's master."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import duckdb
import pytest

from corpus.engine.manifest import read_manifest
from tests.cluster import _spark_home
from tests.engine.conftest import FINAL, ROOT, WEB_STAGES, final_rows, web_pipeline

pytestmark = pytest.mark.slow


def removed_rows(output, stage: str) -> list[tuple[str, str]]:
    """Sorted (id, reason) of a stage's removed rows, read with DuckDB."""
    folder = output / stage / "_removed"
    if not list(folder.glob("part-*.parquet")):
        return []
    return (
        duckdb.connect()
        .sql(f"select id, reason from read_parquet('{folder}/part-*.parquet') order by id, reason")
        .fetchall()
    )


def test_spark_submit_on_two_workers_equals_the_local_run(
    web_reference, sample_warc, spark_cluster, tmp_path
):
    assert spark_cluster.workers == 2
    _, ref_out = web_reference
    out = tmp_path / "out"
    yaml_path = web_pipeline(tmp_path, sample_warc, out)
    home = _spark_home()
    cmd = [
        str(home / "bin" / "spark-submit"),
        "--master",
        spark_cluster,
        "--conf",
        f"spark.pyspark.python={sys.executable}",
        "--conf",
        "spark.executor.memory=1g",
        str(ROOT / "scripts" / "spark_submit.py"),
        "run",
        str(yaml_path),
        "--no-progress",
    ]
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert f"on {spark_cluster}" in proc.stdout  # the run summary names spark-submit's master

    # spark-submit's master reached every stage, and both workers ran executors of the app
    assert {read_manifest(str(out / s))["engine"]["master"] for s in WEB_STAGES} == {spark_cluster}
    master_log = (spark_cluster.workdir / "logs" / "master.log").read_text(errors="replace")
    app_ids = re.findall(r"Registered app corpus:web with ID (app-\S+)", master_log)
    assert app_ids, master_log[-2000:]
    assert spark_cluster.executors(app_ids[-1]) == [0, 1]

    for stage in WEB_STAGES:
        assert final_rows(out, stage) == final_rows(ref_out, stage), stage
        assert removed_rows(out, stage) == removed_rows(ref_out, stage), stage
    assert final_rows(out, FINAL)  # not vacuous: the sample keeps documents to the end
