"""code_tags: the counting rules of corpus.code.code_signal on small hand-written pages, and on
a real Sphinx page of the Python documentation when Debian's python3.11-doc is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.code.code_signal import CodeTags, code_tags, marked


def page(body: str) -> str:
    return f"<html><head><title>t</title></head><body>{body}</body></html>"


def test_multi_line_pre_counts_with_its_lines():
    tags = code_tags(page("<p>intro</p><pre>import os\n\nprint(os.sep)\n</pre>"))
    assert tags == CodeTags(blocks=1, lines=2, highlighted=0)


def test_one_line_pre_without_markup_does_not_count_but_lower_min_lines_does():
    html = page("<pre>make install</pre>")
    assert code_tags(html).blocks == 0
    assert code_tags(html, min_lines=1).blocks == 1


def test_inline_code_in_a_sentence_is_not_a_block():
    assert code_tags(page("<p>Call <code>len(x)</code> or <code>x.size</code>.</p>")) == CodeTags()
    # source line breaks inside inline code are folded by browsers (Sphinx wraps long literals)
    assert code_tags(page("<p>Unpack <code>(x, y,\n*rest)</code> like this.</p>")) == CodeTags()


def test_multi_line_code_outside_pre_counts():
    assert code_tags(page("<code>a = 1<br>\nb = 2\n</code>")).blocks == 1


def test_nested_markup_is_one_block_and_counts_as_highlighted():
    html = page(
        '<div class="highlight-python3"><div class="highlight"><pre><code>x = 1\ny = 2</code></pre></div></div>'
    )
    assert code_tags(html) == CodeTags(blocks=1, lines=2, highlighted=1)


def test_highlighted_one_liner_counts():
    tags = code_tags(page('<pre><code class="language-bash">git commit -m msg</code></pre>'))
    assert tags == CodeTags(blocks=1, lines=1, highlighted=1)


def test_highlighter_classes_are_whole_tokens_case_insensitive():
    assert marked("sourceCode python")
    assert marked("brush: js")
    assert marked("hljs")
    assert marked("notranslate highlight-default")
    assert not marked("highlighted-row")
    assert not marked("hreflang-en")
    assert not marked(None)


def test_blocks_are_counted_separately_and_empty_ones_ignored():
    html = page("<pre>a\nb</pre><p>x</p><pre>c\nd\ne</pre><pre>   \n  </pre>")
    assert code_tags(html) == CodeTags(blocks=2, lines=5, highlighted=0)


def test_plain_page_bytes_and_garbage_give_nothing():
    assert code_tags(page("<p>Only prose here.</p>")) == CodeTags()
    assert code_tags(None) == CodeTags()
    assert code_tags("") == CodeTags()
    assert code_tags(b"\x00\x01<pre") == CodeTags()
    assert code_tags(page("<pre>x\ny</pre>").encode()).blocks == 1


PY_TUTORIAL = Path("/usr/share/doc/python3.11/html/tutorial/controlflow.html")


@pytest.mark.skipif(not PY_TUTORIAL.is_file(), reason="Debian python3.11-doc is not installed")
def test_real_sphinx_page_counts_each_example_once():
    from lxml import html as lhtml

    raw = PY_TUTORIAL.read_bytes()
    tags = code_tags(raw)
    examples = lhtml.document_fromstring(raw).xpath("//div[contains(@class, 'highlight-')]//pre")
    assert tags.blocks == len(examples) > 10
    assert tags.highlighted == tags.blocks


def test_code_web_batch_selects_by_tags_or_classifier(repo_root):
    """The stage's batch function (no Spark): tags, the shipped classifier's score, the signal."""
    import pyarrow as pa

    from corpus.stages.code_web import HTML, SELECTED, Params, code_web_batch

    folder = str(repo_root / "classifiers" / "code_web")
    prose = "The village fair opens on Saturday with music, food stalls and a parade for children. " * 5
    code_text = (
        "Use the subprocess module to run a command and capture its output. The function returns a "
        "CompletedProcess instance; check returncode and read stdout as a string. import subprocess "
        "result = subprocess.run(['ls', '-l'], capture_output=True, text=True) print(result.stdout) "
        "Pass check=True to raise CalledProcessError when the command fails. Arguments, keyword "
        "arguments, the return value and exceptions raised are documented in the library reference. "
    ) * 2
    batch = pa.RecordBatch.from_pydict(
        {
            "id": ["a", "b", "c"],
            "text": [prose, prose, code_text],
            "source": ["web"] * 3,
            HTML: [page("<p>fair</p>"), page("<pre>x = 1\ny = 2</pre>"), None],
        }
    )
    out = code_web_batch(batch, (Params(), folder, 0.5))
    assert HTML not in out.schema.names
    assert out.column("code_tag_blocks").to_pylist() == [0, 1, 0]
    scores = out.column("score_code_web").to_pylist()
    assert scores[0] < 0.5 <= scores[2]
    assert out.column("code_signal").to_pylist() == [None, "tags", "classifier"]
    assert out.column(SELECTED).to_pylist() == [False, True, True]
    assert out.column("source").to_pylist() == ["code_web"] * 3
    tags_only = code_web_batch(batch, (Params(classifier=None, source=None), None, float("inf")))
    assert tags_only.column("code_signal").to_pylist() == [None, "tags", None]
    assert tags_only.column("source").to_pylist() == ["web"] * 3
