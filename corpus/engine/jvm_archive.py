"""A class-data-sharing archive for the driver JVM, so Spark starts without reading and
verifying its classes from the jars on every run.

JDK 17's dynamic AppCDS records the classes one run loaded (``-XX:ArchiveClassesAtExit``);
later JVMs map that archive (``-XX:SharedArchiveFile``) instead of loading them one by one.
Measured on the 2-core machine, local[2], a session and two Python jobs, two runs each: first
job done 8.4–9.2 s → 5.4–6.4 s after the start, JVM CPU 11.7–12.7 → 6.8–8.0 s; the web bench's
Spark start-up 7.1–7.8 s → 4.2–4.4 s (``tests/engine/test_jvm_archive.py`` checks that the
driver takes its classes from the archive, not the time).

An archive only fits the JDK and jar files it was recorded with, so its file name is a digest
of the ``java`` binary and of every jar in PySpark's ``jars`` folder (name, size, mtime): a new
JDK or PySpark never maps a stale one. It is built on purpose, never by a run:
``make setup`` runs ``python -m corpus.engine.jvm_archive`` (about 40 s, ~190 MB under
``$CORPUS_CACHE_DIR``, default ``~/.cache/corpus``). Runs use it when it is there; set
``CORPUS_JVM_ARCHIVE=0`` to start without it. Local and cluster drivers use it; executors on
other machines do not.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ENV_OFF = "CORPUS_JVM_ARCHIVE"
ENV_CACHE = "CORPUS_CACHE_DIR"
QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"
"""The JDK logs every class it cannot archive (lambda forms, ...) as a warning: not a user's
concern, and a stale or damaged archive is refused either way (the JVM starts without it)."""


def _java() -> Path | None:
    home = os.environ.get("JAVA_HOME")
    found = Path(home) / "bin" / "java" if home else (Path(w) if (w := shutil.which("java")) else None)
    return found.resolve() if found and found.exists() else None


def path() -> Path | None:
    """Where this JDK + PySpark's archive lives (whether or not it exists); None without a JDK."""
    import pyspark

    java = _java()
    if java is None:
        return None
    digest = hashlib.sha256()
    for entry in [java, *sorted((Path(pyspark.__file__).parent / "jars").glob("*.jar"))]:
        st = entry.stat()
        digest.update(f"{entry.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    cache = Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "corpus")
    return cache / "jvm" / f"spark-{pyspark.__version__}-{digest.hexdigest()[:16]}.jsa"


def java_options() -> str:
    """``-XX:SharedArchiveFile=...`` for the driver when the archive is built and not turned off,
    else ``""``."""
    if os.environ.get(ENV_OFF, "1") == "0":
        return ""
    try:
        archive = path()
    except (OSError, RuntimeError, KeyError):  # no home folder, unreadable jars: start without
        return ""
    return f"-XX:SharedArchiveFile={archive} {QUIET}" if archive is not None and archive.is_file() else ""


def _record(out: Path) -> None:
    """Run what a pipeline makes Spark load (Python tasks through Arrow, Parquet written and
    read, a shuffle, a join, a grouped Arrow function, checkpoints), then end the JVM so it
    writes the archive to ``out``."""
    import pyarrow as pa
    from pyspark import SparkContext

    from corpus.engine.spark import LOG4J_OPTION, get_spark

    options = f"{LOG4J_OPTION} -XX:ArchiveClassesAtExit={out} {QUIET}"
    spark = get_spark(
        "local[2]", conf={"spark.driver.extraJavaOptions": options}, app_name="corpus-jvm-archive"
    )

    def same(batches):
        yield from batches

    def grouped(table: pa.Table) -> pa.Table:
        return table.slice(0, 1)

    with tempfile.TemporaryDirectory() as tmp:
        df = spark.range(0, 20_000, 1, 4).selectExpr("id", "cast(id as string) as s", "id % 7 as k")
        df.mapInArrow(same, df.schema).write.parquet(f"{tmp}/a")
        back = spark.read.parquet(f"{tmp}/a").localCheckpoint(eager=True)
        back.groupBy("k").count().collect()
        back.join(back.where("k = 1").select("id"), "id", "left_semi").count()
        back.groupBy("k").applyInArrow(grouped, back.schema).orderBy("id").toArrow()
        back.repartition(3, "s").sortWithinPartitions("id").distinct().count()
    spark.stop()
    gateway = SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    if proc is None:  # a JVM this process did not start: nothing to end here
        raise RuntimeError("the JVM was not started by this process")
    proc.stdin.close()  # PySpark's gateway server exits at EOF on its stdin
    proc.wait(timeout=300)


def build() -> Path | None:
    """Record the archive in a fresh process and move it into place (atomically: a run starting
    meanwhile never maps half a file). Returns its path; None without a JDK."""
    archive = path()
    if archive is None:
        return None
    archive.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, ENV_OFF: "0"}
    with tempfile.TemporaryDirectory(dir=archive.parent) as tmp:
        staged = Path(tmp) / archive.name
        subprocess.run(
            [sys.executable, "-m", "corpus.engine.jvm_archive", "--record", str(staged)], check=True, env=env
        )
        if not staged.is_file():
            raise RuntimeError(f"the JVM wrote no archive to {staged}")
        os.replace(staged, archive)
    return archive


if __name__ == "__main__":
    if sys.argv[1:2] == ["--record"]:
        _record(Path(sys.argv[2]))
    else:
        built = build()
        print(f"JVM class archive: {built}" if built else "JVM class archive: no java found, skipped")
