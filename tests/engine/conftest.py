"""Fixtures for end-to-end engine tests: the bundled sample WARC and a web pipeline over it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sample_warc(tmp_path_factory) -> Path:
    """The project's own sample crawl (built by the same command `make demo` uses)."""
    out = tmp_path_factory.mktemp("sample") / "sample.warc.gz"
    subprocess.run(
        [sys.executable, "-m", "corpus.sample", "--out", str(out)], check=True, cwd=ROOT, timeout=300
    )
    return out


def web_pipeline(tmp: Path, warc: Path, output: Path, stages: list[str] | None = None) -> Path:
    """pipelines/web.yaml reading ``warc`` and writing to ``output`` (optionally fewer stages)."""
    spec = yaml.safe_load((ROOT / "pipelines" / "web.yaml").read_text())
    spec["output"] = str(output)
    first = spec["stages"][0]
    first.pop("manifest", None)
    first["paths"] = [str(warc)]
    if stages is not None:
        spec["stages"] = [s for s in spec["stages"] if s.get("name", s["kind"]) in stages]
    path = tmp / f"web-{output.name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def web_reference(spark, sample_warc, tmp_path_factory) -> tuple[Path, Path]:
    """One uninterrupted in-process run of the whole web pipeline on the sample (local[2])."""
    from corpus.engine.runner import run_pipeline
    from corpus.spec import load_pipeline

    tmp = tmp_path_factory.mktemp("web-ref")
    yaml_path = web_pipeline(tmp, sample_warc, tmp / "out")
    run_pipeline(spark, load_pipeline(yaml_path), progress=False)
    return yaml_path, tmp / "out"


WEB_STAGES = [
    s.get("name", s["kind"]) for s in yaml.safe_load((ROOT / "pipelines" / "web.yaml").read_text())["stages"]
]
FINAL = WEB_STAGES[-1]


def final_rows(output: Path, stage: str = FINAL) -> list[tuple[str, str]]:
    """Sorted (id, text) of a stage's kept rows, read with DuckDB independently of Spark."""
    import duckdb

    return (
        duckdb.connect()
        .sql(f"select id, text from read_parquet('{output / stage}/part-*.parquet') order by id")
        .fetchall()
    )
