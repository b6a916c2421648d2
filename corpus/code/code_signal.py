"""Code tags in raw HTML: does a page carry code blocks? (GLM-4.5's first retrieval step for
code-related web pages: "pages with HTML code tags".)

Counting rules (:func:`code_tags`):

* A **candidate** is a ``<pre>``, a ``<code>``, a ``<textarea>`` whose class names a language,
  or any element whose ``class`` carries highlighter or code-listing markup (:data:`HIGHLIGHT_CLASSES`, :data:`HIGHLIGHT_PREFIXES`:
  Pygments/Sphinx ``highlight``/``highlight-<lang>``, highlight.js ``hljs``, Prism and
  Markdown renderers ``language-<lang>``/``lang-<lang>``, Google ``prettyprint``, Python-
  Markdown ``codehilite``, pandoc ``sourceCode``, Hugo ``chroma``, AsciiDoc ``listingblock``,
  DocBook ``programlisting``/``screen``/``synopsis``, docutils ``literal-block``,
  SyntaxHighlighter ``brush:``, Rouge, CodeMirror, GitHub ``blob-code``).
* Only **outermost** candidates count (``<div class="highlight"><pre><code>`` is one block).
* A block's **lines** are the non-empty lines of its text; a bare ``<code>`` outside ``<pre>``
  without markup is inline HTML whose source line breaks browsers fold, so its lines are its
  ``<br>`` count + 1. A block **counts** when it has at
  least ``min_lines`` lines, or when it carries highlighter / language markup whatever its
  length (a one-line ``$ git commit`` in a highlighted box is code). An inline ``<code>`` in a
  sentence (one line, no markup) does not count.
* A page has the tag signal when at least ``min_blocks`` blocks count.

A ``<pre>`` of plain text (an e-mail, a poem, Vim's help pages, which are entirely ``<pre>``)
counts too: tags say "formatted like code", the fastText classifier says "about code"; the
tiering that follows ranks the pages. Unparseable HTML has no blocks (never an exception).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

HIGHLIGHT_CLASSES = frozenset(
    {
        "highlight",
        "hljs",
        "prettyprint",
        "codehilite",
        "sourcecode",
        "chroma",
        "listingblock",
        "programlisting",
        "screen",
        "synopsis",
        "literal-block",
        "rouge-code",
        "codemirror",
        "blob-code",
        "code-block",
        "syntaxhighlighter",
        "brush:",
    }
)
"""Class names (lower-cased, whole tokens) of highlighters and code listings."""
HIGHLIGHT_PREFIXES = ("highlight-", "language-", "lang-", "brush:", "sourcecode")
"""Class-name prefixes that name a language (``highlight-python3``, ``language-js``)."""


def marked(cls: str | None) -> bool:
    """Whether a ``class`` attribute carries highlighter / language markup."""
    if not cls:
        return False
    return any(t in HIGHLIGHT_CLASSES or t.startswith(HIGHLIGHT_PREFIXES) for t in cls.lower().split())


_CLASS_NEEDLES = tuple(sorted(HIGHLIGHT_CLASSES | set(HIGHLIGHT_PREFIXES)))
"""Lower-cased substrings of :data:`HIGHLIGHT_CLASSES` / :data:`HIGHLIGHT_PREFIXES`: a page
without any of them in its bytes has no marked element (skips the class scan)."""


@functools.cache
def _xpath(needles: tuple[str, ...]):
    """Candidates in document order: code tags, plus elements whose class contains one of the
    ``needles`` present in the page (:func:`marked` then decides on whole class tokens).
    XPath 1.0 has no lower-case(): the test translates A-Z first."""
    from lxml import etree

    cls = "translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    conds = " or ".join(f"contains({cls}, '{n}')" for n in needles)
    return etree.XPath("//pre | //code | //textarea" + (f" | //*[@class][{conds}]" if conds else ""))


@dataclass(frozen=True)
class CodeTags:
    """What :func:`code_tags` found: ``blocks`` that count, their non-empty ``lines`` in all,
    and how many of them carry highlighter / language markup (``highlighted``)."""

    blocks: int = 0
    lines: int = 0
    highlighted: int = 0


def _is_candidate(el) -> tuple[bool, bool]:
    """``(candidate, marked)`` of one element: marked = highlighter / language class."""
    tag = el.tag if isinstance(el.tag, str) else ""
    m = marked(el.get("class"))
    if tag == "textarea":
        return m, m
    return tag in ("pre", "code") or m, m


def code_tags(html: str | bytes | None, min_lines: int = 2) -> CodeTags:
    """Code blocks of one page under the rules of the module docstring. ``html``: the raw page
    (str or bytes); None, empty or unparseable -> ``CodeTags()``."""
    if not html:
        return CodeTags()
    raw = html.encode("utf-8", "replace") if isinstance(html, str) else html
    low = raw.lower()
    needles = tuple(n for n in _CLASS_NEEDLES if n.encode() in low)
    if not needles and b"<pre" not in low and b"<code" not in low and b"<textarea" not in low:
        return CodeTags()
    from lxml import etree
    from lxml import html as lhtml

    try:
        root = lhtml.document_fromstring(raw)
    except (etree.ParserError, ValueError):
        return CodeTags()
    found = [(el, *_is_candidate(el)) for el in _xpath(needles)(root)]
    seen = {el for el, candidate, _ in found if candidate}
    blocks = lines = highlighted = 0
    for el, candidate, mark in found:
        if not candidate or any(a in seen for a in el.iterancestors()):
            continue
        mark = mark or _marked_inside(el)
        n = _lines(el, mark)
        if n and (n >= min_lines or mark):
            blocks += 1
            lines += n
            highlighted += mark
    return CodeTags(blocks, lines, highlighted)


def _lines(el, mark: bool) -> int:
    """Non-empty lines of a block. A bare ``<code>`` (no ``<pre>``, no markup) is inline HTML:
    browsers fold its source line breaks, so its lines are its ``<br>`` count + 1."""
    text = el.text_content()
    if el.tag == "code" and not mark:
        return (1 + sum(1 for _ in el.iter("br"))) if text.strip() else 0
    return sum(1 for line in text.splitlines() if line.strip())


def _marked_inside(el) -> bool:
    """Whether a descendant of a block carries highlighter / language markup
    (``<pre><code class="language-python">``)."""
    return any(marked(d.get("class")) for d in el.iterdescendants() if isinstance(d.tag, str))
