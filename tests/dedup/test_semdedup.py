"""SemDedup: the greedy per-cluster rule against a brute-force reference, and the stage on
template pages (collapsed) versus unrelated pages on the same topic (kept)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corpus.dedup import embed
from corpus.dedup import semdedup as sd
from corpus.dedup.minhash_sig import s_curve_threshold
from corpus.errors import UserError
from corpus.stages import minhash, semdedup
from corpus.stages.base import REASON, StageContext
from tests.dedup.neardups import exact_jaccard_pairs

MINILM = "all-minilm-l6-v2"
"""These tests pin the English MiniLM option (the stage default is USE multilingual; see
tests/multilingual/test_semdedup_languages.py): their cosines and eps are MiniLM's."""


def _reference(x: np.ndarray, order: np.ndarray, eps: float) -> np.ndarray:
    rep, kept = np.arange(len(x)), []
    for i in order:
        for k in kept:
            if x[i] @ x[k] >= 1 - eps:
                rep[i] = k
                break
        else:
            kept.append(i)
    return rep


@pytest.mark.parametrize("eps", [0.05, 0.4, 0.7])
def test_greedy_matches_reference_across_blocks(monkeypatch, eps):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    x[40] = x[3] + 0.01  # near-twins of a row visited earlier
    x[250] = x[3]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    order = rng.permutation(300)
    monkeypatch.setattr(sd, "BLOCK", 64)  # several blocks: kept rows from earlier blocks count
    got = sd.greedy_representatives(x, order, eps)
    assert np.array_equal(got, _reference(x, order, eps))
    assert got[250] == got[40] == got[3] or eps < 0.05 + 1e-9


def test_length_batches_cover_every_text_once_with_little_padding():
    lengths = np.array([256] * 5 + [30, 31, 28, 200, 9, 12] * 30 + [1])
    batches = embed.length_batches(lengths, 64)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert all(0 < len(b) <= 64 for b in batches)
    for b in batches:  # ascending inside a batch, longest within the growth bound of the shortest
        assert np.all(np.diff(lengths[b]) >= 0)
        assert lengths[b][-1] <= embed.PAD_GROWTH * lengths[b][0] + 8
    assert embed.length_batches(np.array([], dtype=np.int64), 64) == []


SHIRT = (
    "Classic crew neck t-shirt in {c}. This {c} t-shirt is made from soft organic cotton that is grown without "
    "pesticides and spun in a mill that runs on renewable energy. The fabric weighs 180 grams per square metre, heavy "
    "enough to hang well and light enough for summer. The {c} colour is dyed with low-impact dyes. Seams are double "
    "stitched at the hem and sleeves, and the neck is finished with a ribbed collar that keeps its shape. Our {c} "
    "t-shirt has a regular fit: it is straight through the body and not too long, so it works tucked in or worn loose. "
    "Size guide for the {c} t-shirt: if you are between two sizes, we recommend the smaller one for a close fit and the "
    "larger one for a relaxed look. Care: wash the {c} t-shirt inside out at thirty degrees with similar colours, do not "
    "tumble dry, and iron on a low setting. Delivery of your {c} t-shirt is free on orders over fifty euros and returns "
    "are free within thirty days. Customers who bought this {c} t-shirt also looked at the {c} hoodie. Every order is "
    "packed in recycled paper and shipped carbon neutral."
)
COLOURS = ["red", "blue", "green", "black", "white", "grey", "navy", "yellow"]
SAME_TOPIC = [
    "I bought three of these t-shirts last summer and two of them shrank after the first wash, even though I followed "
    "the care label. The cotton feels nice but the quality is not consistent.",
    "How to fold a t-shirt in two seconds: pinch the shoulder and the middle of the side, cross your hands, and shake "
    "it out. It takes some practice but saves space in drawers.",
    "The history of the t-shirt goes back to undershirts issued by the US Navy in the early twentieth century; it "
    "became fashionable outerwear after actors wore it in films of the 1950s.",
    "Organic cotton uses less water than conventional cotton according to some studies, but yields are lower, and the "
    "environmental benefit depends on the region where it is grown.",
    "Our shop sells plain t-shirts in bulk for printing. Choose from twenty colours and all sizes; discounts start at "
    "fifty pieces and we ship within two working days.",
    "A good t-shirt for running wicks sweat away from the skin: look for polyester blends or merino wool rather than "
    "cotton, which stays wet and heavy.",
]


def _docs():
    rows = [
        {"id": f"tpl-{c}", "text": SHIRT.format(c=c), "quality_score": 0.5 + 0.05 * i}
        for i, c in enumerate(COLOURS)
    ]
    rows += [{"id": f"other-{i}", "text": t, "quality_score": 0.5} for i, t in enumerate(SAME_TOPIC)]
    return rows


