"""Per-language thresholds and stop words for the Gopher / C4 / FineWeb quality filters.

Why: datatrove's defaults are FineWeb's English settings. Applied to German they drop most
good pages (the stop-word rule looks for "the", "and" ...; word-length and n-gram limits are
English statistics). FineWeb-2 re-derived these per language; we follow it.

Provenance: the ``FINEWEB2`` rows are copied from FineWeb-2's per-language filter configs
(``configs/<lang_script>.yml`` in the huggingface/fineweb-2 repository, commits 05e6729 and
baedee4), which its ``fineweb-2-pipeline.py`` feeds to datatrove's filters together with the
settings in ``_FINEWEB2_FIXED``. English uses datatrove's defaults (FineWeb's English recipe).
A language with no row gets the median of the rows below, spaCy's stop-word list for it, and
no word-length or stop-word rule when its word tokenizer is not installed.
"""

from __future__ import annotations

import importlib
import math
import statistics
from dataclasses import dataclass
from typing import Any

from datatrove.utils.word_tokenizers import WordTokenizer

from corpus.text.word_tokenizers import CLUSTERS_PER_WORD, UNSPACED, ClusterTokenizer

FILTERS = ("gopher_quality", "gopher_repetition", "c4", "fineweb")
"""Filter names in the order they run. No filter edits the text here, so the kept set does not
depend on the order, only the reported reason does. FineWeb runs repetition first; we run
Gopher quality first so a short page is reported as ``gopher_short_doc`` rather than as
repetitive (any 4-gram of a 20-word text is a large share of its characters)."""


@dataclass(frozen=True)
class Row:
    """One language's FineWeb-2 config (field names as in its YAML)."""

    stopwords: tuple[str, ...]
    avg_word_length: tuple[float, float]  # min_avg_word_length, max_avg_word_length
    max_non_alpha_words_ratio: float  # datatrove's name: the *minimum* share of words with a letter
    dup_line_frac: float
    top_n_grams: tuple[float, float, float]  # n = 2, 3, 4
    dup_n_grams: tuple[float, float, float, float, float, float]  # n = 5 .. 10
    line_punct_thr: float
    new_line_ratio: float


