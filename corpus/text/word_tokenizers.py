"""Word tokenizer per language (lid.176 code), via datatrove's FineWeb-2 tokenizer assignments.

datatrove maps every language to a tokenizer (spaCy per language, jieba for Chinese, Sudachi
for Japanese ...) in ``assets/tokenizer_assignment.csv``. Its two-letter lookup takes the first
row of the file with that ``code_1`` whatever the script (``zh`` resolves to Hakka in Latin
script and gets spaCy's unsegmented multilingual tokenizer), so we pick the row marked as the
language's default ourselves and ask datatrove for ``<code_3>_<script>``, the form FineWeb-2
used. A language whose tokenizer needs a package that is not installed (``kiwipiepy`` for
Korean ...) falls back to datatrove's whitespace tokenizer, and callers are told so
(``is_fallback``) to relax the rules that depend on good word boundaries.

Scripts written without spaces (:data:`UNSPACED`) get a segmenter where one is installed
(jieba for Chinese, Sudachi for Japanese, PyThaiNLP's newmm for Thai, as datatrove assigns
them); for the others (Khmer, Lao, Burmese, Tibetan ...) whitespace would make a paragraph one
"word", so they fall back to :class:`ClusterTokenizer`: one token per character cluster (a
letter with its combining marks), which the rules then count with :data:`CLUSTERS_PER_WORD`.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import logging
import os

import regex
from datatrove.utils._import_utils import ASSETS_PATH
from datatrove.utils.word_tokenizers import WhitespaceTokenizer, WordTokenizer, load_word_tokenizer


@functools.cache
def _default_codes() -> dict[str, str]:
    """lid.176-style code (``zh``, ``ceb``) -> datatrove code (``cmn_Hani``, ``ceb_Latn``)."""
    codes: dict[str, str] = {}
    with open(os.path.join(ASSETS_PATH, "tokenizer_assignment.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row["type"] or row["default_script"] != "TRUE":
                continue
            code = f"{row['code_3']}_{row['script']}"
            codes.setdefault(row["code_3"], code)
            if row["code_1"] and row["default_code_1"] == "TRUE":
                codes.setdefault(row["code_1"], code)
    return codes


# lid.176 codes that the assignment table spells differently (lid.176's ``no`` is Bokmål).
_ALIASES = {"no": "nb"}


def datatrove_code(lang: str) -> str | None:
    """datatrove's ``<code_3>_<script>`` for a lid.176 code (None when it has no row)."""
    return lang if "_" in lang else _default_codes().get(_ALIASES.get(lang, lang))


class _LastWords(WordTokenizer):
    """Remembers the words of the last text. Three of the four filters split the same text into
    words, and datatrove's own 5-entry cache is flushed in between by C4's per-line sentence
    splits; spaCy tokenization is most of the stage's time."""

    def __init__(self, inner: WordTokenizer):
        super().__init__(inner.language)
        self.inner = inner
        self._text: str | None = None
        self._words: list[str] = []

    def word_tokenize(self, text: str) -> list[str]:
        if text is not self._text and text != self._text:
            self._words = self.inner.word_tokenize(text)
            self._text = text
        return self._words

    def sent_tokenize(self, text: str) -> list[str]:
        return self.inner.sent_tokenize(text)

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return self.inner.span_tokenize(text)


_PUNCT_OR_SPACE = regex.compile(r"[\p{P}\p{S}\p{Z}\s]*")


class WordsOnly(WordTokenizer):
    """A tokenizer's words without the tokens that are only punctuation, symbols or spaces.

    Why: Gopher's rules count words as whitespace-delimited tokens (Rae et al. 2021, App. A:
    "80% of words in a document contain at least one alphabetic character"), so "end." is one
    word with a letter. spaCy, jieba, Sudachi and PyThaiNLP emit "." "," "、" and spaces as
    tokens of their own; datatrove's GopherQualityFilter then counts each as a word without a
    letter, which makes its alpha-ratio rule far stricter than the paper's: measured on real
    manual pages (Debian's aptitude manual, tests/multilingual/test_keep_rates.py), it alone
    removed 14 of 19 Spanish and 11 of 22 French multi-paragraph pages."""

    def __init__(self, inner: WordTokenizer):
        super().__init__(inner.language)
        self.inner = inner

    def word_tokenize(self, text: str) -> list[str]:
        return [w for w in self.inner.word_tokenize(text) if not _PUNCT_OR_SPACE.fullmatch(w)]

    def sent_tokenize(self, text: str) -> list[str]:
        return self.inner.sent_tokenize(text)

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return self.inner.span_tokenize(text)


@functools.cache
def _whitespace() -> WordTokenizer:
    return WhitespaceTokenizer()


UNSPACED = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "yue", "wuu", "dz"})
"""Languages (lid.176 codes) whose script does not separate words with spaces."""

CLUSTERS_PER_WORD = 4
"""Character clusters per word, for rules written in words: measured on 500 Thai sentences of
``langid/lingua_sentences/th.txt`` (../shared/data): 4.1 clusters per PyThaiNLP newmm word, and
73 clusters per Thai sentence against 16.5 words per English sentence (4.4). Applied to the
other Brahmic abugidas (Khmer, Lao, Burmese, Tibetan) that have no segmenter here."""

_CLUSTER = regex.compile(r"\P{M}\p{M}*")


class ClusterTokenizer(WordTokenizer):
    """Character clusters as "words" for unspaced scripts without a segmenter: whitespace
    splits first, then each piece is cut into clusters (a base character with its combining
    marks), so "ស្រុក" is 3 tokens rather than a paragraph being 1."""

    def __init__(self, language: str):
        super().__init__(language)
        self._spaces = WhitespaceTokenizer()

    def word_tokenize(self, text: str) -> list[str]:
        return [c for piece in text.split() for c in _CLUSTER.findall(piece)]

    def sent_tokenize(self, text: str) -> list[str]:
        return self._spaces.sent_tokenize(text)

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _CLUSTER.finditer(text) if not m.group().isspace()]


# Packages a tokenizer loads at first use that datatrove does not check when building it.
_LAZY_DEPENDENCIES = {"ja": ("sudachipy", "sudachidict_core")}


@functools.cache
def word_tokenizer(lang: str) -> tuple[WordTokenizer, bool]:
    """``(tokenizer, is_fallback)`` for ``lang``; one instance per language per process.

    The model itself (spaCy's tables, jieba's or Sudachi's dictionary) loads at first use, so
    describing the rules on the driver stays cheap; missing packages are detected here."""
    code = datatrove_code(lang)
    if code is not None:
        try:
            tok = load_word_tokenizer(code)
        except ImportError:  # datatrove checks most optional packages when it builds a tokenizer
            tok = None
        language = getattr(tok, "language", None)
        if tok is not None and all(importlib.util.find_spec(m) for m in _LAZY_DEPENDENCIES.get(language, ())):
            if language == "zh":
                import jieba

                jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at DEBUG
            return _LastWords(tok), False
    if lang in UNSPACED:
        return _LastWords(ClusterTokenizer(lang)), True
    return _LastWords(_whitespace()), True
