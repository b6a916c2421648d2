"""``heuristics``: Gopher quality, Gopher repetition, C4 and FineWeb quality filters, per language.

The rules are datatrove's (``GopherQualityFilter``, ``GopherRepetitionFilter``, ``C4QualityFilter``,
``FineWebQualityFilter``), computed by :mod:`corpus.text.quality_rules` on one tokenisation of each
document shared by all four (the same verdicts and reasons as datatrove's classes, see
tests/web/test_heuristics_equivalence.py); a row's reason is its first failing rule. Word tokenizer,
stop words and thresholds follow each document's ``lang`` (from ``langid``): FineWeb-2's
per-language table in :mod:`corpus.text.lang_rules`, English keeping FineWeb's settings.

Configuration, in the order it applies (later wins):

1. the per-language table;
2. ``<filter>`` here: ``enabled``, ``disable: [rule]`` (a threshold's name; switches that rule
   off) and any threshold (applies to every language);
3. ``per_lang.<lang>.<filter>``: the same, for one language.

A threshold left unset (null) keeps the table's value. Removal reasons are
``filter:<rule>`` as datatrove names it, prefixed by its filter: ``filter:gopher_enough_stop_words``,
``filter:gopher_rep_top_2_gram``, ``filter:c4_curly_bracket``, ``filter:fineweb_line_punct_ratio``.
The stage does not edit ``text`` (C4's line removal is not applied, only its verdict).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
from pydantic import PositiveInt

from corpus.engine import stage_warnings
from corpus.engine.arrow_map import document_stage, with_columns
from corpus.stages.base import StageContext, StageOutput, StageParams

if TYPE_CHECKING:
    from corpus.text.quality_filters import FilterChain


class _Rules(StageParams):
    enabled: bool | None = None
    """None inherits (on by default)."""

    def layer(self) -> dict[str, Any]:
        values = self.model_dump(exclude_none=True, exclude={"enabled", "disable"})
        return {"enabled": self.enabled, "disable": list(getattr(self, "disable", [])), "values": values}


class GopherRepetitionRules(_Rules):
    disable: list[
        Literal[
            "dup_line_frac",
            "dup_para_frac",
            "dup_line_char_frac",
            "dup_para_char_frac",
            "top_n_grams",
            "dup_n_grams",
        ]
    ] = []
    dup_line_frac: float | None = None
    dup_para_frac: float | None = None
    dup_line_char_frac: float | None = None
    dup_para_char_frac: float | None = None
    top_n_grams: dict[PositiveInt, float] | None = None
    """``{n: max share of characters in the most frequent n-gram}``."""
    dup_n_grams: dict[PositiveInt, float] | None = None
    """``{n: max share of characters in repeated n-grams}``."""

    def layer(self) -> dict[str, Any]:
        out = super().layer()
        for key in ("top_n_grams", "dup_n_grams"):
            if key in out["values"]:
                out["values"][key] = tuple(sorted(out["values"][key].items()))
        return out


class GopherQualityRules(_Rules):
    disable: list[
        Literal[
            "min_doc_words",
            "max_doc_words",
            "min_avg_word_length",
            "max_avg_word_length",
            "max_symbol_word_ratio",
            "max_bullet_lines_ratio",
            "max_ellipsis_lines_ratio",
            "max_non_alpha_words_ratio",
            "min_stop_words",
        ]
    ] = []
    min_doc_words: int | None = None
    max_doc_words: int | None = None
    min_avg_word_length: float | None = None
    max_avg_word_length: float | None = None
    max_symbol_word_ratio: float | None = None
    max_bullet_lines_ratio: float | None = None
    max_ellipsis_lines_ratio: float | None = None
    max_non_alpha_words_ratio: float | None = None
    min_stop_words: int | None = None
    stop_words: list[str] | None = None


class C4Rules(_Rules):
    disable: list[
        Literal[
            "filter_no_terminal_punct",
            "min_num_sentences",
            "min_words_per_line",
            "max_word_length",
            "filter_lorem_ipsum",
            "filter_javascript",
            "filter_curly_bracket",
            "filter_policy",
        ]
    ] = []
    split_paragraph: bool | None = None
    remove_citations: bool | None = None
    filter_no_terminal_punct: bool | None = None
    min_num_sentences: int | None = None
    min_words_per_line: int | None = None
    max_word_length: int | None = None
    filter_lorem_ipsum: bool | None = None
    filter_javascript: bool | None = None
    filter_curly_bracket: bool | None = None
    filter_policy: bool | None = None


class FineWebRules(_Rules):
    disable: list[Literal["line_punct_thr", "short_line_thr", "char_duplicates_ratio", "new_line_ratio"]] = []
    line_punct_thr: float | None = None
    line_punct_exclude_zero: bool | None = None
    short_line_thr: float | None = None
    short_line_length: int | None = None
    char_duplicates_ratio: float | None = None
    new_line_ratio: float | None = None


class LangOverrides(StageParams):
    gopher_repetition: GopherRepetitionRules = GopherRepetitionRules()
    gopher_quality: GopherQualityRules = GopherQualityRules()
    c4: C4Rules = C4Rules()
    fineweb: FineWebRules = FineWebRules()

    def layer(self) -> dict[str, Any]:
        from corpus.text.lang_rules import FILTERS  # datatrove

        return {name: getattr(self, name).layer() for name in FILTERS}


class Params(LangOverrides):
    default_lang: str = "en"
    """Language assumed for rows without ``lang`` (no langid stage upstream)."""
    per_lang: dict[str, LangOverrides] = {}


@functools.cache
def _chain(params_json: str, lang: str) -> FilterChain:
    """One chain per (params, language) per Python worker: tokenizers and filters load once."""
    from corpus.text.quality_filters import FilterChain  # datatrove

    params = Params.model_validate_json(params_json)
    layers = [params.layer()]
    if lang in params.per_lang:
        layers.append(params.per_lang[lang].layer())
    return FilterChain(lang, layers)


def heuristics_batch(batch: pa.RecordBatch, params: Params) -> pa.RecordBatch:
    """Set the removal reason of each row from its language's filter chain."""
    key = params.model_dump_json()
    texts = batch.column("text").to_pylist()
    ids = batch.column("id").to_pylist() if "id" in batch.schema.names else [""] * len(texts)
    langs = batch.column("lang").to_pylist() if "lang" in batch.schema.names else [None] * len(texts)
    reasons = [
        _chain(key, lang or params.default_lang)(text, doc_id) if text else "filter:empty"
        for text, doc_id, lang in zip(texts, ids, langs, strict=True)
    ]
    return with_columns(batch, {}, reasons)


