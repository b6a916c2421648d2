"""User mistakes around classifiers: one clear line and exit code 2, before any data is read."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # subprocesses


def _corpus(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "corpus.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _pipeline(tmp_path: Path, stage: dict) -> Path:
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "a", "text": "hello"}\n')
    spec = {
        "name": "t",
        "output": str(tmp_path / "out"),
        "stages": [{"kind": "dataset", "name": "docs", "paths": [str(docs)]}, stage],
    }
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(spec))
    return p


@pytest.mark.parametrize(
    "stage",
    [
        {"kind": "score", "classifiers": {"q": "classifiers/does_not_exist"}},
        {"kind": "score", "inputs": {"input": "docs", "model": "classifiers/does_not_exist"}},
    ],
)
def test_missing_classifier_path_is_one_line_exit_2(tmp_path, stage):
    r = _corpus("validate", str(_pipeline(tmp_path, stage)))
    assert r.returncode == 2, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "does_not_exist" in lines[0], r.stderr
    assert not (tmp_path / "out").exists()


def test_classifier_train_errors_are_one_line(tmp_path):
    r = _corpus("classifier", "train", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "does not exist" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"classifier": {"name": "x", "model": "svm"}, "files": []}))
    r = _corpus("classifier", "train", str(bad), "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and "classifier.model" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    empty = tmp_path / "glob.yaml"
    empty.write_text(
        yaml.safe_dump({"classifier": {"name": "x"}, "files": [{"glob": "/nonexistent/*.html", "label": 1}]})
    )
    r = _corpus("classifier", "train", str(empty), "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and "matches no file" in r.stderr
