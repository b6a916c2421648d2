"""The pre-warmed daemon of a local run (:mod:`corpus.engine.zygote`), spoken to as Spark speaks
to its worker daemon: start ``python -m corpus.engine.daemon``, read the port it writes to
stdout, end it by closing its stdin."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus.engine import zygote

pytestmark = pytest.mark.skipif(not zygote.supported(), reason="Linux only")


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(p.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _daemon(socket_path: str) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, zygote.ENV: socket_path, "PYTHON_WORKER_FACTORY_SECRET": "s", "CORPUS_PRELOAD": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus.engine.daemon", "pyspark.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    (port,) = struct.unpack("!i", proc.stdout.read(4))
    return proc, port


def test_the_daemon_runs_in_a_child_of_the_warm_zygote_and_ends_with_its_stdin():
    path = zygote.start(["json"])
    proc, port = _daemon(path)  # once the port is written, the zygote runs under its own command line
    (zpid,) = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _cmd(p).endswith(path + f" {os.getpid()}") and _parent(p) == os.getpid()
    ]
    assert 0 < port < 65536
    managers = _children(zpid)
    assert len(managers) == 1 and managers[0] != proc.pid  # the daemon runs forked from the zygote
    assert proc.poll() is None  # the process Spark started waits for it
    proc.stdin.close()  # how Spark tells its daemon to stop
    assert proc.wait(timeout=20) == 0
    deadline = time.monotonic() + 10
    while _children(zpid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _children(zpid)


def test_without_a_zygote_the_daemon_runs_itself(tmp_path):
    proc, port = _daemon(str(tmp_path / "no-zygote" / "s"))  # its folder gone: the driver ended
    assert 0 < port < 65536
    assert not _children(proc.pid)  # PySpark's manager, in this very process, with no worker yet
    proc.stdin.close()
    proc.wait(timeout=20)  # PySpark's own shutdown (its exit code is PySpark's)


def _parent(p: Path) -> int:
    try:
        return int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _cmd(p: Path) -> str:
    try:
        return (p / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""
