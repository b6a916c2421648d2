"""Code-preserving re-parse of an HTML page: prose in reading order, every code block verbatim.

Generic main-text extractors (trafilatura, jusText, readability) flatten ``<pre>`` blocks or
drop them as boilerplate. GLM-4.5 re-parses the code-related web pages it selects "with a
fine-grained parser that keeps code formatting and content"; this module is that parser, on
lxml's HTML parser (libxml2), reading code text straight from the DOM.

Rules, in order:

1. **Parse** with ``lxml.html`` (UTF-8 bytes, so an XML encoding declaration is harmless);
   input lxml cannot parse (empty, no elements) raises :class:`ParseError`.
2. **Strip** comments, processing instructions and ``script``, ``style``, ``noscript``,
   ``template``, ``head`` (their tails stay).
3. **Boilerplate**: ``nav``, ``aside``, ``form``, ``button``, ``select``, ``iframe``, ``svg``,
   ``dialog``; page-level ``header`` / ``footer`` (not inside ``article``, ``main`` or
   ``section``); elements with role ``navigation`` / ``banner`` / ``contentinfo`` /
   ``complementary`` / ``search``, the ``hidden`` attribute or ``display:none``; elements whose
   class or id has a part (split on ``-`` / ``_``) in :data:`BOILERPLATE_PARTS` (``sidebar``,
   ``cookie``, ``breadcrumb``, ``newsletter``, ``share`` ...); Sphinx's ``¶`` anchors
   (``a.headerlink``). An element holding a ``<pre>`` is never removed: code is not boilerplate.
4. **Main content**: the single ``<main>`` (or ``role=main``) element if it holds every
   ``<pre>`` of the page, else the single ``<article>`` if it does, else ``<body>``.
5. **Code blocks**, emitted verbatim (never whitespace-collapsed):

   * ``<pre>``, ``<xmp>``, ``<listing>`` with everything inside (highlighter ``<span>`` markup
     adds no text; ``<br>`` is a line break; text before and after a block-level child is on
     its own lines, as a browser shows it);
   * a ``<code>`` (``kbd``, ``samp``, ``tt``) outside ``<pre>`` that holds a ``<br>``
     (``<br>``-separated code; there ``&nbsp;`` indentation becomes spaces), or has
     ``white-space: pre`` (on it or its parent), or has line breaks inside its text and is the
     only content of its parent (a ``<code>`` in a sentence whose HTML source wraps stays inline);
   * a line-numbered ``<table>`` (Pygments ``highlighttable``, Chroma ``lntable``, Rouge,
     GitHub ``blob-num`` rows, highlight.js ``hljs-ln``, Hexo ``figure.highlight``): one line
     per row, the code cells' text;

   line-number gutters (:data:`LINENO_CLASSES`: ``linenos``, ``lnt``, ``gutter``,
   ``blob-num`` ...) are removed from code. Following the HTML spec, one line feed right after
   ``<pre>`` is dropped; line feeds at the end of a block are dropped (the closing fence ends
   the last line); a block with only whitespace is skipped.
6. **Language hint** of a block: the first match on the block element, then its first
   ``<code>`` child, then up to four ancestors, of ``data-lang`` / ``data-language``, class
   ``language-x`` / ``lang-x``, ``highlight-source-x`` (GitHub), ``highlight-x`` (Sphinx),
   ``sourceCode x`` (pandoc), ``brush: x`` (SyntaxHighlighter), ``figure.highlight x`` (Hexo),
   and on ``<pre>`` / ``<code>`` a bare class naming a language (:data:`BARE_LANGS`: rustdoc's
   ``pre.rust``, GeSHi's ``pre.php``); lower-cased, aliases folded (:data:`LANG_ALIASES`),
   non-languages (``text``, ``none``, ``default`` ...) ignored.
7. **Inline code** (``<code>``, ``<kbd>``, ``<samp>``, ``<tt>`` outside a block) stays in its
   sentence as a Markdown code span: its text with line breaks as spaces, between backtick runs
   one longer than the longest run inside (a space inside each side when it starts or ends
   with a backtick).
8. **Prose**: whitespace collapsed; block elements (``p``, ``div``, ``li``, ``tr`` ...) are
   paragraphs separated by a blank line, ``<br>`` a line break; headings get Markdown ``#``
   marks, list items ``- `` (indented two spaces per nesting level), table cells `` | ``.

**Output format.** Paragraphs and code blocks in document order, separated by one blank line.
A code block is a Markdown fenced block at column 0::

    ```python
    <block text, verbatim>
    ```

The fence is three backticks, or one more than the longest backtick run inside the block, so
no line of the block can close it; the info string is the language (empty when unknown).
:func:`fenced_blocks` reads the blocks back: each equals the block text exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

STRIP_TAGS = ("script", "style", "noscript", "template", "head")
BOILERPLATE_TAGS = frozenset({"nav", "aside", "form", "button", "select", "iframe", "svg", "dialog"})
PAGE_LEVEL_TAGS = frozenset({"header", "footer"})
CONTENT_TAGS = frozenset({"article", "main", "section"})
BOILERPLATE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
BOILERPLATE_PARTS = frozenset(
    {
        "nav",
        "navbar",
        "navigation",
        "menu",
        "sidebar",
        "sphinxsidebar",
        "breadcrumb",
        "breadcrumbs",
        "cookie",
        "cookies",
        "consent",
        "newsletter",
        "share",
        "sharing",
        "social",
        "related",
        "advert",
        "advertisement",
        "ads",
        "sponsored",
        "footer",
        "popup",
        "skiplink",
    }
)
"""Class / id parts that mark boilerplate (``site-nav``, ``cookie-banner``, ``share_box`` ...)."""
LINENO_CLASSES = frozenset(
    {
        "linenos",
        "lineno",
        "linenodiv",
        "linenumber",
        "line-number",
        "line-numbers-rows",
        "lnt",
        "ln",
        "gutter",
        "rouge-gutter",
        "blob-num",
        "hljs-ln-numbers",
        "hljs-ln-n",
    }
)
"""Line-number gutters of Pygments, Chroma (Hugo), Rouge, Hexo, GitHub, highlight.js, Prism."""
CODE_TABLE_CLASSES = frozenset({"highlighttable", "lntable", "rouge-table", "hljs-ln", "highlight"})
BLOCK_CODE_TAGS = frozenset({"pre", "xmp", "listing"})
INLINE_CODE_TAGS = frozenset({"code", "kbd", "samp", "tt"})
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
HEADINGS = {f"h{n}": n for n in range(1, 7)}
NOT_LANGUAGES = frozenset(
    {"none", "text", "txt", "plain", "plaintext", "default", "nohighlight", "no-highlight", "output", "raw"}
)
LANG_ALIASES = {
    "py": "python",
    "py3": "python",
    "python3": "python",
    "ipython3": "python",
    "pycon": "python",
    "js": "javascript",
    "jsx": "javascript",
    "ts": "typescript",
    "tsx": "typescript",
    "sh": "bash",
    "shell": "bash",
    "zsh": "bash",
    "c++": "cpp",
    "cxx": "cpp",
    "cs": "csharp",
    "c#": "csharp",
    "golang": "go",
    "rs": "rust",
    "rb": "ruby",
    "kt": "kotlin",
    "yml": "yaml",
}
BARE_LANGS = frozenset(
    {
        "python",
        "rust",
        "java",
        "javascript",
        "typescript",
        "cpp",
        "csharp",
        "go",
        "ruby",
        "php",
        "bash",
        "shell",
        "sql",
        "html",
        "css",
        "xml",
        "json",
        "yaml",
        "kotlin",
        "swift",
        "scala",
        "haskell",
        "perl",
        "lua",
        "matlab",
        "julia",
        "console",
        "powershell",
        "dockerfile",
    }
)
"""Class names taken as a language on their own on ``<pre>`` / ``<code>`` (rule 6)."""
LANG_CLASS = re.compile(r"^(?:language|lang|highlight-source|highlight)-([\w+#.-]+)$")
BRUSH = re.compile(r"brush:\s*([\w+#.-]+)")
LANG_OK = re.compile(r"^[a-z0-9_+#.-]{1,32}$")
FENCE_LINE = re.compile(r"^(`{3,})([^`\n]*)$")
SPACES = re.compile(r"\s+")
INVISIBLE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]*")
BACKTICKS = re.compile(r"`+")


class ParseError(ValueError):
    """The input is not a parseable HTML document (empty, or no elements)."""


@dataclass(frozen=True)
class CodeBlock:
    text: str
    """The block's text exactly as fenced (rules 5 of the module docstring)."""
    lang: str | None = None


