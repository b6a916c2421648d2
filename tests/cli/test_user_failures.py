"""User-caused failures outside argument parsing: an SQL typo in ``inspect --sql``, a bad or
unreachable ``--master``. Each is one line and exit code 2, decided before Spark starts."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus import cli
from corpus.engine.spark import check_master
from corpus.errors import UserError


def _run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture()
def dataset(tmp_path):
    """A stage folder as a run leaves it: kept shards and a _removed shard."""
    folder = tmp_path / "langid"
    (folder / "_removed").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["a", "b"], "lang": ["en", "de"]}), folder / "part-00000.parquet")
    pq.write_table(
        pa.table({"id": ["c"], "lang": ["fr"], "reason": ["langid:min_score"]}),
        folder / "_removed" / "part-00000.parquet",
    )
    return folder


def test_inspect_sql_runs(dataset, capsys):
    code, out, _ = _run_main(["inspect", str(dataset), "--sql", "select lang from data order by 1"], capsys)
    assert code == 0 and "de" in out and "en" in out


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("selec lang form data", "syntax error"),
        ("select no_such_column from data", "no_such_column"),
        ("select * from no_such_view", "no_such_view"),
    ],
)
def test_inspect_sql_mistakes_are_one_line(dataset, capsys, sql, names):
    code, _, err = _run_main(["inspect", str(dataset), "--sql", sql], capsys)
    assert code == 2
    line = _one_line(err)
    assert line.startswith("error: --sql: ") and names in line


def test_inspect_damaged_shard_is_one_line(dataset, capsys):
    (dataset / "part-00001.parquet").write_bytes(b"PAR1 this is not parquet")
    code, _, err = _run_main(["inspect", str(dataset)], capsys)
    assert code == 2 and "part-00001" in _one_line(err)


def test_inspect_negative_limit(dataset, capsys):
    code, _, err = _run_main(["inspect", str(dataset), "--limit", "-1"], capsys)
    assert code == 2 and "--limit" in err and "Traceback" not in err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def pipeline(tmp_path):
    archive = tmp_path / "in.warc"
    archive.write_bytes(b"")
    spec = tmp_path / "p.yaml"
    spec.write_text(f"name: p\noutput: {tmp_path / 'out'}\nstages:\n  - kind: warc\n    paths: [{archive}]\n")
    return spec


@pytest.mark.parametrize(
    ("master", "names"),
    [
        ("spark://127.0.0.1:{port}", "nothing answers at 127.0.0.1:{port}"),
        ("spark://no-such-host.invalid:7077", "no-such-host.invalid:7077"),
        ("spark://127.0.0.1", "expected spark://HOST:PORT"),
        ("spark//127.0.0.1:7077", "is not a master URL"),
        ("local[0]", "is not a master URL"),
    ],
)
def test_bad_master_fails_before_spark(pipeline, tmp_path, capsys, master, names):
    port = _closed_port()
    master, names = master.format(port=port), names.format(port=port)
    code, _, err = _run_main(["run", str(pipeline), "--master", master, "--no-progress"], capsys)
    assert code == 2 and names in _one_line(err)
    assert not (tmp_path / "out").exists()  # nothing created


PROBE = """
import sys
from corpus import cli
try:
    cli.main(sys.argv[1:])
except SystemExit as e:
    from pyspark import SparkContext
    print("exit", e.code, "gateway", SparkContext._gateway is not None)
"""


def test_unreachable_master_starts_no_jvm(pipeline, tmp_path):
    """In a fresh process: the check runs before PySpark launches its JVM gateway."""
    argv = ["run", str(pipeline), "--master", f"spark://127.0.0.1:{_closed_port()}"]
    res = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=300)
    assert res.stdout.split() == ["exit", "2", "gateway", "False"], res
    assert "nothing answers" in _one_line(res.stderr)


def test_master_that_answers_passes():
    """A real listening socket on 127.0.0.1 (any TCP server is enough for the check)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
    accepted.start()
    try:
        check_master(f"spark://no-such-host.invalid:7077,127.0.0.1:{port}")  # HA list: one answers
    finally:
        accepted.join(timeout=5)
        server.close()
    for ok in ("local", "local[2]", "local[*]", "local[*,3]", "local-cluster[2,1,1024]", "yarn"):
        check_master(ok)
    with pytest.raises(UserError):
        check_master("k8s://")


@pytest.mark.parametrize("command", ["verify", "inspect"])
def test_damaged_manifest_is_one_line(dataset, capsys, command):
    (dataset / "_manifest.json").write_text("{not json")
    code, _, err = _run_main([command, str(dataset)], capsys)
    assert code == 2 and "_manifest.json: damaged manifest" in _one_line(err)
