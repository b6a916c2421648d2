"""corpus.text.trafilatura_fast: the stand-ins select exactly what trafilatura's XPaths select,
element for element, on real pages, and extraction gives the same text with and without them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml.html import fromstring
from trafilatura import external, xpaths
from trafilatura.utils import load_html

from corpus.text import trafilatura_fast
from corpus.text.extraction import ExtractOptions, extract_html
from corpus.warc.records import ReadOptions, read_file


def _warc_pages(paths: list[Path]) -> list[str]:
    return [
        row["text"]
        for path in paths
        for row in read_file(str(path), path.name, ReadOptions())
        if row["_reason"] is None and row["text"]
    ]


@pytest.fixture(scope="module")
def real_pages(shared_data: Path, sample_warc: Path) -> list[str]:
    """Every HTML page of the archives under ``../shared/data/warc``, the 181 pages of the
    article extraction benchmark, and the project's sample crawl."""
    archives = sorted(
        p
        for p in (shared_data / "warc").rglob("*")
        if p.is_file() and (".warc" in p.name or ".arc" in p.name) and not p.name.endswith(".bad")
    )
    bench = shared_data / "extraction" / "article_extraction_benchmark" / "pages.warc.gz"
    pages = _warc_pages([*archives, bench, sample_warc])
    assert len(pages) >= 500
    return pages


def _contexts(tree) -> list:
    """The root, and subtrees as trafilatura's later passes hand them over (body, its divs)."""
    body = tree.find(".//body")
    return [tree, *([body, *body.findall(".//div")[:5]] if body is not None else [])]


def test_all_stand_ins_are_installed():
    """A trafilatura upgrade that reshapes these XPaths leaves its own in place; this says so."""
    assert trafilatura_fast.installed() == {
        "OVERALL_DISCARD_XPATH[0]": True,
        "OVERALL_DISCARD_XPATH[1]": True,
        "stoplist": True,
    }


def test_stand_ins_select_the_same_elements_on_real_pages(real_pages):
    originals = trafilatura_fast._ORIGINAL
    stand_ins = list(xpaths.OVERALL_DISCARD_XPATH)
    compared = selected = 0
    for html in real_pages:
        tree = load_html(html)
        if tree is None:
            continue
        for context in _contexts(tree):
            for original, stand_in in zip(originals, stand_ins, strict=True):
                want = original(context)
                assert stand_in(context) == want
                compared += 1
                selected += len(want)
    print(f"{compared} XPath evaluations on {len(real_pages)} pages, {selected} elements selected")
    assert selected > 1000  # the rules fire on real pages: the comparison is not vacuous


def test_attribute_order_roles_and_context_follow_xpath_semantics():
    """``@id|@class`` is the first of the two in source order; ``role`` is matched after
    upper-case N -> n; the context node itself is never selected; missing attributes are ''."""
    html = """<html><body><div class="cookie">
      <div id="x" class="cookie-bar">a</div><div class="x" id="cookie">b</div>
      <span class="reply-to" id="main">c</span><span id="reply-1" class="main">d</span>
      <p role="NAVIGATION">e</p><p role="navigation">f</p><section style="display: none">g</section>
      <div id="hidden-thing">h</div><div style="hidden" id="plain">i</div><div aria-hidden="true">j</div>
      <div data-lp-replacement-content="">k</div><div data-component="XMostPopularStories">l</div>
      <p class="sidebar">m</p><p id="sidebar">n</p><article class="sidebar">o</article>
      <div>plain</div></div></body></html>"""
    root = fromstring(html)
    outer = root.find(".//div")
    for original, stand_in in zip(trafilatura_fast._ORIGINAL, xpaths.OVERALL_DISCARD_XPATH, strict=True):
        for context in (root, outer):
            want = original(context)
            assert want  # each expression selects something here
            assert stand_in(context) == want
    assert outer not in xpaths.OVERALL_DISCARD_XPATH[0](outer)


def test_extraction_is_the_same_with_and_without_the_stand_ins(real_pages):
    options = ExtractOptions(with_metadata=False)
    pages = real_pages[::2]
    fast = [extract_html(html, None, options) for html in pages]
    trafilatura_fast.uninstall()
    try:
        assert trafilatura_fast.installed() == dict.fromkeys(trafilatura_fast.installed(), False)
        stock = [extract_html(html, None, options) for html in pages]
    finally:
        trafilatura_fast.install()
    assert fast == stock
    assert sum(1 for e in fast if getattr(e, "text", None)) >= len(pages) // 2


def test_stoplist_is_the_same_tuple_with_a_kept_hash():
    words = external.JT_STOPLIST
    assert isinstance(words, trafilatura_fast._HashedStoplist)
    assert words == tuple(words) and hash(words) == hash(tuple(words))
    assert len(words) > 100_000
    json.dumps(list(words[:3]))  # still a plain sequence of strings
