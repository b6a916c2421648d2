"""A real Spark standalone cluster on 127.0.0.1 (one master, N workers), stopped by PID.

Uses the ``spark-class`` launcher PySpark ships. Tests use it through the ``spark_cluster``
fixture in ``tests/conftest.py`` and talk to it from a subprocess (``spark-submit`` or
``corpus run --master``), since the test process already holds a local session. Each worker
keeps its executors' folders under its own ``workdir/worker-<i>``, so a test can see which
workers ran executors of an application.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


class Cluster(str):
    """The master URL (a ``str``: it goes straight to ``--master``), plus where its files are."""

    workdir: Path
    workers: int

    def worker_dir(self, i: int) -> Path:
        return self.workdir / f"worker-{i}"

    def executors(self, app_id: str) -> list[int]:
        """Indexes of the workers that launched at least one executor of ``app_id``."""
        return [i for i in range(self.workers) if any((self.worker_dir(i) / app_id).glob("*/stderr"))]


@contextmanager
def standalone_cluster(workdir: Path, workers: int = 1, cores: int = 2, memory: str = "2g"):
    """Yield a :class:`Cluster` (master URL) of a fresh master and ``workers`` workers with
    ``cores`` cores and ``memory`` each; all are killed by PID afterwards."""
    home = _spark_home()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(workdir / "logs"),
    }
    port = _free_port()
    url = Cluster(f"spark://127.0.0.1:{port}")
    url.workdir, url.workers = workdir, workers
    spark_class = str(home / "bin" / "spark-class")
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    spark_class,
                    "org.apache.spark.deploy.master.Master",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--webui-port",
                    str(_free_port()),
                ],
                env=env,
                stdout=open(logs / "master.log", "wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        _wait_port(port, 60)
        for i in range(workers):
            worker_port = _free_port()
            procs.append(
                subprocess.Popen(
                    [
                        spark_class,
                        "org.apache.spark.deploy.worker.Worker",
                        url,
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(worker_port),
                        "--webui-port",
                        str(_free_port()),
                        "--cores",
                        str(cores),
                        "--memory",
                        memory,
                        "--work-dir",
                        str(url.worker_dir(i)),
                    ],
                    env=env,
                    stdout=open(logs / f"worker-{i}.log", "wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            _wait_port(worker_port, 60)
        _wait_registered(logs / "master.log", workers, 60)
        yield url
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)


def _wait_registered(master_log: Path, workers: int, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if master_log.read_text(errors="replace").count("Registering worker") >= workers:
            return
        time.sleep(0.3)
    raise TimeoutError(f"{workers} workers did not all register with the master")
