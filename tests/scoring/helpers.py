"""Inputs for the scoring stage tests: documents written as Parquet by the test, committed by
the real ``dataset`` stage, and a runner helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def write_docs(folder: Path, columns: dict[str, list], files: int) -> str:
    """``columns`` split over ``files`` Parquet files (row groups of 97 rows); returns a glob."""
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table(columns)
    n = table.num_rows
    for i in range(files):
        lo, hi = n * i // files, n * (i + 1) // files
        pq.write_table(table.slice(lo, hi - lo), folder / f"part-{i}.parquet", row_group_size=97)
    return str(folder / "*.parquet")


def dataset_stage(glob: str, name: str = "docs") -> dict:
    return {"kind": "dataset", "name": name, "paths": [glob], "columns": {"source": "source", "url": None}}


def run(spark, tmp: Path, out: Path, stages: list[dict], seed: int = 0, force: list[str] | None = None):
    from corpus.engine.runner import run_pipeline
    from corpus.spec import load_pipeline_dict

    spec = {"name": "t", "output": str(out), "seed": seed, "stages": stages}
    pipeline = load_pipeline_dict(spec, tmp / "p.yaml")
    return run_pipeline(spark, pipeline, force=force or [], progress=False)


def rows(folder: Path, columns: str, where: str = "true") -> list[tuple]:
    import duckdb

    return (
        duckdb.connect()
        .sql(f"select {columns} from read_parquet('{folder}/part-*.parquet') where {where} order by id")
        .fetchall()
    )


def removed(folder: Path) -> list[tuple]:
    import duckdb

    files = list((folder / "_removed").glob("part-*.parquet"))
    if not files:
        return []
    return (
        duckdb.connect()
        .sql(f"select id, reason from read_parquet('{folder}/_removed/part-*.parquet') order by id")
        .fetchall()
    )


def rng_docs(n: int, seed: int) -> dict[str, list]:
    """``n`` web documents with two known float32 scores and token counts 1..400."""
    rng = np.random.default_rng(seed)
    return {
        "id": [f"d{i:05d}" for i in range(n)],
        "text": [f"document {i}" for i in range(n)],
        "source": ["web"] * n,
        "score_a": pa.array(rng.random(n).astype(np.float32)),
        "score_b": pa.array((rng.random(n) * 5).astype(np.float32)),
        "n_tokens": pa.array(rng.integers(1, 400, n).astype(np.int32)),
    }
