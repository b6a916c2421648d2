"""Smaller things a first-time user notices (issue 10, item 6): progress that never restarts
within a stage, lang_score within [0, 1], one removal reason for an empty archive however it
is compressed, ``paths:`` as a single string, README outputs git-ignored, quiet Spark start."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import lz4.frame
import pytest

from corpus.engine.progress import TaskTally
from corpus.engine.spark import LOG4J
from corpus.stages.base import REASON
from corpus.warc.records import ReadOptions, read_file

ROOT = Path(__file__).resolve().parents[2]


def test_progress_tally_never_goes_back():
    """Three Spark jobs in one corpus stage: (count) -> (write map, then reduce)."""
    tally = TaskTally()
    snapshots = [
        {1: (0, 4)},
        {1: (3, 4)},
        {},  # job 1 done, job 2 not started yet
        {2: (1, 8)},
        {2: (8, 8), 3: (0, 2)},
        {3: (2, 2)},
        {},
    ]
    seen = [tally.update(s) for s in snapshots]
    assert seen == [(0, 4), (3, 4), (4, 4), (5, 12), (12, 14), (14, 14), (14, 14)]
    done = [d for d, _ in seen]
    assert done == sorted(done)


def test_lang_score_is_a_probability():
    """lid.176 gives 1.00007 for this Korean text (exp of a float32 log-probability)."""
    from corpus.text.langid_model import bundled_model_path, load_model, predict

    path = str(bundled_model_path())
    text = "안녕하세요 이것은 한국어 테스트입니다. " * 20
    _, raw = load_model(path).predict([text], k=1)
    langs, scores = predict([text], path)
    assert float(raw[0][0]) > 1.0  # the model's own output: what the clamp is for
    assert langs == ["ko"] and scores == [1.0]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("zero.warc.gz", b""),
        ("gzip-of-nothing.warc.gz", gzip.compress(b"")),
        ("two-empty-members.warc.gz", gzip.compress(b"") + gzip.compress(b"")),
        ("lz4-of-nothing.warc.lz4", lz4.frame.compress(b"")),
        ("zero.warc", b""),
    ],
)
def test_empty_archive_has_one_reason(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    (row,) = read_file(str(tmp_path / name), name, ReadOptions())
    assert row[REASON] == "warc:empty_file" and row["warc_error"] == "no records"


def test_cut_gzip_header_is_still_corrupt(tmp_path):
    """A gzip member cut before its end is damage, not emptiness."""
    (tmp_path / "cut.warc.gz").write_bytes(gzip.compress(b"")[:5])
    (row,) = read_file(str(tmp_path / "cut.warc.gz"), "cut.warc.gz", ReadOptions())
    assert row[REASON].startswith("warc:corrupt_file:")


def test_warc_paths_accepts_one_string():
    from corpus.stages.warc import Params

    assert Params(paths="data/*.warc.gz").paths == ["data/*.warc.gz"]
    assert Params(paths=["a", "b"]).paths == ["a", "b"]


def test_readme_outputs_are_git_ignored():
    for path in ("out/web/x", "hf/config.json", "tok/tokenizer.json", "data/sample/sample.warc.gz"):
        res = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert res.returncode == 0, f"{path} is not git-ignored"


def test_log4j_silences_the_shell_banner():
    """PySpark starts the JVM as a shell; the gateway's logger set to the root level keeps
    Spark from printing 'Setting default log level to "WARN"' on every run."""
    props = dict(
        line.split(" = ", 1) for line in LOG4J.read_text().splitlines() if " = " in line and line[0] != "#"
    )
    names = {v: k.rsplit(".", 1)[0] for k, v in props.items() if k.endswith(".name")}
    root = props["rootLogger.level"]
    gateway = names["org.apache.spark.api.python.PythonGatewayServer"]
    assert props[f"{gateway}.level"] == root


SPARK_START = """
import sys
from corpus.engine.spark import get_spark

def shout(x):
    print("worker says hello", file=sys.stderr)
    return x

spark = get_spark("local[1]")
print(spark.sparkContext.parallelize([1, 2], 1).map(shout).count())
spark.stop()
"""


@pytest.mark.slow
def test_spark_start_prints_nothing_a_user_cannot_act_on():
    """A real Spark start: no JDK incubator warning, no log-level banner; what a Python
    worker writes to stderr still comes through."""
    import sys

    res = subprocess.run([sys.executable, "-c", SPARK_START], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and res.stdout.strip() == "2", res.stderr[-3000:]
    assert "worker says hello" in res.stderr
    for noise in ("Using incubator modules", "Setting default log level", "WARN"):
        assert noise not in res.stderr, res.stderr


def test_kmeans_on_a_small_input_prints_nothing(capfd):
    """faiss's C++ prints "please provide at least 39 training points" for one centroid over
    a small sample (the demo's semdedup stage hit it); nothing a user can act on."""
    import numpy as np

    from corpus.dedup.kmeans import fit

    x = np.random.default_rng(0).normal(size=(37, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    centroids = fit(x, 1, seed=0)
    assert centroids.shape == (1, 16)
    assert capfd.readouterr().err == ""