def _ctx(spark, df, tmp_path, seed=0):
    return StageContext(
        spark=spark,
        name="semdedup",
        seed=seed,
        inputs={"minhash": df},
        base_dir=Path.cwd(),
        output_dir=str(tmp_path),
    )


@pytest.mark.slow  # minhash and semdedup stages on Spark: 231 s at load 10-20
def test_template_pages_survive_minhash_and_collapse_under_semdedup(spark, tmp_path):
    """Eight pages from one template, differing in a colour word nine times (exact Jaccard
    ~0.65 < t = 0.72: MinHash, verified at t, keeps all of them), plus six unrelated pages about
    t-shirts. With eps = 0.2 (all-MiniLM-L6-v2 puts the template pages at cosine >= 0.8 and the
    unrelated ones below 0.65) SemDedup keeps one template page, the best-quality one, and every
    unrelated page; a rerun with the same seed gives identical rows."""
    rows = _docs()
    t = s_curve_threshold(14, 8)
    templates = [r["text"] for r in rows if r["id"].startswith("tpl")]
    assert max(exact_jaccard_pairs(templates).values()) < t
    df = spark.createDataFrame(
        [(r["id"], r["text"], r["quality_score"]) for r in rows],
        "id string, text string, quality_score double",
    )

    after_minhash = minhash.run(_ctx(spark, df, tmp_path), minhash.Params(verify_threshold=round(t, 4)))
    assert after_minhash.rows.where(f"{REASON} is not null").count() == 0

    params = semdedup.Params(model=MINILM, eps=0.2, keep="quality", n_clusters=2)
    out = semdedup.run(_ctx(spark, df.repartition(2), tmp_path), params)
    got = {r["id"]: r for r in out.rows.collect()}
    assert len(got) == len(rows)
    best = f"tpl-{COLOURS[-1]}"  # highest quality_score of the template pages
    for doc_id, r in got.items():
        if doc_id.startswith("tpl") and doc_id != best:
            assert r[REASON] == f"semdedup_duplicate_of:{best}", doc_id
        else:
            assert r[REASON] is None, doc_id
    assert got[best]["semdup_cluster_size"] == len(COLOURS)
    assert got["other-0"]["semdup_cluster_size"] == 1
    assert len(got["other-0"]["embedding"]) == 384
    assert out.metrics["duplicates_removed"] == len(COLOURS) - 1
    assert out.metrics["cluster_size_histogram"] == {"5-8": 1}

    again = semdedup.run(_ctx(spark, df.repartition(2), tmp_path), params)
    assert sorted(again.rows.drop("embedding").collect()) == sorted(out.rows.drop("embedding").collect())


def test_default_eps_only_removes_near_verbatim_copies_and_reuses_embeddings(spark, tmp_path):
    """NeMo Curator's eps = 0.01: the template pages stay, a copy differing in whitespace and
    one word goes. The second run reads the stored embeddings instead of encoding."""
    rows = _docs()
    rows.append(
        {
            "id": "tpl-red-copy",
            "text": SHIRT.format(c="red").replace("summer", "the summer  "),
            "quality_score": 0.1,
        }
    )
    df = spark.createDataFrame(
        [(r["id"], r["text"], r["quality_score"]) for r in rows],
        "id string, text string, quality_score double",
    )
    out = semdedup.run(_ctx(spark, df, tmp_path), semdedup.Params(model=MINILM, keep="hard"))
    removed = {r["id"]: r[REASON] for r in out.rows.where(f"{REASON} is not null").collect()}
    assert set(removed) <= {"tpl-red", "tpl-red-copy"} and len(removed) == 1
    assert out.metrics["embeddings_reused"] is False

    stored = out.rows.drop(REASON, "semdup_cluster_size")
    again = semdedup.run(_ctx(spark, stored, tmp_path), semdedup.Params(model=MINILM, keep="hard"))
    assert again.metrics["embeddings_reused"] is True
    assert {r["id"]: r[REASON] for r in again.rows.where(f"{REASON} is not null").collect()} == removed


def _rows(spark, rows, schema="id string, text string"):
    return spark.createDataFrame(rows, schema)


