"""A real Spark standalone cluster on 127.0.0.1 (one master, one worker), stopped by PID.

Uses the ``spark-class`` launcher PySpark ships. Tests use it through the ``spark_cluster``
fixture in ``tests/conftest.py`` and talk to it from a subprocess (``corpus run --master``),
since the test process already holds a local session.
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


@contextmanager
def standalone_cluster(workdir: Path, cores: int = 2, memory: str = "2g"):
    """Yield the master URL of a fresh master + worker; both are killed by PID afterwards."""
    home = _spark_home()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(workdir / "worker"),
        "SPARK_LOG_DIR": str(workdir / "logs"),
    }
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
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
                ],
                env=env,
                stdout=open(logs / "worker.log", "wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        _wait_port(worker_port, 60)
        _wait_registered(logs / "master.log", 60)
        yield url
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)


def _wait_registered(master_log: Path, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if "Registering worker" in master_log.read_text(errors="replace"):
            return
        time.sleep(0.3)
    raise TimeoutError("the worker did not register with the master")
