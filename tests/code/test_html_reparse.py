"""Code-preserving re-parse (corpus.code.html_code) on real pages with ``<pre>`` blocks, next to
trafilatura's default extraction of the same pages; and the ``code_reparse`` stage's join."""

from __future__ import annotations

import functools
import gzip
import hashlib
import re
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from corpus.code.html_code import (
    LINENO_CLASSES,
    CodeBlock,
    ParseError,
    code_span,
    fenced_blocks,
    reparse,
)

PRE = re.compile(rb"<pre[\s>]", re.I)
WARC_NAME = re.compile(r"\.(?:warc|arc)(?:\.gz|\.lz4)?$")


def real_pages(shared: Path) -> list[tuple[str, str]]:
    """HTML pages with ``<pre>`` under ``warc/`` (read by the project's WARC reader; one copy of
    a page stored in several encodings) and ``extraction/``."""
    from corpus.warc.records import ReadOptions, read_file

    pages, seen = [], set()
    opts = ReadOptions("web", 50 << 20, True)
    for path in sorted(p for p in (shared / "warc").rglob("*") if WARC_NAME.search(p.name)):
        for row in read_file(str(path), path.name, opts):
            text = row["text"]
            if row["_reason"] is None and text and PRE.search(text.encode()):
                digest = hashlib.sha256(text.encode()).hexdigest()
                if digest not in seen:
                    seen.add(digest)
                    pages.append((row["url"], text))
    for path in sorted((shared / "extraction").rglob("*.html.gz")):
        raw = gzip.decompress(path.read_bytes())
        if PRE.search(raw):
            pages.append((path.name, raw.decode("utf-8", "replace")))
    return pages


@functools.cache
def sample_pages() -> list[tuple[str, str]]:
    """The project's sample crawl pages with ``<pre>`` (the HTML ``python -m corpus.sample`` writes)."""
    from corpus.sample.build import plan

    return [(p.url, p.html) for p in plan(0) if "<pre" in p.html]


def pre_texts(html: str) -> list[str]:
    """Text of each outermost ``<pre>`` as the DOM holds it (line-number gutters are not code)."""
    root = lxml_html.document_fromstring(html.encode(), parser=lxml_html.HTMLParser(encoding="utf-8"))
    etree.strip_elements(root, "script", "style", "template", with_tail=False)
    out = []
    for pre in root.iter("pre"):
        nested = any(a.tag == "pre" for a in pre.iterancestors())
        gutter = any(
            set((e.get("class") or "").split()) & LINENO_CLASSES for e in [pre, *pre.iterancestors()]
        )
        if not nested and not gutter:
            out.append("".join(pre.itertext()))
    return out


def lines_in_order(expected: list[str], output: str) -> int:
    """How many ``expected`` lines appear as whole output lines, in order (greedy)."""
    lines = output.split("\n")
    pos = found = 0
    for want in expected:
        try:
            pos = lines.index(want, pos) + 1
            found += 1
        except ValueError:
            continue
    return found


@pytest.fixture(scope="module")
def pages(request) -> list[tuple[str, str]]:
    from tests.conftest import SHARED_DATA

    return (real_pages(SHARED_DATA) if SHARED_DATA.is_dir() else []) + sample_pages()


@pytest.fixture(scope="module")
def parsed(pages):
    return [reparse(html, url) for url, html in pages]


def test_pre_lines_verbatim_in_order_vs_trafilatura(pages, parsed):
    import trafilatura

    from tests.conftest import SHARED_DATA

    if SHARED_DATA.is_dir():
        assert len(pages) > len(sample_pages()), "no real page with <pre> found under ../shared/data"
    total = ours = theirs = 0
    for (url, html), result in zip(pages, parsed, strict=True):
        expected = [ln for text in pre_texts(html) for ln in text.split("\n") if ln.strip()]
        total += len(expected)
        ours += lines_in_order(expected, result.text)
        theirs += lines_in_order(expected, trafilatura.extract(html, url=url) or "")
    assert total > 100
    print(
        f"\n<pre> lines verbatim in order on {len(pages)} pages, {total} non-empty lines: "
        f"reparse {ours} ({ours / total:.1%}), trafilatura.extract {theirs} ({theirs / total:.1%})"
    )
    assert ours / total >= 0.99


def test_fenced_blocks_round_trip(pages, parsed):
    blocks = 0
    for (_, html), result in zip(pages, parsed, strict=True):
        texts = [t.removeprefix("\n").rstrip("\n") for t in pre_texts(html)]
        want = [t for t in texts if t.strip()]
        assert [b.text for b in fenced_blocks(result.text)] == want
        assert [b.text for b in result.blocks] == want
        blocks += len(want)
    assert blocks >= 10


def test_sample_languages_and_prose_order():
    from corpus.sample.text_tech import CODE_PAGES

    url, html = sample_pages()[0]
    page = next(p for p in CODE_PAGES if p["intro"][:40] in html)
    r = reparse(html, url)
    assert [b.lang for b in r.blocks] == [lang for lang, _ in page["blocks"]]
    assert r.text.index(page["intro"][:60]) < r.text.index("```") < r.text.index(page["outro"][:60])
    assert "Privacy policy" not in r.text  # footer links
    assert "Home" not in r.text.split("\n")  # navigation


