"""The one SparkSession factory: local and cluster differ only in the master URL."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
LOG4J = Path(__file__).with_name("log4j2.properties")
LOG4J_OPTION = f"-Dlog4j.configurationFile=file:{LOG4J}"
"""The JVM option that makes Spark log through :data:`LOG4J`."""
DRIVER_JIT_OPTION = "-XX:TieredStopAtLevel=1"
"""The driver JVM compiles hot code with HotSpot's C1 only, not C2. Our JVM mostly schedules tasks
and moves Arrow batches to Python (the per-document work is Python), and C2 compiling it cost
2.4-2.8 CPU-s of a 23 s code-benchmark run on 2 cores, taken from the Python workers: with C1
only the JVM used 1.9 instead of 4.6 CPU-s and the run took 20.8 instead of 25.0 s; MinHash
(Spark joins in the JVM) took 6.0 instead of 7.7 s at 40k documents and 16.1 instead of
17.1 s at 160k. ``CORPUS_JVM_C2=1`` brings C2 back (long local runs of JVM-heavy stages).
Executors on a cluster keep the JVM's default."""


def driver_jit_option() -> str:
    """:data:`DRIVER_JIT_OPTION`, or nothing when ``CORPUS_JVM_C2=1``."""
    return "" if os.environ.get("CORPUS_JVM_C2") == "1" else DRIVER_JIT_OPTION


def resolve_master(cli: str | None = None, spec: str | None = None) -> str:
    """Master precedence: ``--master`` > pipeline YAML > ``CORPUS_SPARK_MASTER`` > ``local[*]``."""
    return cli or spec or os.environ.get("CORPUS_SPARK_MASTER") or DEFAULT_MASTER


_LOCAL = re.compile(r"local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?")
_LOCAL_CLUSTER = re.compile(r"local-cluster\[\s*[1-9]\d*\s*,\s*[1-9]\d*\s*,\s*[1-9]\d*\s*\]")
_HOST_PORT = re.compile(r"(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})")
FORMS = "local, local[N], local[*], local[N,F], spark://HOST:PORT[,HOST:PORT...], yarn, k8s://URL"
MASTER_CONNECT_TIMEOUT_S = 5.0


def check_master(master: str, timeout_s: float = MASTER_CONNECT_TIMEOUT_S) -> None:
    """Fail with one line (:class:`UserError`) on a master URL Spark would reject or cannot
    reach, before a JVM starts (Spark itself retries for a minute, then prints a Java trace).

    Forms are those of Spark's ``SparkContext.createTaskScheduler``; for ``spark://`` at least
    one listed master must accept a TCP connection within ``timeout_s`` seconds.
    """
    where = "(set by --master, spark.master or $CORPUS_SPARK_MASTER)"
    if _LOCAL.fullmatch(master) or _LOCAL_CLUSTER.fullmatch(master) or master == "yarn":
        return
    if master.startswith("k8s://"):
        rest = master[len("k8s://") :]
        rest = rest.split("://", 1)[1] if "://" in rest else rest
        if _HOST_PORT.fullmatch(rest.rstrip("/")) or re.fullmatch(r"[A-Za-z0-9_.-]+/?", rest):
            return
        raise UserError(f"Spark master {master!r}: not a k8s://[https://]HOST[:PORT] URL {where}")
    if not master.startswith("spark://"):
        raise UserError(f"Spark master {master!r} is not a master URL (expected {FORMS}) {where}")
    hosts = master[len("spark://") :].split(",")
    parsed = [_HOST_PORT.fullmatch(h.strip()) for h in hosts]
    if not all(parsed) or any(int(m["port"]) > 65535 for m in parsed if m):
        raise UserError(f"Spark master {master!r}: expected spark://HOST:PORT[,HOST:PORT...] {where}")
    failures = []
    for m in parsed:
        host, port = m["host"].strip("[]"), int(m["port"])
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return
        except OSError as err:
            failures.append(f"{host}:{port} ({err.strerror or err})")
    raise UserError(
        f"Spark master {master}: nothing answers at {', '.join(failures)}: is the master running?"
    )


