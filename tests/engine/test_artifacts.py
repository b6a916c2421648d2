"""Artifacts are committed like rows: atomically, listed with sha256, checked by verify,
reproducible, and handed to later stages by role."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from corpus.engine.manifest import read_manifest, verify_dataset
from tests.engine import probes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _probe_kinds():
    probes.register()


def _run(spark, tmp_path: Path, stages: list[dict], out: Path) -> list[dict]:
    from corpus.engine.runner import run_pipeline
    from corpus.spec import load_pipeline_dict

    pipeline = load_pipeline_dict({"name": "t", "output": str(out), "stages": stages}, tmp_path / "p.yaml")
    return run_pipeline(spark, pipeline, progress=False)


def test_artifact_stage_commits_listed_files(spark, tmp_path):
    out = tmp_path / "out"
    _run(spark, tmp_path, [{"kind": "probe_artifact", "name": "model", "content": "w" * 100}], out)
    m = read_manifest(str(out / "model"))
    files = {a["file"]: a for a in m["artifacts"]}
    assert set(files) == {"artifacts/card.json", "artifacts/model/weights.txt"}
    assert (out / "model" / "artifacts" / "model" / "weights.txt").read_text() == "w" * 100
    assert files["artifacts/model/weights.txt"]["bytes"] == 100
    assert m["rows_kept"] == 0 and m["shards"] == [] and m["balanced"] is False
    assert m["metrics"] == {"wrote": 2}
    assert verify_dataset(str(out / "model")) == []
    assert not list(out.glob(".model.*")), "no staging folder left behind"

    # rerun (forced): byte-identical artifacts
    from corpus.engine.runner import run_pipeline
    from corpus.spec import load_pipeline_dict

    p = load_pipeline_dict(
        {
            "name": "t",
            "output": str(out),
            "stages": [{"kind": "probe_artifact", "name": "model", "content": "w" * 100}],
        }
    )
    run_pipeline(spark, p, force=["model"], progress=False)
    again = read_manifest(str(out / "model"))
    assert again["artifacts"] == m["artifacts"]


def test_verify_names_an_altered_missing_or_extra_artifact(spark, tmp_path):
    out = tmp_path / "out"
    _run(spark, tmp_path, [{"kind": "probe_artifact", "name": "model"}], out)
    weights = out / "model" / "artifacts" / "model" / "weights.txt"
    weights.write_text("tampered")
    problems = verify_dataset(str(out / "model"))
    assert len(problems) == 1 and str(weights) in problems[0] and "sha256 differs" in problems[0]
    (out / "model" / "artifacts" / "extra.bin").write_bytes(b"x")
    (out / "model" / "artifacts" / "card.json").unlink()
    text = "\n".join(verify_dataset(str(out / "model")))
    assert "extra.bin: not listed" in text and "card.json: listed in the manifest but missing" in text
    r = subprocess.run(
        [sys.executable, "-m", "corpus.cli", "verify", str(out)], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 1 and "weights.txt" in r.stderr


def test_three_roles_read_by_role(spark, tmp_path):
    out = tmp_path / "out"
    stages = [
        {"kind": "probe_rows", "name": "a", "n": 10},
        {"kind": "probe_rows", "name": "b", "n": 5},
        {"kind": "probe_artifact", "name": "model", "content": "v1"},
        {"kind": "probe_roles", "name": "joined", "inputs": {"docs": "a", "more": "b", "model": "model"}},
        {"kind": "probe_roles", "name": "docs_only", "inputs": {"model": "model", "docs": "a"}},
    ]
    _run(spark, tmp_path, stages, out)
    m = read_manifest(str(out / "joined"))
    assert {(i["role"], i["name"]) for i in m["inputs"]} == {("docs", "a"), ("more", "b"), ("model", "model")}
    assert m["rows_in"] == 8 + 4, "rows in counts the dataset roles only (kept rows of a and b)"
    assert m["rows_kept"] == 12
    import duckdb

    rows = duckdb.sql(f"select distinct weights from '{out}/joined/*.parquet'").fetchall()
    assert rows == [("v1",)]
    assert read_manifest(str(out / "docs_only"))["rows_kept"] == 8

    # a plain folder may stand for an artifact role (e.g. a shipped classifier folder)
    plain = tmp_path / "shipped"
    (plain / "model").mkdir(parents=True)
    (plain / "model" / "weights.txt").write_text("shipped")
    stages = [
        {"kind": "probe_rows", "name": "a", "n": 10},
        {"kind": "probe_roles", "name": "plain", "inputs": {"docs": "a", "model": str(plain)}},
    ]
    _run(spark, tmp_path, stages, out)
    rows = duckdb.sql(f"select distinct weights from '{out}/plain/*.parquet'").fetchall()
    assert rows == [("shipped",)]


@pytest.mark.parametrize(
    "inputs, needle",
    [
        ({"docs": "a"}, "field 'inputs.model': required artifact input is missing"),
        ({"docs": "a", "model": "m", "colour": "a"}, "field 'inputs.colour': unknown role"),
        (["a", "a", "m", "a"], "4 inputs given, the kind takes 3"),
        ({"docs": "a", "model": "later"}, "'later' is not an earlier stage"),
        ({"docs": ["a", "a"], "model": "m"}, "field 'inputs.docs': takes one input, got 2"),
    ],
    ids=["missing-role", "unknown-role", "extra-list-entry", "bad-ref", "two-for-one"],
)
def test_role_mistakes_are_one_line_at_validate(tmp_path, inputs, needle):
    spec = {
        "name": "t",
        "output": str(tmp_path / "out"),
        "stages": [
            {"kind": "probe_rows", "name": "a"},
            {"kind": "probe_artifact", "name": "m"},
            {"kind": "probe_roles", "name": "r", "inputs": inputs},
        ],
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(spec))
    code = (
        "import sys; from tests.engine import probes; probes.register(); "
        f"sys.argv = ['corpus', 'validate', {str(path)!r}]; from corpus.cli import main; main()"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "stage 2 (r)" in lines[0] and needle in lines[0], r.stderr


@pytest.mark.slow
def test_sigkill_during_an_artifact_stage_leaves_nothing_visible(tmp_path):
    out = tmp_path / "out"
    spec = {
        "name": "t",
        "output": str(out),
        "stages": [{"kind": "probe_artifact", "name": "model", "content": "abc", "hold_s": 120}],
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(spec))
    code = (
        "import sys; from tests.engine import probes; probes.register(); "
        f"sys.argv = ['corpus', 'run', {str(path)!r}, '--master', 'local[1]', '--no-progress']; "
        "from corpus.cli import main; main()"
    )
    env = {**os.environ, "CORPUS_DRIVER_MEMORY": "1g"}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.time() + 300
        while not list(out.glob(".model.tmp-*.artifacts/card.json")):
            assert proc.poll() is None, "the run ended before the kill"
            assert time.time() < deadline, "the stage never wrote its artifacts"
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "model").exists(), "a killed stage must not be visible"

    spec["stages"][0]["hold_s"] = 0
    path.write_text(yaml.safe_dump(spec))
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "model" / "_manifest.json").read_text())
    assert [a["file"] for a in m["artifacts"]] == ["artifacts/card.json", "artifacts/model/weights.txt"]
    assert not list(out.glob(".model.*")), "the rerun cleaned the killed run's staging folders"
    assert verify_dataset(str(out / "model")) == []


@pytest.mark.parametrize(
    "inputs, needle",
    [
        ({"input": ["html", "a"], "html": "a"}, "'html' is both role 'html' and an input of role 'input'"),
        ({"input": ["a", "a"], "html": "html"}, "'a' is given twice"),
    ],
    ids=["ref-named-like-a-role", "ref-twice"],
)
def test_inputs_that_would_shadow_each_other_are_refused(inputs, needle):
    """Inputs of a ``many`` role are keyed by ref in ``StageContext.inputs``, others by role:
    a clash would hand the stage one dataset in place of another, silently."""
    from types import SimpleNamespace

    from corpus.spec import SpecError, _bind
    from corpus.stages.base import Role

    roles = {"input": Role("dataset", required=False, many=True), "html": Role("dataset", required=False)}
    before = [SimpleNamespace(name="a"), SimpleNamespace(name="html")]
    with pytest.raises(SpecError, match=re.escape(needle)):
        _bind("stage 2 (r)", inputs, roles, before)
    assert _bind("stage 2 (r)", {"input": ["a", "html"]}, roles, before) == [
        ("input", "a"),
        ("input", "html"),
    ]
