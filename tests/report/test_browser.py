"""The demo report in a real browser: headless Chromium opens the page `corpus report` wrote
for the whole web pipeline on the bundled sample, with no console message, no network
request, every chart decoded, every stage of the run shown, and per-stage counts equal to
what DuckDB counts in the shards. Screenshots land in the test's tmp dir (``browser/``)."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest

from tests.engine.conftest import ROOT, WEB_STAGES
from tests.report.browser import chromium_paths, render

PROBE = """
const cells = tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim());
return {
  sections: [...document.querySelectorAll('section')].map(s => s.id),
  charts: [...document.querySelectorAll('figure.chart')].map(f => {
    const img = f.querySelector('img');
    return {name: f.dataset.chart, complete: img.complete, width: img.naturalWidth, shown: img.clientWidth};
  }),
  funnel: [...document.querySelectorAll('table.funnel tbody tr')].map(tr => ({stage: tr.dataset.stage, cells: cells(tr)})),
  reasons: [...document.querySelectorAll('table.reasons tbody tr')].map(tr => cells(tr)),
  samples: [...document.querySelectorAll('#samples details')].map(d => [d.dataset.stage, d.dataset.reason]),
};
"""


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def _duckdb_counts(out, stage: str) -> tuple[int, int, dict[str, int]]:
    """(kept, removed, removed per reason group) counted by DuckDB over the stage's shards."""
    con = duckdb.connect()
    kept = con.sql(f"select count(*) from read_parquet('{out / stage}/part-*.parquet')").fetchall()[0][0]
    removed_glob = out / stage / "_removed"
    if not list(removed_glob.glob("part-*.parquet")):
        return kept, 0, {}
    by_reason = dict(
        con.sql(
            "select regexp_replace(reason, '^(.*_of):.*$', '\\1'), count(*) "
            f"from read_parquet('{removed_glob}/part-*.parquet') group by 1"
        ).fetchall()
    )
    return kept, sum(by_reason.values()), by_reason


def test_demo_report_renders_in_headless_chromium(web_reference, tmp_path):
    if chromium_paths() is None:
        pytest.skip(
            "chromium and chromium-driver are not installed (make setup installs them as root on Debian)"
        )
    _, out = web_reference
    html_path = tmp_path / "report.html"
    r = subprocess.run(
        [sys.executable, "-m", "corpus.cli", "report", str(out), "--html", str(html_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"report: {html_path}" in r.stdout

    page = render(html_path.as_uri(), PROBE, tmp_path / "browser")
    assert page.console == [], page.console
    assert [u for u in page.requests if u.split(":")[0] in ("http", "https", "ws", "wss", "ftp")] == []
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in page.screenshots)
    data = page.data

    # every chart the sample's stages call for is on the page and was decoded by the browser
    charts = {c["name"]: c for c in data["charts"]}
    assert {"funnel", "reasons", "time", "languages", "clusters"} <= set(charts)
    assert all(c["complete"] and c["width"] > 0 and c["shown"] > 0 for c in data["charts"]), data["charts"]
    assert {"funnel", "reasons", "time", "languages", "clusters", "samples"} <= set(data["sections"])

    # every stage of the run, in pipeline order, with counts equal to DuckDB's over the shards
    assert [row["stage"] for row in data["funnel"]] == WEB_STAGES
    kept_of: dict[str, int] = {}
    for row in data["funnel"]:
        stage, kind, rows_in, kept, removed = row["cells"][:5]
        db_kept, db_removed, _ = _duckdb_counts(out, stage)
        assert (_int(kept), _int(removed)) == (db_kept, db_removed), stage
        manifest = json.loads((out / stage / "_manifest.json").read_text())
        if manifest.get("balanced", True):
            assert _int(rows_in) == db_kept + db_removed, stage
        upstream = [i["name"] for i in manifest["inputs"] if i["role"] == "input"]
        if upstream:  # each stage reads all of its input (the code-web branch reads langid)
            assert _int(rows_in) == sum(kept_of[u] for u in upstream), stage
        kept_of[stage] = db_kept

    # removal reasons on the page equal DuckDB's group-by over each _removed folder
    page_reasons: dict[str, dict[str, int]] = {}
    for stage, reason, rows, *_ in data["reasons"]:
        page_reasons.setdefault(stage, {})[reason] = _int(rows)
    db_reasons = {s: _duckdb_counts(out, s)[2] for s in WEB_STAGES}
    assert page_reasons == {s: r for s, r in db_reasons.items() if r}

    # a kept sample of the final stage and removed samples for every reason
    assert data["samples"][0] == [WEB_STAGES[-1], "kept"]
    assert {(s, r) for s, r in data["samples"][1:]} == {(s, r) for s, rs in db_reasons.items() for r in rs}
