"""Keep rate of real multi-paragraph prose in every supported language (issue 11, failure 7).

Data: Debian's own translated manuals, installed by ``make setup`` from Debian's archive (the
test skips a language whose package is absent): the Debian Edu bookworm manual
(``debian-edu-doc-{en,de,fr,es,it,ja,pt-br}``), the Debian Reference in Simplified Chinese
(``debian-reference-zh-cn``, plus the translated sections of ``debian-edu-doc-zh-cn``) and the Debian Developer's Reference in Russian
(``developers-reference-ru``). Each HTML file is cut into its ``<h2>`` sections, the main text
extracted with the extract stage's trafilatura settings, and a section is a prose document
when at least 3 of its paragraphs are >= 100 characters, end in sentence punctuation and quote
no code (curly braces), and they hold >= 5 sentences; the document is those paragraphs. Only documents that lid.176 identifies as the manual's language
are judged (untranslated sections of a translated manual are English). The rules are the
heuristics stage's defaults for that language.

Measured before the fixes in this issue: on whole aptitude-manual pages (aptitude-doc-*),
datatrove's Gopher alpha-ratio rule alone removed 14 of 19 Spanish, 11 of 22 French and 13 of
22 Italian pages; on the documents here, with punctuation tokens counted as words again, it
removes 1-2 per language (keep 0.875 fr/es/it/pt, 0.92 ja, 0.93 de, 0.95 en). Now every
language keeps >= 0.9 (1.0 in all but ru, 0.975: C4's splitter counts fewer than 5 sentences in one section).
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

import pytest

SOURCES = {
    "en": "/usr/share/doc/debian-edu-doc-en/debian-edu-bookworm-manual.html",
    "de": "/usr/share/doc/debian-edu-doc-de/debian-edu-bookworm-manual.html",
    "fr": "/usr/share/doc/debian-edu-doc-fr/debian-edu-bookworm-manual.html",
    "es": "/usr/share/doc/debian-edu-doc-es/debian-edu-bookworm-manual.html",
    "it": "/usr/share/doc/debian-edu-doc-it/debian-edu-bookworm-manual.html",
    "pt": "/usr/share/doc/debian-edu-doc-pt-br/debian-edu-bookworm-manual.html",
    "ja": "/usr/share/doc/debian-edu-doc-ja/debian-edu-bookworm-manual.html",
    "zh": "/usr/share/debian-reference/ch*.zh-cn.html:/usr/share/doc/debian-edu-doc-zh-cn/debian-edu-bookworm-manual.html",
    "ru": "/usr/share/developers-reference/ru/*.html",
}
SUPPORTED = tuple(SOURCES)
"""The languages the README lists as supported: each has a real-prose measurement here."""
PARA_MIN_CHARS = 100
MIN_PARAGRAPHS = 3
MIN_SENTENCES = 5
"""C4's own definition of a page worth keeping (Raffel et al. 2020: >= 5 sentences)."""
_SENTENCE_END = re.compile(r"[.!?。！？](?:\s|$)|[。！？]")
_CODE = re.compile(r"[{}]|\$\{")
"""Paragraphs quoting code (curly braces) are not prose: C4's curly-bracket rule removes code."""
MAX_DOCS = 40
MIN_DOCS = 5
KEEP_RATE = 0.9


def _sections(pattern: str) -> list[str]:
    out = []
    for path in [p for part in pattern.split(":") for p in sorted(glob.glob(part))]:
        raw = Path(path).read_text(encoding="utf-8")
        out += [f"<html><body>{part}</body></html>" for part in re.split(r"(?=<h2)", raw)[1:]]
    return out


def _prose(text: str) -> str | None:
    paragraphs = [
        p.strip()
        for p in text.split("\n")
        if len(p.strip()) >= PARA_MIN_CHARS and p.strip()[-1] in ".!?。！？" and not _CODE.search(p)
    ]
    doc = "\n".join(paragraphs)
    enough = len(paragraphs) >= MIN_PARAGRAPHS and len(_SENTENCE_END.findall(doc)) >= MIN_SENTENCES
    return doc if enough else None


def prose_documents(lang: str) -> list[str]:
    from corpus.text.extraction import ExtractOptions, extract_html
    from corpus.text.langid_model import bundled_model_path, predict

    docs = []
    for html in _sections(SOURCES[lang]):
        extracted = extract_html(html, None, ExtractOptions())
        text = _prose(getattr(extracted, "text", None) or "")
        if text and predict([text], str(bundled_model_path()))[0][0] == lang:
            docs.append(text)
        if len(docs) == MAX_DOCS:
            break
    return docs


@pytest.mark.slow  # trafilatura + four filters over ~300 real sections: ~2 min
@pytest.mark.parametrize("lang", SUPPORTED)
def test_real_prose_is_kept_in_every_supported_language(lang):
    from corpus.text.quality_filters import FilterChain

    if not any(glob.glob(part) for part in SOURCES[lang].split(":")):
        pytest.skip(f"{SOURCES[lang]} not installed (make setup installs Debian's translated manuals)")
    docs = prose_documents(lang)
    assert len(docs) >= MIN_DOCS, (lang, len(docs))
    chain = FilterChain(lang, [])
    reasons = [chain(d) for d in docs]
    rate = sum(r is None for r in reasons) / len(docs)
    print(f"{lang}: kept {rate:.3f} of {len(docs)} prose documents; removed: {[r for r in reasons if r]}")
    assert rate >= KEEP_RATE, (lang, rate, [r for r in reasons if r])