_DROP_LINES = (b"WARNING: Using incubator modules",)
_FILTER = (
    "import sys\n"
    "out = sys.stderr.buffer\n"
    "for line in sys.stdin.buffer:\n"
    "    if not line.startswith(DROP):\n"
    "        out.write(line)\n"
    "        out.flush()\n"
)


def _launch_gateway_quietly(options: dict[str, str]) -> None:
    """Start PySpark's JVM with its stderr passed through a line filter that drops the JDK's
    "WARNING: Using incubator modules: jdk.incubator.vector": Spark 4's launcher always adds
    that module and the JDK prints the line with no switch to turn it off. Everything else the
    JVM and its Python workers write reaches stderr unchanged.

    Uses PySpark's documented ``launch_gateway(popen_kwargs=...)`` hook; a no-op when a JVM is
    already there (a reused session, or spark-submit's JVM via ``PYSPARK_GATEWAY_PORT``).
    """
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if _jvm_running():
        return
    code = f"DROP = {_DROP_LINES!r}\n{_FILTER}"
    line_filter = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    try:
        conf = SparkConf(loadDefaults=False).setAll(list(options.items()))
        gateway = launch_gateway(conf, popen_kwargs={"stderr": line_filter.stdin})
    finally:
        line_filter.stdin.close()  # the JVM holds the pipe now; EOF when it exits
    SparkContext._ensure_initialized(gateway=gateway)


def _jvm_running() -> bool:
    """A JVM is already there: a reused session, or spark-submit's JVM."""
    from pyspark import SparkContext

    return SparkContext._gateway is not None or "PYSPARK_GATEWAY_PORT" in os.environ


def get_spark(
    master: str | None = None,
    conf: dict[str, str] | None = None,
    app_name: str = "corpus",
    ui: bool = False,
    preload: list[str] | None = None,
) -> SparkSession:
    """Start (or reuse) a SparkSession with Arrow on, quiet logs and the UI off unless asked.

    ``preload``: modules every Python worker needs (:func:`corpus.engine.daemon.modules_for`),
    imported once in the worker daemon before it forks the workers (Python workers are reused).

    Raises :class:`UserError` for a malformed or unreachable master (:func:`check_master`).

    Executors run the same Python as the driver, so the venv's packages are there on a local
    standalone cluster too; a remote cluster needs the package installed on its workers.
    """
    check_master(resolve_master(master))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from corpus.engine import jvm_archive

    options = {
        "spark.master": resolve_master(master),
        "spark.app.name": app_name,
        "spark.ui.enabled": "true" if ui else "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "1000",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.adaptive.enabled": "false",
        "spark.python.worker.reuse": "true",
        "spark.driver.memory": os.environ.get("CORPUS_DRIVER_MEMORY", "4g"),
        "spark.sql.parquet.compression.codec": "zstd",
        # Datasets are read from the shard lists of their manifests: listing a few hundred
        # files on the driver takes milliseconds, Spark's parallel listing job (default from
        # 32 paths) half a second on every read of a stage with many pieces.
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "4096",
        # C1-only JIT (DRIVER_JIT_OPTION) and the class archive `make setup` builds
        # (engine/jvm_archive.py: Spark starts ~3 s sooner)
        "spark.driver.extraJavaOptions": " ".join(
            o for o in (LOG4J_OPTION, driver_jit_option(), jvm_archive.java_options()) if o
        ),
        "spark.executor.extraJavaOptions": LOG4J_OPTION,
    }
    if preload:
        from corpus.engine import daemon, zygote

        options["spark.python.daemon.module"] = daemon.MODULE
        options[f"spark.executorEnv.{daemon.PRELOAD_ENV}"] = ",".join(preload)
        started = _jvm_running()
        if not started and _LOCAL.fullmatch(options["spark.master"]) and (path := zygote.start(preload)):
            options[f"spark.executorEnv.{zygote.ENV}"] = path
    options.update({key: str(value) for key, value in (conf or {}).items()})
    _launch_gateway_quietly(options)
    builder = SparkSession.builder
    for key, value in options.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