@dataclass(frozen=True)
class Reparsed:
    """A re-parsed page: ``text`` (prose + fenced code, see the module docstring), its code
    blocks in order and the number of inline code spans."""

    text: str
    blocks: tuple[CodeBlock, ...]
    inline_code: int

    @property
    def code_blocks(self) -> int:
        return len(self.blocks)

    @property
    def languages(self) -> tuple[str, ...]:
        """Distinct language hints of the blocks, sorted."""
        return tuple(sorted({b.lang for b in self.blocks if b.lang}))


def _classes(el: etree._Element) -> list[str]:
    return (el.get("class") or "").split()


def _is_lineno(el: etree._Element) -> bool:
    return any(c in LINENO_CLASSES for c in _classes(el))


def _normalise_lang(raw: str) -> str | None:
    lang = raw.strip().strip(";:").lower()
    lang = LANG_ALIASES.get(lang, lang)
    return lang if LANG_OK.match(lang) and lang not in NOT_LANGUAGES else None


def _lang_of(el: etree._Element) -> str | None:
    """The language hint one element carries (rule 6), or None."""
    for attr in ("data-lang", "data-language"):
        if el.get(attr) and (lang := _normalise_lang(el.get(attr))):
            return lang
    cls = el.get("class") or ""
    if m := BRUSH.search(cls):
        return _normalise_lang(m.group(1))
    tokens = cls.split()
    for tok in tokens:
        if (m := LANG_CLASS.match(tok)) and (lang := _normalise_lang(m.group(1))):
            return lang
    if el.tag in ("pre", "code"):
        for tok in tokens:
            if tok.lower() in BARE_LANGS:
                return _normalise_lang(tok)
    for marker in ("sourceCode", "highlight"):
        if marker in tokens and (marker == "sourceCode" or el.tag == "figure"):
            others = [t for t in tokens if t != marker]
            if len(others) == 1 and (lang := _normalise_lang(others[0])):
                return lang
    return None


