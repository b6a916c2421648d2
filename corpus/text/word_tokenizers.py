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
from typing import Any

import regex
from datatrove.utils._import_utils import ASSETS_PATH
from datatrove.utils.word_tokenizers import (
    SpaCyTokenizer,
    WhitespaceTokenizer,
    WordTokenizer,
    load_word_tokenizer,
)


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


def words_only(words: list[str]) -> list[str]:
    """``words`` without the tokens made only of punctuation, symbols or spaces (see
    :class:`WordsOnly`); a token of letters and digits only is a word without the regex."""
    return [w for w in words if w.isalnum() or not _PUNCT_OR_SPACE.fullmatch(w)]


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
        return words_only(self.inner.word_tokenize(text))

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


MAX_LEXEMES = 100_000
"""Vocabulary size at which :class:`SpacyWords` starts a fresh spaCy pipeline: measured at
~0.5 KB per lexeme (191,757 random words grew the process by 91 MB), so about 50 MB; a fresh
``spacy.blank`` costs 0.2-0.5 s, once per tens of thousands of web pages."""


class SpacyWords:
    """datatrove's ``SpaCyTokenizer`` words and sentence counts, the same, without its per-call costs.

    datatrove runs the whole pipeline (tokenizer and sentencizer) inside a spaCy
    ``memory_zone`` per call, so every word of every document is made into a lexeme, cached
    and freed again; on the sample's English pages that is ~3.5x the cost of the tokenizer
    alone. Here words come from the tokenizer alone, its vocabulary and cache are kept across
    documents (bounded by :data:`MAX_LEXEMES`), and token strings are cut from the text by
    offset: outside a memory zone spaCy can return another string for a token whose text
    names one of its symbols (``IS_ALPHA`` came back as ``more``). Empty and whitespace tokens
    are dropped and the rest stripped, as datatrove's ``strip_strings`` does.

    One difference, on purpose: a text containing ``IS_ALPHA``. Once datatrove's pipeline has
    tokenised a few dozen documents, spaCy raises inside the memory zone on that string and
    datatrove retries without it, so its words for the same text depend on what came before
    (seen after 50 sample pages); here it stays a word (the retry applies only if spaCy raises)."""

    def __init__(self, language: str, config: dict[str, Any] | None = None):
        self.language, self.config = language, config
        self._nlp: Any = None

    def _pipeline(self) -> Any:
        if self._nlp is None or len(self._nlp.vocab) > MAX_LEXEMES:
            import spacy

            self._nlp = spacy.blank(self.language, config=self.config or {})
            self._nlp.add_pipe("sentencizer")
        return self._nlp

    def __call__(self, text: str) -> list[str]:
        from spacy.attrs import IDX, SPACY

        tokenizer = self._pipeline().tokenizer
        try:
            doc = tokenizer(text)
        except Exception:
            if "IS_ALPHA" not in text:  # datatrove's one retry, for a string spaCy fails on
                raise
            text = text.replace("IS_ALPHA", "")
            doc = tokenizer(text)
        starts = doc.to_array(IDX).tolist()
        ends = [*starts[1:], len(text)]
        spaces = doc.to_array(SPACY).tolist()
        return [
            w
            for start, end, space in zip(starts, ends, spaces, strict=True)
            if (w := text[start : end - space].strip())
        ]

    def sentence_count(self, text: str) -> int | None:
        """Number of sentences spaCy's sentencizer finds, or None where this spaCy state could
        differ from datatrove's (a token string read back wrong, an error): ask datatrove then."""
        nlp = self._pipeline()
        try:
            doc = nlp.get_pipe("sentencizer")(nlp.tokenizer(text))
        except Exception:
            return None
        return sum(1 for _ in doc.sents) if doc.text == text else None


class SharedTokenizer:
    """What the quality rules need from a datatrove word tokenizer, with the same results:
    words, and the number of parts datatrove's ``split_into_sentences`` cuts a text into.
    spaCy-based tokenizers (datatrove's ``SpaCyTokenizer`` except Japanese, which datatrove
    cuts into 40 KB chunks, and ``WhitespaceTokenizer``'s words, spaCy's multilingual rules)
    go through :class:`SpacyWords`; the others are called as they are.
    tests/web/test_heuristics_equivalence.py compares both on the sample and real pages."""

    def __init__(self, tok: WordTokenizer):
        self.inner = inner = getattr(tok, "inner", tok)
        self._spacy: SpacyWords | None = None
        self._spacy_sentences = False
        if type(inner) is SpaCyTokenizer and inner.language != "ja":
            self._spacy, self._spacy_sentences = SpacyWords(inner.language, inner.config), True
        elif type(inner) is WhitespaceTokenizer:  # spaCy "xx" words, regex sentences
            self._spacy = SpacyWords("xx")

    def word_tokenize(self, text: str) -> list[str]:
        return self._spacy(text) if self._spacy is not None else self.inner.word_tokenize(text)

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return self.inner.span_tokenize(text)

    def sentence_count(self, text: str) -> int:
        """``len(split_into_sentences(text))``: the sentence spans, at least one part."""
        count = (
            self._spacy.sentence_count(text) if self._spacy_sentences and self._spacy is not None else None
        )
        return max(1, count if count is not None else len(self.inner.span_tokenize(text)))


@functools.cache
def shared_tokenizer(lang: str) -> SharedTokenizer:
    """One :class:`SharedTokenizer` per language per process (whatever the rule settings)."""
    return SharedTokenizer(word_tokenizer(lang)[0])


WARM_LANGUAGES = ("en", "zh", "de", "fr", "es", "ru", "it", "pt", "nl", "pl")
"""Languages whose tokenizers the Spark worker daemon loads before it forks the workers
(:mod:`corpus.engine.daemon`): the large languages of web crawls. Their first use costs 0.05-3 s
each (spaCy's tables, jieba's dictionary; English 2.2 s and French 2.9 s with the spaCy
import), about 7 s in all, paid once per executor instead of once per Python worker."""


def warm(langs: tuple[str, ...] | None = None) -> None:
    """Load and use each language's shared tokenizer once (the daemon's preload hook); by
    default those of :data:`WARM_LANGUAGES`."""
    for lang in langs if langs is not None else WARM_LANGUAGES:
        try:
            tok = shared_tokenizer(lang)
            tok.word_tokenize("Warm up the tokenizer. Then fork.")
            tok.sentence_count("Warm up the tokenizer. Then fork.")
        except Exception:  # a missing optional package: the worker reports it with its task
            continue
