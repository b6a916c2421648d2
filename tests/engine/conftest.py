"""Helpers for end-to-end tests: the web pipeline over a given WARC, its stages, its final rows.
(The `sample_warc` and `web_reference` fixtures are in tests/conftest.py: tests/report shares them.)"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


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