def block_language(el: etree._Element) -> str | None:
    """Language hint of a code block element: itself, its first ``<code>``, four ancestors."""
    candidates = [el]
    code = next(el.iter("code"), None)
    if code is not None and code is not el:
        candidates.append(code)
    parent = el.getparent()
    for _ in range(4):
        if parent is None or parent.tag == "body":
            break
        candidates.append(parent)
        parent = parent.getparent()
    for c in candidates:
        if lang := _lang_of(c):
            return lang
    return None


def code_text(el: etree._Element, nbsp: bool = False) -> str:
    """Verbatim text of a code element: ``<br>`` -> line feed, text before and after a
    block-level child (``<div class="line">``, rustdoc's ``<div class="where">``) on its own
    lines, as a browser renders it; line-number gutters left out; ``nbsp`` turns ``&nbsp;``
    into spaces."""
    parts: list[str] = []

    def add(text: str | None, new_line: bool = False) -> None:
        if text:
            if new_line and parts and not parts[-1].endswith("\n") and not text.startswith("\n"):
                parts.append("\n")
            parts.append(text)

    walk = etree.iterwalk(el, events=("start", "end"))
    for event, node in walk:
        block = node is not el and node.tag in BLOCK_TAGS
        if event == "start":
            if node is not el and _is_lineno(node):
                walk.skip_subtree()
                continue
            if node.tag == "br":
                parts.append("\n")
            elif block and parts and not parts[-1].endswith("\n"):
                parts.append("\n")
            add(node.text)
        elif node is not el:
            add(node.tail, new_line=block)
    text = "".join(parts)
    return text.replace("\xa0", " ") if nbsp else text