# fmt: off
FINEWEB2: dict[str, Row] = {  # keyed by lid.176 code
    "de": Row(("der", "und", "die", "in", "von", "im", "den", "des", "mit", "das", "er", "dem", "als", "wurde", "für"),
              (0, 15), 0.774, 0.263, (0.169, 0.153, 0.137), (0.141, 0.134, 0.126, 0.117, 0.108, 0.098), 0.0, 0.152),
    "fr": Row(("de", "la", "le", "et", "à", "en", "l'", "des", "du", "les", "est", "d'", "un", "une", "il", "dans", "par", "au"),
              (2, 11), 0.812, 0.264, (0.161, 0.149, 0.134), (0.15, 0.141, 0.131, 0.121, 0.111, 0.1), 0.1, 0.185),
    "es": Row(("de", "la", "en", "el", "y", "a", "que", "del", "los", "se", "por", "un", "con", "una", "las", "su"),
              (4, 14), 0.825, 0.265, (0.077, 0.097, 0.112), (0.152, 0.137, 0.123, 0.114, 0.107, 0.099), 0.3, 0.171),
    "it": Row(("di", "e", "il", "la", "in", "a", "del", "che", "è", "della", "un", "per", "nel", "l'", "con", "da", "i", "una"),
              (3, 21), 0.807, 0.246, (0.198, 0.156, 0.133), (0.144, 0.136, 0.127, 0.118, 0.109, 0.1), 0.025, 0.2),
    "pt": Row(("de", "a", "e", "o", "em", "do", "da", "que", "um", "no", "uma", "com", "para", "na", "é", "foi"),
              (3, 13), 0.814, 0.325, (0.093, 0.117, 0.139), (0.19, 0.172, 0.154, 0.142, 0.131, 0.12), 0.154, 0.23),
    "nl": Row(("de", "van", "in", "het", "een", "en", "is", "op", "voor", "met", "door", "zijn", "werd", "hij", "uit"),
              (3, 16), 0.828, 0.333, (0.093, 0.117, 0.14), (0.177, 0.16, 0.145, 0.133, 0.123, 0.112), 0.238, 0.194),
    "pl": Row(("w", "i", "na", "z", "do", "się", "roku", "od", "a", "jest", "przez", "po", "jako", "oraz", "o", "został", "był", "nie"),
              (3, 11), 0.726, 0.353, (0.096, 0.12, 0.144), (0.203, 0.182, 0.163, 0.15, 0.137, 0.126), 0.2, 0.209),
    "ru": Row(("в", "и", "на", "с", "года", "по", "году", "из", "был", "к", "не", "от", "что", "за", "для", "его", "как", "а",
               "он", "также", "до", "после"),
              (3, 11), 0.713, 0.322, (0.184, 0.164, 0.146), (0.168, 0.156, 0.145, 0.133, 0.121, 0.109), 0.231, 0.139),
    "uk": Row(("у", "в", "на", "і", "з", "та", "до", "року", "за", "що"),
              (3, 11), 0.694, 0.333, (0.086, 0.108, 0.129), (0.176, 0.157, 0.139, 0.125, 0.113, 0.102), 0.308, 0.211),
    "zh": Row(("的", "年", "在", "月", "是", "和", "日", "了", "於", "·", "為", "有", "被", "人", "中", "为", "他", "與", "後", "也",
               "而", "由"),
              (1, 5), 0.735, 0.287, (0.256, 0.201, 0.171), (0.198, 0.182, 0.167, 0.154, 0.14, 0.127), 0.106, 0.178),
    "ja": Row(("の", "に", "を", "は", "た", "て", "が", "と", "で", "年", "し", "・", "月", "れ", "さ"),
              (1, 5), 0.759, 0.375, (0.121, 0.129, 0.145), (0.307, 0.283, 0.264, 0.248, 0.234, 0.223), 0.167, 0.162),
}
# fmt: on

_FINEWEB2_FIXED: dict[str, dict[str, Any]] = {
    # fineweb-2-pipeline.py: paragraph rules off (trafilatura leaves few blank-line paragraphs),
    # the line-character rule replaced by FineWeb's char_duplicates_ratio, relaxed to 0.1.
    "gopher_repetition": {"dup_para_frac": 0, "dup_line_char_frac": 0, "dup_para_char_frac": 0},
    "gopher_quality": {"min_stop_words": 2},
    "fineweb": {"short_line_thr": math.inf, "char_duplicates_ratio": 0.1},
}

_ALL_LANGS: dict[str, dict[str, Any]] = {
    # FineWeb's English recipe runs C4 without the terminal-punctuation line rule; FineWeb-2
    # skips C4. We keep C4's document rules (lorem ipsum, curly bracket, >= 5 sentences) everywhere.
    "c4": {"filter_no_terminal_punct": False},
}

NO_WORD_SPACES = UNSPACED
"""Languages written without spaces: C4's whitespace word counts per line mean nothing there."""

NO_TERMINAL_PUNCT = frozenset({"th", "lo", "bo"})
"""Languages whose lines do not end in a character of datatrove's TERMINAL_PUNCTUATION: Thai
and Lao end sentences with a space, Tibetan with the shad (U+0F0D, not in the list). FineWeb's
line-punctuation rule would remove all their prose (a Thai article the tests write: ratio 0)."""

GOPHER_MIN_WORDS, GOPHER_MAX_WORDS = 50, 100_000
"""datatrove's (Gopher's) document length bounds in words."""


