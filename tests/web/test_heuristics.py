"""heuristics stage: datatrove's Gopher/C4/FineWeb rules with per-language tokenizers and thresholds."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from corpus.stages.base import REASON, StageContext
from corpus.stages.heuristics import Params, heuristics_batch, run

# datatrove's Japanese tokenizer calls a SudachiPy method that SudachiPy deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Dictionary.create:DeprecationWarning")

# A project-written English article (the unit tests need no third-party data).
ARTICLE = "\n".join(
    [
        "The city council approved the new budget for the public library on Tuesday evening.",
        "After two years of debate, the members agreed that the building needs a new roof and better heating.",
        "The library director said that the money will also be used to extend the opening hours on weekends.",
        "Many residents had asked for more space where children can read and study after school.",
        "The work is expected to begin in the spring and to be finished before the end of the year.",
        "During the construction, a temporary reading room will be opened in the old post office building.",
        "The council also voted to review the budget again next year, when the final costs are known.",
    ]
)


def _reasons(texts: list[str], langs: list[str | None], params: Params | None = None) -> list[str | None]:
    batch = pa.RecordBatch.from_pydict(
        {"id": [str(i) for i in range(len(texts))], "text": texts, "lang": langs}
    )
    return heuristics_batch(batch, params or Params()).column(REASON).to_pylist()


def test_english_article_kept_and_each_filter_names_its_rule():
    short = (
        "The library will open a temporary reading room in the old post office while the roof is repaired."
    )
    repeated = "\n".join(
        ["Buy the best watches and have them delivered to your door with free shipping."] * 20
    )
    curly = ARTICLE + "\nvar config = { debug: true };"
    hashtags = ARTICLE + "\n" + " ".join(f"#tag{i}" for i in range(60))
    reasons = _reasons([ARTICLE, short, repeated, curly, hashtags], ["en"] * 5)
    assert reasons == [
        None,
        "filter:gopher_short_doc",
        "filter:gopher_rep_dup_line_frac",
        "filter:c4_curly_bracket",
        "filter:gopher_too_many_hashes",
    ]


def test_rules_are_switchable_and_configurable_globally_and_per_language():
    curly = ARTICLE + "\nvar config = { debug: true };"
    assert _reasons([curly], ["en"], Params(c4={"disable": ["filter_curly_bracket"]})) == [None]
    assert _reasons([curly], ["en"], Params(c4={"enabled": False})) == [None]
    strict = Params(gopher_quality={"min_doc_words": 500})
    assert _reasons([ARTICLE], ["en"], strict) == ["filter:gopher_short_doc"]
    per_lang = Params(per_lang={"en": {"gopher_quality": {"min_doc_words": 500}}})
    assert (
        _reasons([ARTICLE, ARTICLE], ["en", None], per_lang) == ["filter:gopher_short_doc"] * 2
    )  # None -> default_lang
    assert _reasons([ARTICLE], ["de"], per_lang) == ["filter:gopher_enough_stop_words"]  # German rules
    back_on = Params(c4={"enabled": False}, per_lang={"en": {"c4": {"enabled": True}}})
    assert _reasons([curly], ["en"], back_on) == ["filter:c4_curly_bracket"]
    with pytest.raises(ValueError):
        Params(gopher_quality={"disable": ["no_such_rule"]})


def test_language_without_installed_tokenizer_falls_back_and_keeps_running():
    # Korean: datatrove's tokenizer needs kiwipiepy (not a dependency) -> whitespace words,
    # no stop-word or word-length rule; the other rules still apply.
    korean = "\n".join(
        ["서울시는 화요일 저녁 공공 도서관의 새 예산을 승인했다. 공사는 봄에 시작될 예정이다."] * 1
    )
    assert _reasons(["", korean * 3], ["ko", "ko"]) == ["filter:empty", "filter:gopher_short_doc"]


def _sentences(shared_data: Path, lang: str) -> list[str]:
    path = shared_data / "langid" / "lingua_sentences" / f"{lang}.txt"
    return [s.strip() for s in path.read_text(encoding="utf-8").splitlines() if len(s.strip()) > 10]


def _good_docs(sentences: list[str], lang: str, n: int = 10) -> list[str]:
    """``n`` documents of 5 paragraphs x 4 consecutive real sentences."""
    sep = "" if lang in ("zh", "ja") else " "
    docs, k = [], 0
    for _ in range(n):
        paragraphs = []
        for _ in range(5):
            paragraphs.append(sep.join(sentences[k : k + 4]))
            k += 4
        docs.append("\n".join(paragraphs))
    return docs


def _spam_docs(sentences: list[str], lang: str) -> list[str]:
    """Spam and boilerplate made from the same language's words."""
    tail = sentences[-60:]
    fragments = [s[:4] if lang in ("zh", "ja") else " ".join(s.split()[:2]) for s in tail]
    hashtags = " ".join(f"#{fragment.split()[0]}" for fragment in fragments)
    return [
        "\n".join([tail[0]] * 15),  # one line repeated
        "\n".join(fragments),  # keyword list / navigation menu: short lines, no sentences
        tail[1],  # a single sentence
        tail[2] + "\n" + hashtags,  # a sentence drowned in hashtags
    ]


LANGS = ["en", "de", "fr", "es", "ru", "zh", "ja"]


def test_non_english_text_is_kept_like_english_and_spam_is_removed(shared_data: Path):
    from datatrove.data import Document
    from datatrove.pipeline.filters import GopherQualityFilter

    english_gopher = GopherQualityFilter()  # datatrove's default: English stop words and statistics
    keep_rate, english_rules_rate = {}, {}
    for lang in LANGS:
        sentences = _sentences(shared_data, lang)
        good, spam = _good_docs(sentences, lang), _spam_docs(sentences, lang)
        reasons = _reasons(good + spam, [lang] * (len(good) + len(spam)))
        keep_rate[lang] = sum(r is None for r in reasons[: len(good)]) / len(good)
        assert all(r is not None for r in reasons[len(good) :]), (lang, reasons[len(good) :])
        english_rules_rate[lang] = sum(
            english_gopher.filter(Document(text=d, id="")) is True for d in good
        ) / len(good)
    print("keep rate of real sentences as documents, language-aware:", keep_rate)
    print("keep rate with datatrove's default (English) Gopher quality rules:", english_rules_rate)
    # The problem this stage solves: English rules throw away good non-English text ...
    assert max(english_rules_rate[lang] for lang in LANGS if lang != "en") <= 0.25
    # ... and ours keep it at the English rate.
    assert keep_rate["en"] >= 0.85
    for lang in LANGS[1:]:
        assert keep_rate[lang] >= keep_rate["en"] - 0.15, (lang, keep_rate)


def test_run_on_spark_reports_rules_per_language(spark, tmp_path):
    df = spark.createDataFrame(
        [("a", ARTICLE, "en"), ("b", "Click here to subscribe now.", "en"), ("c", ARTICLE, None)],
        "id string, text string, lang string",
    ).coalesce(1)  # one Python worker loads spaCy, not two
    ctx = StageContext(
        spark=spark,
        name="heuristics",
        seed=0,
        inputs={"prev": df},
        base_dir=Path.cwd(),
        output_dir=str(tmp_path),
    )
    out = run(ctx, Params())
    rows = {r["id"]: r[REASON] for r in out.rows.collect()}
    assert rows == {"a": None, "b": "filter:gopher_short_doc", "c": None}
    assert set(out.metrics["rules"]) == {"en"}
    assert out.metrics["rules"]["en"]["tokenizer"] == "SpaCyTokenizer(en)"
