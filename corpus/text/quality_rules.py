"""Gopher quality, Gopher repetition, C4 and FineWeb quality rules on one shared tokenisation.

datatrove's filter classes each split a document into words again, and its C4 filter also runs
the word tokenizer's sentence splitter over every kept line. Here a :class:`TextView` splits a
document once (words, lines, the inputs of the n-gram rules) and every rule reads it. Each
class takes datatrove's keyword arguments with datatrove's meaning (a falsy threshold, ``-1``
for C4's counts, ``inf`` for FineWeb's ratios switch a rule off the same way), and ``check``
returns ``None`` (keep) or datatrove's reason for the first failing rule, in datatrove's order:
the same verdicts, computed differently where that is cheaper:

- repeated and most frequent n-grams are counted on word tuples or on slices of the
  concatenated words, not on joined strings (equal keys either way; words holding a space fall
  back to datatrove's joined strings, where tuples could differ from them);
- C4 splits kept lines into sentences only when there are fewer kept lines than
  ``min_num_sentences`` (each kept line counts at least one sentence, so more lines pass);
  consequently a sentence-splitter error on such a line, which datatrove raises, is not met.

One deliberate departure from datatrove, kept from the filters this replaces: Gopher quality
counts :class:`corpus.text.word_tokenizers.WordsOnly` words (punctuation-only tokens are not
words, as in the paper). tests/web/test_heuristics_equivalence.py compares every verdict with
datatrove's classes configured the same way.

Sources: datatrove 0.10.1 ``pipeline/filters/{gopher_quality_filter, gopher_repetition_filter,
c4_filters, fineweb_quality_filter}.py``; Rae et al. 2021 (Gopher, App. A, Table A1), Raffel et
al. 2020 (C4, sec. 2.2), Penedo et al. 2024 (FineWeb, sec. 3.3.3).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from itertools import accumulate
from operator import itemgetter
from typing import Protocol

from datatrove.pipeline.filters.c4_filters import CITATION_REGEX, ELLIPSIS, END_PUNCTUATION, POLICY_SUBSTRINGS
from datatrove.pipeline.filters.gopher_quality_filter import STOP_WORDS
from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION

from corpus.text.word_tokenizers import words_only


class Tokenizer(Protocol):
    """The word tokenizer the rules share (:class:`corpus.text.word_tokenizers.SharedTokenizer`)."""

    def word_tokenize(self, text: str) -> list[str]: ...

    def span_tokenize(self, text: str) -> list[tuple[int, int]]: ...

    def sentence_count(self, text: str) -> int: ...


class TextView:
    """One document as every rule reads it; each part is computed at first use, once."""

    def __init__(self, text: str, tokenizer: Tokenizer):
        self.text = text
        self.tokenizer = tokenizer

    @cached_property
    def words(self) -> list[str]:
        """The word tokenizer's words (datatrove's ``split_into_words``)."""
        return self.tokenizer.word_tokenize(self.text)

    @cached_property
    def words_only(self) -> list[str]:
        """:attr:`words` without punctuation/space-only tokens (``WordsOnly``)."""
        return words_only(self.words)

    @cached_property
    def lines(self) -> list[str]:
        """``text.splitlines()`` (Gopher quality, C4)."""
        return self.text.splitlines()

    @cached_property
    def concat_offsets(self) -> list[int]:
        """Start of each word in ``"".join(words)``, and the total length last."""
        return [0, *accumulate(map(len, self.words))]

    @cached_property
    def concat(self) -> str:
        return "".join(self.words)


def duplicates(items: Sequence[str]) -> tuple[int, int]:
    """``(elements, characters)`` repeating an earlier element: datatrove's ``find_duplicates``
    (every distinct element counts once as the first, the rest are repeats)."""
    unique = set(items)
    return len(items) - len(unique), sum(map(len, items)) - sum(map(len, unique))


def top_ngram_chars(view: TextView, n: int) -> int:
    """Characters covered by the most frequent word n-gram (its length joined with spaces
    times its count; ties go to the first seen): datatrove's ``find_top_duplicate``. ``n <=
    len(words)``."""
    words = view.words
    if " " in view.concat:  # "a b"+"c" and "a"+"b c" join alike: count the joined strings
        grams: Counter = Counter(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        gram, count = max(grams.items(), key=itemgetter(1))
        return len(gram) * count
    tuples: Counter = Counter(zip(*(words[i:] for i in range(n)), strict=False))
    gram, count = max(tuples.items(), key=itemgetter(1))
    return (sum(map(len, gram)) + n - 1) * count


def repeated_ngram_chars(view: TextView, n: int) -> int:
    """Characters in repeated word n-grams, greedily skipping past each repeat: datatrove's
    ``find_all_duplicate``, whose n-gram key is the words concatenated without separator."""
    concat, offsets = view.concat, view.concat_offsets
    last = len(offsets) - n  # number of n-grams
    if last <= 0:
        return 0
    grams = list(map(concat.__getitem__, map(slice, offsets[:last], offsets[n:])))
    if len(set(grams)) == last:
        return 0
    seen: set[str] = set()
    repeated, idx = 0, 0
    while idx < last:
        gram = grams[idx]
        if gram in seen:
            repeated += len(gram)
            idx += n
        else:
            seen.add(gram)
            idx += 1
    return repeated


class GopherQuality:
    """Gopher's quality rules (Rae et al. 2021, App. A), datatrove's defaults and reasons."""

    def __init__(
        self,
        min_doc_words: int | None = 50,
        max_doc_words: int | None = 100_000,
        min_avg_word_length: float | None = 3,
        max_avg_word_length: float | None = 10,
        max_symbol_word_ratio: float | None = 0.1,
        max_bullet_lines_ratio: float | None = 0.9,
        max_ellipsis_lines_ratio: float | None = 0.3,
        max_non_alpha_words_ratio: float | None = 0.8,
        min_stop_words: int | None = 2,
        stop_words: Sequence[str] | None = None,
    ):
        self.min_doc_words, self.max_doc_words = min_doc_words, max_doc_words
        self.min_avg_word_length, self.max_avg_word_length = min_avg_word_length, max_avg_word_length
        self.max_symbol_word_ratio = max_symbol_word_ratio
        self.max_bullet_lines_ratio = max_bullet_lines_ratio
        self.max_ellipsis_lines_ratio = max_ellipsis_lines_ratio
        self.max_non_alpha_words_ratio = max_non_alpha_words_ratio  # the *minimum* share with a letter
        self.min_stop_words = min_stop_words
        self.stop_words = frozenset(STOP_WORDS if stop_words is None else stop_words)

    def check(self, view: TextView) -> str | None:
        """Raises ``ZeroDivisionError`` where datatrove does (a ratio over zero words)."""
        text, words = view.text, view.words_only
        n_words = len(words)
        lengths = [len(w) for w in words if not PUNCTUATION_SET.issuperset(w)]
        n_real = len(lengths)
        if self.min_doc_words and n_real < self.min_doc_words:
            return "gopher_short_doc"
        if self.max_doc_words and n_real > self.max_doc_words:
            return "gopher_long_doc"
        avg = sum(lengths) / n_real if n_real else math.nan  # numpy's mean of no words
        if self.min_avg_word_length and avg < self.min_avg_word_length:
            return "gopher_below_avg_threshold"
        if self.max_avg_word_length and avg > self.max_avg_word_length:
            return "gopher_above_avg_threshold"
        if self.max_symbol_word_ratio and text.count("#") / n_words > self.max_symbol_word_ratio:
            return "gopher_too_many_hashes"
        if (
            self.max_symbol_word_ratio
            and (text.count("...") + text.count("…")) / n_words > self.max_symbol_word_ratio
        ):
            return "gopher_too_many_ellipsis"
        lines = view.lines
        if (
            self.max_bullet_lines_ratio
            and sum(s.lstrip().startswith(("•", "-")) for s in lines) / len(lines)
            > self.max_bullet_lines_ratio
        ):
            return "gopher_too_many_bullets"
        if (
            self.max_ellipsis_lines_ratio
            and sum(s.rstrip().endswith(("...", "…")) for s in lines) / len(lines)
            > self.max_ellipsis_lines_ratio
        ):
            return "gopher_too_many_end_ellipsis"
        if self.max_non_alpha_words_ratio:
            alpha = sum(1 for w in words if w.isalpha() or any(c.isalpha() for c in w))
            if alpha / n_words < self.max_non_alpha_words_ratio:
                return "gopher_below_alpha_threshold"
        if self.min_stop_words and len(self.stop_words.intersection(words)) < self.min_stop_words:
            return "gopher_enough_stop_words"
        return None


_PARAGRAPHS = re.compile(r"\n{2,}")
_LINES = re.compile("\n+")


class GopherRepetition:
    """Gopher's repetition rules (Rae et al. 2021, Table A1), datatrove's defaults and reasons."""

    def __init__(
        self,
        dup_line_frac: float | None = 0.3,
        dup_para_frac: float | None = 0.3,
        dup_line_char_frac: float | None = 0.2,
        dup_para_char_frac: float | None = 0.2,
        top_n_grams: Sequence[tuple[int, float]] = ((2, 0.2), (3, 0.18), (4, 0.16)),
        dup_n_grams: Sequence[tuple[int, float]] = (
            (5, 0.15),
            (6, 0.14),
            (7, 0.13),
            (8, 0.12),
            (9, 0.11),
            (10, 0.10),
        ),
    ):
        if any(n < 1 for n, _ in (*top_n_grams, *dup_n_grams)):
            raise ValueError("n-gram sizes must be >= 1")
        self.dup_line_frac, self.dup_para_frac = dup_line_frac, dup_para_frac
        self.dup_line_char_frac, self.dup_para_char_frac = dup_line_char_frac, dup_para_char_frac
        self.top_n_grams, self.dup_n_grams = tuple(top_n_grams), tuple(dup_n_grams)

    def check(self, view: TextView) -> str | None:
        text = view.text
        if not text:
            return "empty"
        if self.dup_para_frac or self.dup_para_char_frac:
            paragraphs = _PARAGRAPHS.split(text.strip())
            dups, chars = duplicates(paragraphs)
            if self.dup_para_frac and dups / len(paragraphs) > self.dup_para_frac:
                return "dup_para_frac"
            if self.dup_para_char_frac and chars / len(text) > self.dup_para_char_frac:
                return "dup_para_char_frac"
        if self.dup_line_frac or self.dup_line_char_frac:
            lines = _LINES.split(text)
            dups, chars = duplicates(lines)
            if self.dup_line_frac and dups / len(lines) > self.dup_line_frac:
                return "dup_line_frac"
            if self.dup_line_char_frac and chars / len(text) > self.dup_line_char_frac:
                return "dup_line_char_frac"
        for n, frac in self.top_n_grams:
            if len(view.words) >= n and top_ngram_chars(view, n) / len(text) > frac:
                return f"top_{n}_gram"
        for n, frac in self.dup_n_grams:
            if repeated_ngram_chars(view, n) / len(text) > frac:
                return f"duplicated_{n}_n_grams"
        return None


class C4Quality:
    """C4's rules (Raffel et al. 2020) as document verdicts, datatrove's defaults and reasons:
    the line rules decide which lines count towards ``min_num_sentences``; ``lorem ipsum`` and
    a curly bracket on a counted line reject the page. Sentences are the view's tokenizer's."""

    def __init__(
        self,
        split_paragraph: bool = True,
        remove_citations: bool = True,
        filter_no_terminal_punct: bool = True,
        min_num_sentences: int = 5,
        min_words_per_line: int = 3,
        max_word_length: int = 1000,
        filter_lorem_ipsum: bool = True,
        filter_javascript: bool = True,
        filter_curly_bracket: bool = True,
        filter_policy: bool = True,
    ):
        self.split_paragraph, self.remove_citations = split_paragraph, remove_citations
        self.filter_no_terminal_punct = filter_no_terminal_punct
        self.min_num_sentences, self.min_words_per_line = min_num_sentences, min_words_per_line
        self.max_word_length = max_word_length
        self.filter_lorem_ipsum, self.filter_javascript = filter_lorem_ipsum, filter_javascript
        self.filter_curly_bracket, self.filter_policy = filter_curly_bracket, filter_policy

    @staticmethod
    def _sentence_texts(view: TextView) -> list[str]:
        """datatrove's ``split_into_sentences``: text cut at the sentence spans' ends (at least one part)."""
        text = view.text
        ends = [end for _, end in view.tokenizer.span_tokenize(text)]
        return [text[a:b] for a, b in zip([0, *ends[:-1]], [*ends[:-1], len(text)], strict=True)]

    def _kept_lines(self, view: TextView) -> list[str] | str:
        """The lines C4 keeps, or the reason that rejects the page first."""
        kept = []
        for raw in view.lines if self.split_paragraph else self._sentence_texts(view):
            line = raw.strip()
            words = line.split()
            if self.max_word_length != -1 and words and max(map(len, words)) > self.max_word_length:
                continue
            if self.remove_citations and "[" in line:
                line = CITATION_REGEX.sub("", line)
            if self.filter_no_terminal_punct and (
                not line.endswith(END_PUNCTUATION) or line.endswith(ELLIPSIS)
            ):
                continue
            if len(words) < self.min_words_per_line:
                continue
            lower = line.lower()
            if self.filter_lorem_ipsum and "lorem ipsum" in lower:
                return "lorem_ipsum"
            if self.filter_javascript and "javascript" in lower:
                continue
            if self.filter_curly_bracket and "{" in line:
                return "curly_bracket"
            if self.filter_policy and any(p in lower for p in POLICY_SUBSTRINGS):
                continue
            kept.append(line)
        return kept

    def check(self, view: TextView) -> str | None:
        kept = self._kept_lines(view)
        if isinstance(kept, str):
            return kept
        if len(kept) >= self.min_num_sentences:  # -1 (off) and 0 always
            return None
        if self.split_paragraph:
            count = 0
            for line in kept:
                count += view.tokenizer.sentence_count(line)
                if count >= self.min_num_sentences:
                    return None
        return "too_few_sentences"


class FineWebQuality:
    """FineWeb's quality rules (Penedo et al. 2024), datatrove's defaults and reasons."""

    def __init__(
        self,
        line_punct_thr: float = 0.12,
        line_punct_exclude_zero: bool = False,
        stop_chars: tuple[str, ...] | None = None,
        short_line_thr: float = 0.67,
        short_line_length: int = 30,
        char_duplicates_ratio: float = 0.01,
        new_line_ratio: float = 0.3,
    ):
        self.line_punct_thr, self.line_punct_exclude_zero = line_punct_thr, line_punct_exclude_zero
        self.stop_chars = stop_chars if stop_chars is not None else tuple(TERMINAL_PUNCTUATION)
        self.short_line_thr, self.short_line_length = short_line_thr, short_line_length
        self.char_duplicates_ratio, self.new_line_ratio = char_duplicates_ratio, new_line_ratio

    def check(self, view: TextView) -> str | None:
        """Raises ``ZeroDivisionError`` where datatrove does (lines but no words)."""
        text = view.text
        lines = [line for line in text.split("\n") if line.strip() != ""]
        if not lines:
            return "empty"
        ratio = sum(1 for line in lines if line.endswith(self.stop_chars)) / len(lines)
        if ratio < self.line_punct_thr and not (ratio == 0 and self.line_punct_exclude_zero):
            return "line_punct_ratio"
        ratio = sum(1 for line in lines if len(line) <= self.short_line_length) / len(lines)
        if ratio > self.short_line_thr:
            return "short_line_ratio"
        if duplicates(lines)[1] / len(text.replace("\n", "")) > self.char_duplicates_ratio:
            return "char_dup_ratio"
        if text.count("\n") / len(view.words) > self.new_line_ratio:
            return "list_ratio"
        return None
