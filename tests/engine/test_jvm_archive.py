"""corpus.engine.jvm_archive: the driver JVM maps the class archive built for its JDK and
PySpark, never another's; a run without one starts as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from corpus.engine import jvm_archive
from corpus.engine.spark import LOG4J_OPTION

ROOT = Path(__file__).resolve().parents[2]


def test_archive_name_follows_the_jdk(tmp_path, monkeypatch):
    real = jvm_archive.path()
    assert real is not None and real.name.startswith("spark-") and real.suffix == ".jsa"
    fake = tmp_path / "jdk"
    (fake / "bin").mkdir(parents=True)
    (fake / "bin" / "java").write_bytes(b"another JDK")
    monkeypatch.setenv("JAVA_HOME", str(fake))
    other = jvm_archive.path()
    assert other is not None and other.name != real.name
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert jvm_archive.path() is None and jvm_archive.java_options() == ""


def test_no_archive_or_switched_off_means_no_option(tmp_path, monkeypatch):
    monkeypatch.setenv(jvm_archive.ENV_CACHE, str(tmp_path))
    assert jvm_archive.java_options() == ""  # nothing built in this cache
    archive = jvm_archive.path()
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"")
    assert f"-XX:SharedArchiveFile={archive}" in jvm_archive.java_options()
    monkeypatch.setenv(jvm_archive.ENV_OFF, "0")
    assert jvm_archive.java_options() == ""


def _classes_from_archive(log: Path, options: str) -> int:
    """Start a Spark session in a fresh process with ``options`` and count the classes the JVM
    took from the dynamic archive (``source: shared objects file (top)``)."""
    code = (
        "from corpus.engine.spark import get_spark\n"
        f"spark = get_spark('local[1]', conf={{'spark.driver.extraJavaOptions': {options!r}}})\n"
        "spark.range(3).collect()\n"
        "spark.stop()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=300)
    return sum("shared objects file (top)" in line for line in log.read_text().splitlines())


def test_a_built_archive_is_mapped_by_the_driver(tmp_path):
    """Built here when ``make setup`` has not (about 40 s, once per JDK + PySpark)."""
    archive = jvm_archive.path()
    if not archive.is_file():
        assert jvm_archive.build() == archive
    log = tmp_path / "classes.log"
    base = f"{LOG4J_OPTION} -Xlog:class+load=info:file={log}"
    env_options = jvm_archive.java_options()
    assert env_options.startswith(f"-XX:SharedArchiveFile={archive}")
    assert _classes_from_archive(log, f"{base} {env_options}") > 2000
    log.unlink()
    assert _classes_from_archive(log, base) == 0
    assert os.access(archive, os.R_OK)
