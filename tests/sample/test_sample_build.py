"""The bundled sample WARC: deterministic, large and varied enough for the demo and the tests."""

from __future__ import annotations

import re
from collections import Counter

from corpus.sample.build import main, plan, write
from corpus.stages.base import REASON
from corpus.warc.paths import read_manifest
from corpus.warc.records import ReadOptions, read_file


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = tmp_path / "a" / "s.warc.gz", tmp_path / "b" / "s.warc.gz", tmp_path / "c" / "s.warc.gz"
    write(a, seed=0)
    write(b, seed=0)
    write(c, seed=1)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_sample_has_the_variety_the_pipeline_needs(tmp_path):
    out = tmp_path / "sample.warc.gz"
    assert main(["--out", str(out)]) == 0
    rows = list(read_file(str(out), "sample.warc.gz", ReadOptions()))
    reasons = Counter(r[REASON] for r in rows)
    responses = [r for r in rows if r["warc_type"] == "response"]
    assert len(responses) >= 300 and reasons[None] >= 300
    for reason in ("warc:revisit", "warc:non_html", "warc:not_response", "warc:http_status"):
        assert reasons[reason] > 0, reason
    kinds = Counter(p.kind for p in plan(0))
    for kind in (
        "article",
        "exact_duplicate",
        "near_duplicate",
        "boilerplate_heavy",
        "spam",
        "code",
        "math_science",
        "forum",
    ):
        assert kinds[kind] > 0, kind
    assert sum(v for k, v in kinds.items() if k.startswith("template_")) >= 100
    langs = {p.lang for p in plan(0)}
    assert {"en", "zh", "de", "fr", "ja"} <= langs and len(langs) >= 10

    kept = {r["url"]: r["text"] for r in rows if r[REASON] is None}
    pages = {p.url: p for p in plan(0)}
    # every kept page decodes to exactly the HTML the generator wrote, whatever its charset/coding
    assert all(kept[url] == pages[url].html for url in kept)
    assert {r["charset"] for r in rows if r[REASON] is None} >= {"utf-8", "cp932", "gb18030", "cp1251"}
    texts = Counter(kept.values())
    assert max(texts.values()) >= 2  # exact duplicates
    assert any("<pre><code" in t for t in kept.values())
    assert any(re.search(r"\\\(|<math", t) for t in kept.values())


def test_scale_multiplies_pages_under_new_urls(tmp_path):
    out = tmp_path / "big.warc.gz"
    write(out, scale=3)
    rows = [r for r in read_file(str(out), "big", ReadOptions()) if r[REASON] is None]
    assert len(rows) == 3 * len([p for p in plan(0) if p.status.startswith("200")])
    assert len({r["url"] for r in rows}) == len(rows)


def test_manifest_points_at_the_sample(repo_root):
    (entry,) = read_manifest(str(repo_root / "manifests" / "sample_web.txt"))
    assert entry == str(repo_root / "data" / "sample" / "sample.warc.gz")