HIGHLIGHTERS = """<html><body><nav><a href="/">Home</a></nav><main>
<h2>Setup</h2><p>Run <code>pip install x</code> then <kbd>Ctrl</kbd>.</p>
<div class="highlight-python notranslate"><div class="highlight"><pre><span></span><span class="k">def</span> <span class="nf">f</span><span class="p">():</span>
\treturn  1

    <span class="c1"># done</span>
</pre></div></div>
<div class="highlight highlight-source-rust"><pre>fn main() {}</pre></div>
<table class="highlighttable"><tr><td class="linenos"><div class="linenodiv"><pre>1
2</pre></div></td><td class="code"><div class="highlight"><pre>a = 1
b = 2
</pre></div></td></tr></table>
<table class="highlight js-file-line-container"><tr><td class="blob-num" data-line-number="1"></td>
<td class="blob-code">  x := 1</td></tr><tr><td class="blob-num" data-line-number="2"></td><td class="blob-code">\ty()</td></tr></table>
<div class="sourceCode"><pre class="sourceCode haskell"><code>main = print 1</code></pre></div>
<pre class="brush: js; gutter: false">var a = "```";</pre>
<div class="code"><code>if x:<br>&nbsp;&nbsp;&nbsp;&nbsp;y()<br></code></div>
<pre class="rust item-decl"><code>pub struct W<div class="where">where T: Copy</div>{ x }</code></pre>
<p>after</p></main><footer>Privacy policy</footer></body></html>"""


def test_highlighter_markup_languages_and_line_numbers():
    r = reparse(HIGHLIGHTERS)
    assert [(b.lang, b.text) for b in r.blocks] == [
        ("python", "def f():\n\treturn  1\n\n    # done"),
        ("rust", "fn main() {}"),
        (None, "a = 1\nb = 2"),
        (None, "  x := 1\n\ty()"),
        ("haskell", "main = print 1"),
        ("javascript", 'var a = "```";'),
        (None, "if x:\n    y()"),
        ("rust", "pub struct W\nwhere T: Copy\n{ x }"),
    ]
    assert r.inline_code == 2 and "Run `pip install x` then `Ctrl`." in r.text
    assert "## Setup" in r.text and r.text.endswith("after")
    assert "Home" not in r.text and "Privacy" not in r.text
    assert '````javascript\nvar a = "```";\n````' in r.text
    assert fenced_blocks(r.text) == list(r.blocks)
    assert r.languages == ("haskell", "javascript", "python", "rust")


def test_code_span_and_errors():
    assert code_span("a`b") == "``a`b``" and code_span("`x`") == "`` `x` ``"
    assert fenced_blocks("```py\nx\n```") == [CodeBlock("x", "py")]
    wrapped = reparse("<p>Run <code>git\nlog -p</code> now.</p><div><code>a = 1\nb = 2</code></div>")
    assert "Run `git log -p` now." in wrapped.text and [b.text for b in wrapped.blocks] == ["a = 1\nb = 2"]
    with pytest.raises(ParseError):
        reparse("")


def test_stage_joins_html_by_id(spark, tmp_path):
    from corpus import stages
    from corpus.stages.base import REASON, StageContext

    module = stages.load("code_reparse")
    assert set(module.INPUTS) == {"input", "html"}
    pages = spark.createDataFrame(
        [("a", "flat a", "u1"), ("b", "flat b", "u2"), ("c", "flat c", "u3")],
        "id string, text string, url string",
    )
    html = spark.createDataFrame(
        [("a", HIGHLIGHTERS), ("a", "<p>same id again</p>"), ("c", ""), ("z", "<p>not selected</p>")],
        "id string, text string",
    )
    ctx = StageContext(spark, "code_reparse", 0, {"input": pages, "html": html}, Path.cwd(), str(tmp_path))
    out = module.run(ctx, module.Params())
    rows = {r["page_id"]: r.asDict() for r in out.rows.collect()}
    assert out.rows_in == len(rows) == 3 and set(out.rows.columns) == {
        "id",
        "page_id",
        "text",
        "url",
        "code_blocks",
        "code_langs",
        REASON,
    }
    assert (rows["b"][REASON], rows["c"][REASON]) == ("code_reparse:no_html", "code_reparse:no_html")
    a = rows["a"]
    assert (a[REASON], a["url"], a["code_blocks"]) == (None, "u1", 8)
    assert a["code_langs"] == ["haskell", "javascript", "python", "rust"]
    assert a["text"] == reparse(HIGHLIGHTERS).text
    # a re-parsed page is a new document: its own id, the page's id kept beside it
    assert {r["id"] for r in rows.values()} == {module.reparsed_id(k) for k in "abc"}
    assert module.reparsed_id("a") != "a" and len(module.reparsed_id("a")) == 32
