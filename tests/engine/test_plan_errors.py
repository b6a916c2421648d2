"""Missing and unmatched input files are caught at plan time (issue 10): `corpus validate`,
`corpus run --dry-run` and `corpus run` exit 2 with one line naming the pipeline file, stage,
field and path tried, before Spark starts, and leave no output folder behind."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # CLI subprocesses (no Spark)

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "corpus.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def one_line_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


GLOB = ("paths: [data/*.warc.gz]", ("field 'paths'", "no file matches", "data/*.warc.gz"))
MANIFEST = ("manifest: lists/crawl.txt", ("field 'manifest'", "file not found", "lists/crawl.txt"))


@pytest.mark.parametrize(
    "command, stage, needles",
    [(["validate"], *GLOB), (["run", "--dry-run"], *GLOB), (["run"], *GLOB), (["run"], *MANIFEST)],
    ids=["validate-unmatched-glob", "dry-run-unmatched-glob", "run-unmatched-glob", "run-missing-manifest"],
)
def test_missing_input_is_one_line_and_creates_nothing(tmp_path, stage, needles, command):
    (tmp_path / "p.yaml").write_text(f"name: t\noutput: out\nstages:\n  - kind: warc\n    {stage}\n")
    line = one_line_error(cli(*command, "p.yaml", cwd=tmp_path), "p.yaml: stage 0 (warc)", *needles)
    assert str(tmp_path) in line  # the path tried, absolute
    assert "relative paths resolve against the working directory" in line
    assert not (tmp_path / "out").exists()


def test_bundled_pipeline_before_make_sample_and_from_elsewhere(tmp_path):
    """web.yaml run before `make sample`: the hint says how to build the sample; run from
    another directory: the manifest path tried shows where relative paths went."""
    elsewhere = cli("validate", str(ROOT / "pipelines" / "web.yaml"), cwd=tmp_path)
    one_line_error(
        elsewhere, "stage 0 (warc)", "field 'manifest'", str(tmp_path / "manifests" / "sample_web.txt")
    )

    (tmp_path / "pipelines").mkdir()
    shutil.copy(ROOT / "pipelines" / "web.yaml", tmp_path / "pipelines")
    shutil.copytree(ROOT / "manifests", tmp_path / "manifests")
    shutil.copytree(ROOT / "classifiers", tmp_path / "classifiers")  # the score stage's models
    for command in (["validate"], ["run", "--dry-run"], ["run"]):
        r = cli(*command, "pipelines/web.yaml", cwd=tmp_path)
        one_line_error(r, "data/sample/sample.warc.gz", "make sample")
    assert not (tmp_path / "out").exists()

    sample = tmp_path / "data" / "sample" / "sample.warc.gz"
    subprocess.run([sys.executable, "-m", "corpus.sample", "--out", str(sample)], check=True, cwd=ROOT)
    ok = cli("validate", "pipelines/web.yaml", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "ok" in ok.stdout