def _row_kwargs(row: Row) -> dict[str, dict[str, Any]]:
    return {
        "gopher_repetition": {
            "dup_line_frac": row.dup_line_frac,
            "top_n_grams": tuple(zip((2, 3, 4), row.top_n_grams, strict=True)),
            "dup_n_grams": tuple(zip(range(5, 11), row.dup_n_grams, strict=True)),
        },
        "gopher_quality": {
            "stop_words": list(row.stopwords),
            "min_avg_word_length": row.avg_word_length[0],
            "max_avg_word_length": row.avg_word_length[1],
            "max_non_alpha_words_ratio": row.max_non_alpha_words_ratio,
        },
        "c4": {},
        "fineweb": {"line_punct_thr": row.line_punct_thr, "new_line_ratio": row.new_line_ratio},
    }


def _median_row() -> Row:
    rows = list(FINEWEB2.values())

    def med(get):
        return statistics.median(get(r) for r in rows)

    return Row(
        stopwords=(),
        avg_word_length=(med(lambda r: r.avg_word_length[0]), med(lambda r: r.avg_word_length[1])),
        max_non_alpha_words_ratio=med(lambda r: r.max_non_alpha_words_ratio),
        dup_line_frac=med(lambda r: r.dup_line_frac),
        top_n_grams=tuple(med(lambda r, i=i: r.top_n_grams[i]) for i in range(3)),
        dup_n_grams=tuple(med(lambda r, i=i: r.dup_n_grams[i]) for i in range(6)),
        line_punct_thr=med(lambda r: r.line_punct_thr),
        new_line_ratio=med(lambda r: r.new_line_ratio),
    )


def spacy_stop_words(spacy_lang: str | None) -> list[str]:
    """spaCy's stop-word list for a language (shipped offline with spaCy), or []."""
    if not spacy_lang:
        return []
    try:
        return sorted(importlib.import_module(f"spacy.lang.{spacy_lang}.stop_words").STOP_WORDS)
    except (ImportError, AttributeError):
        return []


def rules_for(lang: str, tokenizer: WordTokenizer, tokenizer_is_fallback: bool) -> dict[str, dict[str, Any]]:
    """Default datatrove keyword arguments for each filter for documents in ``lang``."""
    if lang == "en":
        kwargs: dict[str, dict[str, Any]] = {name: {} for name in FILTERS}
    else:
        row = FINEWEB2.get(lang)
        kwargs = _row_kwargs(row or _median_row())
        for name, fixed in _FINEWEB2_FIXED.items():
            kwargs[name].update(fixed)
        if row is None:
            stop_words = (
                [] if tokenizer_is_fallback else spacy_stop_words(getattr(tokenizer, "language", None))
            )
            kwargs["gopher_quality"]["stop_words"] = stop_words
            if not stop_words:
                kwargs["gopher_quality"]["min_stop_words"] = None
            if tokenizer_is_fallback:  # whitespace "words" of an unsegmented script: no length rules
                kwargs["gopher_quality"].update(min_avg_word_length=None, max_avg_word_length=None)
    if isinstance(getattr(tokenizer, "inner", tokenizer), ClusterTokenizer):
        # Tokens are character clusters: document length in clusters, no n-gram repetition
        # rules (a frequent 2-cluster sequence is a common syllable, not a repeated phrase).
        kwargs["gopher_quality"].update(
            min_doc_words=GOPHER_MIN_WORDS * CLUSTERS_PER_WORD,
            max_doc_words=GOPHER_MAX_WORDS * CLUSTERS_PER_WORD,
        )
        kwargs["gopher_repetition"].update(top_n_grams=(), dup_n_grams=())
    for name, extra in _ALL_LANGS.items():
        kwargs[name].update(extra)
    if lang in NO_WORD_SPACES:
        kwargs["c4"].update(min_words_per_line=-1, max_word_length=-1)
    if lang in NO_TERMINAL_PUNCT:
        kwargs["fineweb"]["line_punct_thr"] = 0.0  # datatrove's "off" value
    return kwargs
