"""A pre-warmed Python process that becomes the worker daemon of a local run, so the daemon's
preload (:mod:`corpus.engine.daemon`) runs while the JVM starts instead of after it.

On ``local[N]`` the JVM asks for its worker daemon only once its first Python task is
scheduled, about 9 s into a run on the 2-core development machine, and the daemon then
spends 6.5 s of one core importing and warming the web stages' libraries (spaCy's French
tokenizer alone 2.5 s) while the other core idles. :func:`start` launches this module before
the JVM: it binds a Unix socket, preloads, and waits. The daemon module Spark starts
(:mod:`corpus.engine.daemon`) hands it its stdin, stdout and stderr (``SCM_RIGHTS``), its
environment, working folder and arguments; the zygote forks, and the child runs PySpark's
daemon ``manager`` on those pipes, warm. Anything that fails falls back to the plain daemon.

Linux only (``socket.send_fds``, ``PR_SET_PDEATHSIG``); every process here dies with its parent.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from corpus.engine.lifetime import die_with_parent

ENV = "CORPUS_ZYGOTE"
"""The socket path, in the daemon's environment (``spark.executorEnv``)."""
MODULE = "corpus.engine.zygote"


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


def start(preload: list[str]) -> str | None:
    """Launch the zygote for ``preload`` (module names); returns its socket path, or None where
    unsupported. It ends with this process."""
    if not preload or not supported():
        return None
    folder = tempfile.mkdtemp(prefix="corpus-zygote-")
    path = os.path.join(folder, "s")
    env = {**os.environ, "CORPUS_PRELOAD": ",".join(preload)}
    proc = subprocess.Popen(
        [sys.executable, "-m", MODULE, path, str(os.getpid())], env=env, stdin=subprocess.DEVNULL
    )

    def stop() -> None:
        proc.kill()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return path


def _connect(path: str, wait_s: float = 10.0) -> socket.socket:
    """Connect to the zygote's socket, waiting while it is still starting (its folder exists,
    the socket not yet); raises OSError when there is none."""
    deadline = time.monotonic() + wait_s
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if not os.path.isdir(os.path.dirname(path)) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def hand_over(path: str) -> bool:
    """In the daemon process Spark started: have the zygote run the daemon on this process's
    pipes, then wait for it to end (a SIGTERM from Spark is passed on). False: no zygote
    answered, run the daemon here."""
    try:
        sock = _connect(path)
        message = json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "argv": sys.argv}).encode()
        socket.send_fds(sock, [message], [0, 1, 2])
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(120.0)  # the zygote answers once its preload is done
        pid = int(sock.recv(64).decode() or "0")
    except (OSError, ValueError):
        return False
    if not pid:
        return False

    def stop(*_: object) -> None:  # Spark stops its daemon with SIGTERM: pass it on
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:  # already gone
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    sock.settimeout(None)
    while sock.recv(64):  # closed by the zygote when the daemon ends
        pass
    return True


def _run_daemon(message: bytes, fds: list[int]) -> None:
    """In the forked child: become the daemon Spark started, on its pipes and environment."""
    die_with_parent()
    spec = json.loads(message)
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
    for fd in fds:
        os.close(fd)
    os.environ.clear()
    os.environ.update(spec["env"])
    os.chdir(spec["cwd"])
    sys.argv = spec["argv"]
    from pyspark.daemon import manager

    manager()


def _serve(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    from corpus.engine import daemon

    daemon.preload()
    children: dict[int, socket.socket] = {}
    while True:
        ready, _, _ = select.select([listener], [], [], 0.5)
        while children:  # a daemon that ended: its launcher may exit
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            if (conn := children.pop(pid, None)) is not None:
                conn.close()
        if not ready:
            continue
        conn, _ = listener.accept()
        try:
            message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            while chunk := conn.recv(1 << 20):
                message += chunk
        except OSError:
            conn.close()
            continue
        if len(fds) != 3:
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:
            listener.close()
            conn.close()
            try:
                _run_daemon(message, fds)
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        conn.sendall(str(pid).encode())
        children[pid] = conn


if __name__ == "__main__":
    die_with_parent(int(sys.argv[2]))
    _serve(sys.argv[1])