def _alone(el: etree._Element) -> bool:
    """Whether ``el`` is the only content of its parent (no text or element beside it)."""
    parent = el.getparent()
    if parent is None:
        return True
    if (parent.text or "").strip() or (el.tail or "").strip():
        return False
    return all(c is el or not isinstance(c.tag, str) and not (c.tail or "").strip() for c in parent)


def _is_block_code(el: etree._Element) -> bool:
    """A ``<code>``-like element outside ``<pre>`` that is a block (rule 5): it holds a ``<br>``,
    or has ``white-space: pre`` / several lines and is alone in its parent (a ``<code>`` in a
    sentence whose source line wraps stays inline)."""
    if next(el.iter("br"), None) is not None:
        return True
    styles = [(e.get("style") or "").replace(" ", "").lower() for e in (el, el.getparent()) if e is not None]
    if any("white-space:pre" in st for st in styles):
        return True
    return "\n" in code_text(el).strip() and _alone(el)


def _is_code_table(el: etree._Element) -> bool:
    if el.tag != "table":
        return False
    if CODE_TABLE_CLASSES.intersection(_classes(el)):
        return True
    return any(_is_lineno(td) for td in el.iter("td", "th"))


def _table_code(table: etree._Element) -> str:
    """One line per row of a line-numbered code table: the text of its non-gutter cells."""
    lines = []
    for tr in table.iter("tr"):
        cells = [c for c in tr if c.tag in ("td", "th") and not _is_lineno(c)]
        lines.append("".join(code_text(c).removeprefix("\n") for c in cells))
    return "\n".join(lines)


