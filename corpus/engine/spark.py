"""The one SparkSession factory: local and cluster differ only in the master URL."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
LOG4J = Path(__file__).with_name("log4j2.properties")


def resolve_master(cli: str | None = None, spec: str | None = None) -> str:
    """Master precedence: ``--master`` > pipeline YAML > ``CORPUS_SPARK_MASTER`` > ``local[*]``."""
    return cli or spec or os.environ.get("CORPUS_SPARK_MASTER") or DEFAULT_MASTER


def get_spark(
    master: str | None = None,
    conf: dict[str, str] | None = None,
    app_name: str = "corpus",
    ui: bool = False,
) -> SparkSession:
    """Start (or reuse) a SparkSession with Arrow on, quiet logs and the UI off unless asked.

    Executors run the same Python as the driver, so the venv's packages are there on a local
    standalone cluster too; a remote cluster needs the package installed on its workers.
    """
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