def test_edge_cases_empty_text_one_row_no_rows_and_more_clusters_than_rows(spark, tmp_path):
    """Null and empty text embed as the empty string (one group, one kept); n_clusters above
    the row count is cut to one (one per 40 sampled rows), so the copy of c still meets c; a
    1-row and a 0-row input run and keep what they get."""
    df = _rows(
        spark,
        [("a", None), ("b", ""), ("c", SAME_TOPIC[0]), ("d", SAME_TOPIC[1]), ("e", SAME_TOPIC[0])],
    )
    out = semdedup.run(_ctx(spark, df, tmp_path), semdedup.Params(model=MINILM, n_clusters=50))
    got = {r["id"]: r for r in out.rows.collect()}
    assert {i: got[i][REASON] for i in got} == {
        "a": None,
        "b": "semdedup_duplicate_of:a",
        "c": None,
        "d": None,
        "e": "semdedup_duplicate_of:c",
    }
    assert {len(r["embedding"]) for r in got.values()} == {384}
    assert out.metrics["n_clusters"] == 1 and out.metrics["n_clusters_requested"] == 50
    assert out.metrics["largest_kmeans_cluster"] == 5 and out.metrics["duplicates_removed"] == 2

    one = semdedup.run(_ctx(spark, df.where("id = 'c'"), tmp_path), semdedup.Params(model=MINILM))
    assert [(r["id"], r[REASON], r["semdup_cluster_size"]) for r in one.rows.collect()] == [("c", None, 1)]

    none = semdedup.run(_ctx(spark, df.where("id = 'z'"), tmp_path), semdedup.Params(model=MINILM))
    assert none.rows.count() == 0 and none.metrics["duplicates_removed"] == 0


def test_stored_embeddings_of_another_dimension_are_used_as_they_are(spark, tmp_path):
    """A stored 3-d column (not this model's 384, not unit-norm) is reused consistently:
    vectors pointing the same way are duplicates, whatever their length."""
    df = _rows(
        spark,
        [("a", "x", [1.0, 0.0, 0.0]), ("b", "y", [3.0, 0.0, 0.0]), ("c", "z", [0.0, 2.0, 0.0])],
        "id string, text string, embedding array<float>",
    )
    out = semdedup.run(_ctx(spark, df, tmp_path), semdedup.Params(model=MINILM, keep="easy"))
    assert out.metrics["embeddings_reused"] is True and out.metrics["embedding_dim"] == 3
    assert {r["id"]: r[REASON] for r in out.rows.collect()} == {
        "a": None,
        "b": "semdedup_duplicate_of:a",
        "c": None,
    }


@pytest.mark.parametrize(
    ("vectors", "message"),
    [
        ([[1.0, 0.0, 0.0], [1.0, 0.0], [0.0, 1.0, 0.0]], "vectors of 2 to 3 dimensions"),
        ([[1.0, 0.0], None, [0.0, 1.0]], "1 null rows"),
    ],
)
def test_unusable_stored_embeddings_are_one_user_error(spark, tmp_path, vectors, message):

    df = _rows(
        spark,
        [(f"d{i}", "t", v) for i, v in enumerate(vectors)],
        "id string, text string, embedding array<float>",
    )
    with pytest.raises(UserError, match=f"{message}; set reuse_embeddings: false"):
        semdedup.run(_ctx(spark, df, tmp_path), semdedup.Params(model=MINILM))


def test_missing_model_or_quality_column_is_one_user_error_before_any_work(spark, tmp_path):
    from corpus.errors import UserError

    df = _rows(spark, [("a", "text")])
    with pytest.raises(UserError, match=r"stage 'semdedup': embedding model folder .*nope.* does not exist"):
        semdedup.run(_ctx(spark, df, tmp_path), semdedup.Params(model="nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no modules.json or config.json"):
        semdedup.run(_ctx(spark, df, tmp_path), semdedup.Params(model=str(tmp_path / "empty")))
    with pytest.raises(UserError, match="quality needs a quality_score column"):
        semdedup.run(_ctx(spark, df, tmp_path), semdedup.Params(model=MINILM, keep="quality"))


def test_languages_limits_the_stage_to_listed_languages(spark, tmp_path):
    """With ``languages: [en]`` the English template pages collapse as without it, while two
    identical pages tagged ``ko`` are neither encoded nor removed (the default model is
    English-only); without ``lang`` in the input the option is one user error."""
    rows = [(r["id"], r["text"], r["quality_score"], "en") for r in _docs()]
    korean = "제철 채소는 맛이 좋고 값도 저렴하다. 봄에는 냉이와 달래로 국을 끓인다."
    rows += [("ko-1", korean, 0.5, "ko"), ("ko-2", korean, 0.5, "ko")]
    df = spark.createDataFrame(rows, "id string, text string, quality_score double, lang string")
    params = semdedup.Params(model=MINILM, eps=0.2, keep="quality", n_clusters=2, languages=["en"])
    out = semdedup.run(_ctx(spark, df, tmp_path), params)
    got = {r["id"]: r for r in out.rows.collect()}
    assert len(got) == len(rows)
    assert got["ko-1"][REASON] is None and got["ko-2"][REASON] is None
    assert got["ko-1"]["embedding"] is None and got["ko-1"]["semdup_cluster_size"] == 1
    assert out.metrics["duplicates_removed"] == len(COLOURS) - 1
    assert out.metrics["rows_in_scope"] == len(rows) - 2

    with pytest.raises(UserError, match="lang"):
        semdedup.run(_ctx(spark, df.drop("lang"), tmp_path), params)