def _fence(text: str) -> str:
    longest = max((len(m) for m in BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def fence(block: CodeBlock) -> str:
    """A code block as a fenced Markdown block (see the module docstring)."""
    f = _fence(block.text)
    return f"{f}{block.lang or ''}\n{block.text}\n{f}"


def code_span(text: str) -> str:
    """Inline code as a Markdown code span (CommonMark: backticks one longer than any run inside)."""
    text = text.replace("\n", " ")
    ticks = "`" * (max((len(m) for m in BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fenced_blocks(text: str) -> list[CodeBlock]:
    """The fenced code blocks of a :func:`reparse` output, in order, with their exact text."""
    blocks = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE_LINE.match(lines[i])
        if m:
            close = m.group(1)
            try:
                end = lines.index(close, i + 1)
            except ValueError:
                break
            blocks.append(CodeBlock("\n".join(lines[i + 1 : end]), m.group(2) or None))
            i = end
        i += 1
    return blocks


def _boilerplate(el: etree._Element) -> bool:
    tag = el.tag
    if tag in BOILERPLATE_TAGS:
        return True
    if tag in PAGE_LEVEL_TAGS and not any(a.tag in CONTENT_TAGS for a in el.iterancestors()):
        return True
    if (el.get("role") or "").lower() in BOILERPLATE_ROLES or el.get("hidden") is not None:
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style:
        return True
    if tag == "a" and "headerlink" in _classes(el):
        return True
    names = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    return any(part in BOILERPLATE_PARTS for token in names.split() for part in re.split(r"[-_]", token))


def _parse(html: str) -> etree._Element:
    try:
        root = lxml_html.document_fromstring(
            html.encode("utf-8", "surrogatepass"),
            parser=lxml_html.HTMLParser(encoding="utf-8", huge_tree=True),
        )
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        raise ParseError(f"unparseable HTML: {e}") from e
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, *STRIP_TAGS, with_tail=False)
    return root


def _remove_boilerplate(root: etree._Element) -> None:
    doomed = []
    walk = etree.iterwalk(root, events=("start",))
    for _, el in walk:
        if isinstance(el.tag, str) and _boilerplate(el):
            if next(el.iter("pre"), None) is None:
                doomed.append(el)
                walk.skip_subtree()
    for el in doomed:
        el.drop_tree()


def _main_content(root: etree._Element) -> etree._Element:
    body = root.find("body")
    body = root if body is None else body
    n_pre = sum(1 for _ in body.iter("pre"))
    for path in ("//main | //*[@role='main']", "//article"):
        found = root.xpath(path)
        if len(found) == 1 and sum(1 for _ in found[0].iter("pre")) == n_pre:
            return found[0]
    return body


class _Writer:
    """Builds the output: paragraphs of whitespace-collapsed prose (with verbatim code spans)
    and fenced code blocks."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.line: list[tuple[str, bool]] = []
        """Pieces of the current paragraph: (text, verbatim)."""
        self.prefix = ""
        self.lines: list[str] = []
        """Finished lines of the current paragraph (``<br>`` breaks)."""
        self.blocks: list[CodeBlock] = []
        self.inline = 0

    def add(self, text: str | None, verbatim: bool = False) -> None:
        if text:
            self.line.append((text, verbatim))

    def _line_text(self) -> str:
        s = ""
        for text, verbatim in self.line:
            piece = text if verbatim else SPACES.sub(" ", text)
            if s.endswith(" ") and piece.startswith(" "):
                piece = piece[1:]
            s += piece
        self.line = []
        return "" if INVISIBLE.fullmatch(s) else s.strip()

    def br(self) -> None:
        if line := self._line_text():
            self.lines.append(line)

    def flush(self) -> None:
        self.br()
        if self.lines:
            self.out.append(self.prefix + "\n".join(self.lines))
        self.lines = []
        self.prefix = ""

    def cell(self) -> None:
        if self.line and self._joined_so_far():
            self.line.append((" | ", True))

    def _joined_so_far(self) -> bool:
        return any(t.strip() for t, _ in self.line)

    def code_block(self, text: str, lang: str | None) -> None:
        text = text.rstrip("\n")
        if not text.strip():
            return
        self.flush()
        block = CodeBlock(text, lang)
        self.blocks.append(block)
        self.out.append(fence(block))

    def code_span(self, text: str) -> None:
        if text.strip():
            self.inline += 1
            self.add(code_span(text), verbatim=True)

    def result(self) -> Reparsed:
        self.flush()
        return Reparsed("\n\n".join(self.out), tuple(self.blocks), self.inline)


def _list_depth(el: etree._Element) -> int:
    return sum(1 for a in el.iterancestors() if a.tag in ("ul", "ol")) - 1


def reparse(html: str, url: str | None = None) -> Reparsed:
    """Re-parse one page (the rules of the module docstring). ``url`` is unused by the rules
    today and kept in the signature for site-specific rules; raises :class:`ParseError`."""
    root = _parse(html)
    _remove_boilerplate(root)
    w = _Writer()
    top = _main_content(root)
    walk = etree.iterwalk(top, events=("start", "end"))
    for event, el in walk:
        tag = el.tag
        if event == "start":
            if tag in BLOCK_CODE_TAGS:
                w.code_block(code_text(el).removeprefix("\n"), block_language(el))
                walk.skip_subtree()
                continue
            if tag == "table" and _is_code_table(el):
                w.code_block(_table_code(el), block_language(el))
                walk.skip_subtree()
                continue
            if tag in INLINE_CODE_TAGS:
                if _is_block_code(el):
                    w.code_block(code_text(el, nbsp=True).strip("\n"), block_language(el))
                else:
                    w.code_span(code_text(el))
                walk.skip_subtree()
                continue
            if tag == "br":
                w.br()
            elif tag in ("td", "th"):
                w.cell()
            elif tag in BLOCK_TAGS:
                w.flush()
                if tag in HEADINGS:
                    w.prefix = "#" * HEADINGS[tag] + " "
                elif tag == "li":
                    w.prefix = "  " * max(_list_depth(el), 0) + "- "
            w.add(el.text)
        else:
            if tag in BLOCK_TAGS and tag not in ("td", "th"):
                w.flush()
            if el is not top:
                w.add(el.tail)
    return w.result()
