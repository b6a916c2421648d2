"""User mistakes end as one clear line on stderr and exit code 2 — never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def corpus_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "corpus.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "p.yaml"
    p.write_text(text)
    return p


def assert_one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


GOOD_HEAD = "name: t\noutput: {out}\nstages:\n"


@pytest.mark.parametrize(
    "body, needles",
    [
        ("name: t\noutput: x\nstages: [\n", ("p.yaml", "invalid YAML", "line")),
        (GOOD_HEAD + "  - kind: nope\n", ("p.yaml", "stage 0", "unknown stage kind 'nope'")),
        (
            GOOD_HEAD + "  - kind: warc\n    paths: [x.warc]\n  - kind: langid\n    min_score: high\n",
            ("p.yaml", "stage 1 (langid)", "min_score"),
        ),
        (
            GOOD_HEAD + "  - kind: warc\n    paths: [x.warc]\n    colour: blue\n",
            ("p.yaml", "stage 0 (warc)", "colour", "unknown field"),
        ),
        (
            GOOD_HEAD + "  - kind: langid\n    inputs: [nowhere/dataset]\n",
            ("langid", "nowhere/dataset", "no committed dataset"),
        ),
        (
            GOOD_HEAD + "  - kind: extract\n    inputs: [later]\n",
            ("stage 0 (extract)", "'later'", "not an earlier stage"),
        ),
        ("output: x\nstages: []\n", ("p.yaml", "name", "required")),
    ],
    ids=[
        "malformed-yaml",
        "unknown-kind",
        "wrong-type",
        "unknown-field",
        "missing-input",
        "bad-input-ref",
        "missing-name",
    ],
)
def test_run_rejects_bad_pipeline(tmp_path, body, needles):
    p = write(tmp_path, body.format(out=tmp_path / "out"))
    assert_one_line_error(corpus_cli("run", str(p), cwd=tmp_path), *needles)


def test_validate_reports_the_same_errors(tmp_path):
    p = write(
        tmp_path, GOOD_HEAD.format(out="o") + "  - kind: warc\n    paths: [a]\n    max_record_bytes: -1\n"
    )
    assert_one_line_error(corpus_cli("validate", str(p), cwd=tmp_path), "stage 0 (warc)", "max_record_bytes")


def test_missing_pipeline_file(tmp_path):
    assert_one_line_error(corpus_cli("run", "absent.yaml", cwd=tmp_path), "absent.yaml", "not found")


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should go")
    (tmp_path / "x.warc").write_bytes(b"")  # the input exists: the plan passes, the write probe fails
    p = write(tmp_path, GOOD_HEAD.format(out=blocker / "out") + "  - kind: warc\n    paths: [x.warc]\n")
    assert_one_line_error(corpus_cli("run", str(p), cwd=tmp_path), "not writable")


def test_unknown_only_stage(tmp_path):
    p = write(tmp_path, GOOD_HEAD.format(out=tmp_path / "o") + "  - kind: warc\n    paths: [x.warc]\n")
    assert_one_line_error(corpus_cli("run", str(p), "--only", "nope", cwd=tmp_path), "no stage named 'nope'")


def test_validate_ok(repo_root):
    # web.yaml reads data/sample/ (built by `make sample`): validated in test_plan_errors.py
    r = corpus_cli("validate", "pipelines/tokens.yaml", cwd=repo_root)
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout
