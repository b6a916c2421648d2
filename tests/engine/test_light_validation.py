"""``corpus validate`` and ``corpus run --dry-run`` stay light: no Spark, torch, transformers,
trafilatura, datatrove ... is imported, and every registered stage module imports cheaply.

Checked in fresh subprocesses (``python -X importtime`` for the commands, ``sys.modules`` for
each stage module), so a heavy import anywhere on the path fails here, and a stage kind added
to :data:`corpus.stages.KINDS` is held to the same rule without touching this file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from corpus import stages

ROOT = Path(__file__).resolve().parents[2]

HEAVY = frozenset(
    {
        "pyspark",
        "torch",
        "transformers",
        "trafilatura",
        "datatrove",
        "fasttext",
        "sentence_transformers",
        "faiss",
        "tokenizers",
        "httpx",
    }
)
"""Top-level packages that must load only inside the functions that use them."""


def imported_packages(importtime_stderr: str) -> set[str]:
    """Top-level package names in ``python -X importtime`` output
    (lines ``import time: <self us> | <cumulative us> | <indented module name>``)."""
    names = set()
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        self_us, _, module = line.removeprefix("import time:").split("|")
        if self_us.strip().isdigit():  # not the header line that names the columns
            names.add(module.strip().split(".")[0])
    return names


def corpus_cli(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``python -X importtime -m corpus.cli *args`` from the repo root; the process and the
    heavy packages it imported. Prints the wall time (``pytest -s`` shows it)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "corpus.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(f"corpus {' '.join(args)}: {time.perf_counter() - start:.2f} s wall")
    return proc, imported_packages(proc.stderr) & HEAVY


def web_pipeline_copy(tmp_path: Path) -> Path:
    """pipelines/web.yaml with its WARC manifest swapped for one small file that exists (the
    sample crawl is built by ``make sample``; validate checks that inputs exist, never reads them)."""
    warc = tmp_path / "tiny.warc.gz"
    warc.write_bytes(b"not read by validate or --dry-run")
    spec = yaml.safe_load((ROOT / "pipelines" / "web.yaml").read_text())
    spec["output"] = str(tmp_path / "out")
    first = spec["stages"][0]
    assert first["kind"] == "warc"
    first.pop("manifest", None)
    first["paths"] = [str(warc)]
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_importtime_parser_finds_top_level_packages():
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       261 |     202704 |   trafilatura\n"
        "import time:      1002 |     819265 |     datatrove.pipeline.filters.c4_filters\n"
        "import time:       377 |     139388 |         httpx2\n"
    )
    assert imported_packages(stderr) == {"trafilatura", "datatrove", "httpx2"}
    assert imported_packages(stderr) & HEAVY == {"trafilatura", "datatrove"}


def test_validate_web_pipeline_imports_no_heavy_package(tmp_path):
    proc, heavy = corpus_cli("validate", str(web_pipeline_copy(tmp_path)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ": ok" in proc.stdout
    assert heavy == set()


def test_validate_tokens_pipeline_imports_no_heavy_package():
    proc, heavy = corpus_cli("validate", "pipelines/tokens.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ": ok" in proc.stdout
    assert heavy == set()


def test_dry_run_imports_no_heavy_package(tmp_path):
    proc, heavy = corpus_cli("run", "--dry-run", str(web_pipeline_copy(tmp_path)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "not committed" in proc.stdout
    assert heavy == set()
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


@pytest.mark.parametrize("kind", sorted(stages.KINDS))
def test_stage_module_is_cheap_to_import(kind):
    module = stages.KINDS[kind]
    code = (
        "import importlib, json, sys\n"
        f"m = importlib.import_module({module!r})\n"
        "assert hasattr(m, 'Params') and hasattr(m, 'run'), 'a stage module defines Params and run'\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    heavy = set(json.loads(proc.stdout.splitlines()[-1])) & HEAVY
    assert heavy == set(), f"{module} imports {sorted(heavy)} at module level"
