"""Gopher / C4 / FineWeb quality filters per language: datatrove's rules on shared tokens.

A :class:`FilterChain` holds the enabled rule sets of :mod:`corpus.text.quality_rules`, built
with the language's word tokenizer and resolved keyword arguments (per-language table, then user
layers), tokenises each text once and returns the first failing rule as ``filter:<rule>``.
:func:`datatrove_filters` builds datatrove's own filter classes from the same arguments: the
reference that tests/web/test_heuristics_equivalence.py and bench/heuristics_vs_datatrove.py
compare the chain with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from corpus.text.lang_rules import FILTERS, rules_for
from corpus.text.quality_rules import C4Quality, FineWebQuality, GopherQuality, GopherRepetition, TextView
from corpus.text.word_tokenizers import WordsOnly, shared_tokenizer, word_tokenizer

# Reason prefix per filter: datatrove's Gopher-quality reasons already start with "gopher_".
_PREFIX = {
    "gopher_repetition": "gopher_rep_",
    "gopher_quality": "gopher_",
    "c4": "c4_",
    "fineweb": "fineweb_",
}

OFF: dict[str, dict[str, Any]] = {
    "gopher_quality": dict.fromkeys(
        (
            "min_doc_words",
            "max_doc_words",
            "min_avg_word_length",
            "max_avg_word_length",
            "max_symbol_word_ratio",
            "max_bullet_lines_ratio",
            "max_ellipsis_lines_ratio",
            "max_non_alpha_words_ratio",
            "min_stop_words",
        )
    ),
    "gopher_repetition": {
        "dup_line_frac": 0,
        "dup_para_frac": 0,
        "dup_line_char_frac": 0,
        "dup_para_char_frac": 0,
        "top_n_grams": (),
        "dup_n_grams": (),
    },
    "c4": {
        "filter_no_terminal_punct": False,
        "min_num_sentences": -1,
        "min_words_per_line": -1,
        "max_word_length": -1,
        "filter_lorem_ipsum": False,
        "filter_javascript": False,
        "filter_curly_bracket": False,
        "filter_policy": False,
    },
    "fineweb": {
        "line_punct_thr": 0.0,
        "short_line_thr": math.inf,
        "char_duplicates_ratio": math.inf,
        "new_line_ratio": math.inf,
    },
}
"""The value that switches each rule off in datatrove's implementation (its falsy checks,
``-1`` for C4's counts, an unreachable ratio for FineWeb's)."""

Layer = Mapping[str, Mapping[str, Any]]
"""User overrides: ``{filter: {"enabled": bool | None, "disable": [rule], "values": {kwarg: value}}}``."""


def resolve(lang: str, layers: Sequence[Layer]) -> dict[str, dict[str, Any] | None]:
    """Keyword arguments per filter for ``lang`` (None = filter off): table, then each layer."""
    tok, fallback = word_tokenizer(lang)
    base = rules_for(lang, tok, fallback)
    out: dict[str, dict[str, Any] | None] = {}
    for name in FILTERS:
        kwargs, enabled = dict(base[name]), True
        for layer in layers:
            spec = layer.get(name) or {}
            if spec.get("enabled") is not None:
                enabled = spec["enabled"]
            kwargs.update(spec.get("values") or {})
            for rule in spec.get("disable") or ():
                kwargs[rule] = OFF[name][rule]
        out[name] = kwargs if enabled else None
    return out


class FilterChain:
    """The enabled filters for one language, in :data:`FILTERS` order."""

    def __init__(self, lang: str, layers: Sequence[Layer]):
        self.lang = lang
        self.tokenizer, self.tokenizer_is_fallback = word_tokenizer(lang)
        self.kwargs = resolve(lang, layers)
        self.shared = shared_tokenizer(lang)
        rules = {
            "gopher_quality": GopherQuality,
            "gopher_repetition": GopherRepetition,
            "c4": C4Quality,
            "fineweb": FineWebQuality,
        }
        self.filters = [
            (name, rules[name](**kwargs)) for name, kwargs in self.kwargs.items() if kwargs is not None
        ]

    def __call__(self, text: str, doc_id: str = "") -> str | None:
        """None when ``text`` passes every filter, else ``filter:<rule>`` of the first failure.
        Each filter sees the text as given (C4's line edits are not carried over): the stage
        decides, it does not rewrite ``text``. ``doc_id`` is unused (kept for callers)."""
        # Trailing spaces carry no signal, but FineWeb's and C4's line rules test endswith(".")
        # on the raw line: extracted text often keeps a space before the newline.
        view = TextView(normalize_lines(text), self.shared)
        for name, rules in self.filters:
            try:
                reason = rules.check(view)
            except Exception as e:  # e.g. a ratio over zero words: this document fails, not the run
                return f"filter:{name}_error:{type(e).__name__}"
            if reason is not None:
                prefix = _PREFIX[name]
                return f"filter:{reason if reason.startswith(prefix) else prefix + reason}"
        return None

    def describe(self) -> dict[str, Any]:
        """The resolved rules, JSON-safe and short (for the stage manifest)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and math.isinf(v):
                return "off"
            if isinstance(v, tuple):
                return [clean(x) for x in v]
            return v

        rules: dict[str, Any] = {}
        for name, kwargs in self.kwargs.items():
            if kwargs is None:
                rules[name] = "off"
                continue
            rules[name] = {k: clean(v) for k, v in kwargs.items() if k != "stop_words"}
            if "stop_words" in kwargs:
                words = kwargs["stop_words"]
                rules[name]["stop_words"] = words if len(words) <= 30 else f"{len(words)} words (spaCy)"
        tok = type(getattr(self.tokenizer, "inner", self.tokenizer)).__name__
        lang = getattr(self.tokenizer, "language", None)
        return {
            "tokenizer": f"{tok}({lang})" if lang else tok,
            "tokenizer_fallback": self.tokenizer_is_fallback,
            **rules,
        }


def normalize_lines(text: str) -> str:
    """``text`` with trailing whitespace removed from every line (what every rule sees)."""
    return "\n".join(line.rstrip() for line in text.split("\n"))


def datatrove_filters(lang: str, layers: Sequence[Layer]) -> list[tuple[str, Any]]:
    """datatrove's filter objects for ``lang`` configured as :class:`FilterChain` is, in its
    order: the same keyword arguments, the language's word tokenizer (datatrove's, unwrapped),
    and ``WordsOnly`` words for Gopher quality. Feed them :func:`normalize_lines` text."""
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    classes = {
        "gopher_repetition": GopherRepetitionFilter,
        "gopher_quality": GopherQualityFilter,
        "c4": C4QualityFilter,
        "fineweb": FineWebQualityFilter,
    }
    tokenizer, _ = word_tokenizer(lang)
    inner = getattr(tokenizer, "inner", tokenizer)
    return [
        (name, classes[name](language=WordsOnly(inner) if name == "gopher_quality" else inner, **kwargs))
        for name, kwargs in resolve(lang, layers).items()
        if kwargs is not None
    ]


def datatrove_reason(filters: list[tuple[str, Any]], text: str, doc_id: str = "") -> str | None:
    """:class:`FilterChain`'s answer computed by datatrove's filters (see :func:`datatrove_filters`)."""
    from datatrove.data import Document
    from datatrove.pipeline.filters.base_filter import get_filter_result

    for name, flt in filters:
        try:
            keep, reason = get_filter_result(flt.filter(Document(text=text, id=doc_id)))
        except Exception as e:
            return f"filter:{name}_error:{type(e).__name__}"
        if not keep:
            reason = reason or "rejected"
            prefix = _PREFIX[name]
            return f"filter:{reason if reason.startswith(prefix) else prefix + reason}"
    return None
