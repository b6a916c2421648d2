"""The one SparkSession factory: local and cluster differ only in the master URL."""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
LOG4J = Path(__file__).with_name("log4j2.properties")


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


def get_spark(
    master: str | None = None,
    conf: dict[str, str] | None = None,
    app_name: str = "corpus",
    ui: bool = False,
) -> SparkSession:
    """Start (or reuse) a SparkSession with Arrow on, quiet logs and the UI off unless asked.

    Raises :class:`UserError` for a malformed or unreachable master (:func:`check_master`).

    Executors run the same Python as the driver, so the venv's packages are there on a local
    standalone cluster too; a remote cluster needs the package installed on its workers.
    """
    check_master(resolve_master(master))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app_name)
        .master(resolve_master(master))
        .config("spark.ui.enabled", "true" if ui else "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.python.worker.reuse", "true")
        .config("spark.driver.memory", os.environ.get("CORPUS_DRIVER_MEMORY", "4g"))
        .config("spark.sql.parquet.compression.codec", "zstd")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile=file:{LOG4J}")
        .config("spark.executor.extraJavaOptions", f"-Dlog4j.configurationFile=file:{LOG4J}")
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
