"""The runner end to end on the sample crawl: manifests balance, reruns skip, verify catches damage."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq

from corpus.engine.manifest import read_manifest, verify_dataset
from tests.engine.conftest import FINAL
from tests.engine.conftest import WEB_STAGES as STAGES


def test_every_stage_committed_and_balanced(web_reference):
    """Every stage reads all of its input (rows in == the input stage's kept rows, following
    each manifest's ``input`` role: the code-web branch reads langid beside the prose path);
    balanced stages hold in == kept + removed, the one branch stage in == selected + not
    selected."""
    _, out = web_reference
    for name in STAGES:
        m = read_manifest(str(out / name))
        assert m is not None, name
        if m.get("balanced", True):
            assert m["rows_in"] == m["rows_kept"] + m["rows_removed"], name
        else:
            sel = m["metrics"]
            assert (
                m["rows_in"] == sel["selected"] + sel["not_selected"] and m["rows_kept"] == sel["selected"]
            ), name
        assert sum(m["removed_by_reason"].values()) == m["rows_removed"]
        upstream = [i["name"] for i in m.get("inputs", []) if i["role"] == "input"]
        if upstream:
            expect = sum(read_manifest(str(out / u))["rows_kept"] for u in upstream)
            assert m["rows_in"] == expect, f"{name} did not read all of its input {upstream}"
        assert verify_dataset(str(out / name)) == []
        kept = sum(pq.ParquetFile(out / name / s["file"]).metadata.num_rows for s in m["shards"])
        assert kept == m["rows_kept"]
    warc = read_manifest(str(out / "warc"))
    assert warc["rows_in"] >= 300 and warc["rows_removed"] > 0  # sample has revisits and non-HTML
    assert read_manifest(str(out / "heuristics"))["inputs"][0]["name"] == "langid"


def test_removed_rows_carry_reasons(web_reference):
    import duckdb

    _, out = web_reference
    for name in STAGES:
        m = read_manifest(str(out / name))
        if not m["rows_removed"]:
            continue
        sql = f"select count(*) from read_parquet('{out / name}/_removed/*.parquet') where reason is null"
        assert duckdb.connect().sql(sql).fetchall() == [(0,)]


def test_rerun_skips_committed_stages(spark, web_reference):
    from corpus.engine.runner import plan, run_pipeline
    from corpus.spec import load_pipeline

    yaml_path, out = web_reference
    before = {n: read_manifest(str(out / n))["finished"] for n in STAGES}
    p = load_pipeline(yaml_path)
    assert [i.action for i in plan(p, str(out))] == ["skip"] * len(STAGES)
    results = run_pipeline(spark, p, progress=False)
    assert [r["status"] for r in results] == ["skipped"] * len(STAGES)
    assert {n: read_manifest(str(out / n))["finished"] for n in STAGES} == before
    forced = plan(p, str(out), force=["langid"])
    k = STAGES.index("langid")
    assert [i.action for i in forced] == ["skip"] * k + ["run"] * (len(STAGES) - k)


def test_verify_detects_deleted_and_altered_shards(web_reference, tmp_path):
    import shutil

    _, out = web_reference
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    ok = subprocess.run(
        [sys.executable, "-m", "corpus.cli", "verify", str(copy)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr

    shard = copy / "langid" / "part-00000.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    (copy / "extract" / "part-00000.parquet").unlink()
    bad = subprocess.run(
        [sys.executable, "-m", "corpus.cli", "verify", str(copy)], capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "langid/part-00000.parquet" in bad.stderr and "sha256" in bad.stderr
    assert "extract/part-00000.parquet" in bad.stderr and "missing" in bad.stderr


def test_inspect_reads_with_duckdb(web_reference):
    _, out = web_reference
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "corpus.cli",
            "inspect",
            str(out / "langid"),
            "--sql",
            "select lang, count(*) n from data group by 1",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "en" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "corpus.cli", "inspect", str(out / "warc"), "--removed"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "removed by reason" in r.stdout


def test_manifest_is_json_with_provenance(web_reference):
    _, out = web_reference
    m = json.loads((out / "extract" / "_manifest.json").read_text())
    assert m["inputs"][0]["name"] == "warc" and len(m["inputs"][0]["manifest_sha256"]) == 64
    assert m["engine"]["name"] == "spark" and m["config_hash"]
    assert all(len(s["sha256"]) == 64 for s in m["shards"])


def test_report_prints_funnel_and_plots(web_reference, tmp_path):
    _, out = web_reference
    png = tmp_path / "funnel.png"
    r = subprocess.run(
        [sys.executable, "-m", "corpus.cli", "report", str(out), "--png", str(png)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "heuristics" in r.stdout and f"languages of {FINAL}" in r.stdout
    assert "minhash: duplicate clusters by size: 2:" in r.stdout  # the sample has near-duplicates
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