def _rows_by_language(df, default: str) -> dict[str, int]:
    """Rows per ``lang`` (null: ``default``) of a committed dataset, from its ``lang`` column
    read with pyarrow (:mod:`corpus.engine.scan`: no Spark job)."""
    import pyarrow.compute as pc

    from corpus.engine.scan import scan

    if "lang" not in df.columns:
        return {default: sum(b.num_rows for b in scan(df, ["id"]))} if df.inputFiles() else {}
    counts: dict[str, int] = {}
    for batch in scan(df, ["lang"]):
        for r in pc.value_counts(pc.fill_null(batch.column(0), default)).to_pylist():
            counts[r["values"]] = counts.get(r["values"], 0) + r["counts"]
    return counts


def run(ctx: StageContext, params: Params) -> StageOutput:
    df = ctx.input
    rows_in = _rows_by_language(df, params.default_lang)
    langs = sorted(rows_in) or [params.default_lang]
    key = params.model_dump_json()
    metrics = {"rules": {lang: _chain(key, lang).describe() for lang in langs}}

    def after_write(kept) -> dict[str, Any]:
        """Warn about a language this stage removed almost entirely (its rules may not fit it)."""
        kept_by_lang = _rows_by_language(kept, params.default_lang)
        return stage_warnings.add({}, stage_warnings.language_removal(ctx.name, rows_in, kept_by_lang))

    return document_stage(ctx, heuristics_batch, params, metrics=metrics, after_write=after_write)
