"""The numpy fastText reader/predictor against fastText itself, on real text.

Every shipped classifier (``classifiers/**/model.ftz``: quantised input with norms, pruned
or unpruned n-gram index, word n-grams 1 or 2) and models trained here (dense ``.bin``;
quantised without norms or pruning; one without an EOS word; one with subwords, which falls
back to fastText) predict the same probabilities as fastText's ``predict(normalize(text),
k=n_labels, threshold=0)`` within 1e-5, on article bodies (news and blog text), Python and C
sources from the venv's site-packages, and edge texts fastText tokenises its own way (NUL
bytes, "</s>", "__label__" tokens, Unicode whitespace, very long words).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from corpus.scoring import fasttext_model, fasttext_numpy

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted(ROOT.glob("classifiers/**/model.ftz"))
SITE = Path(np.__file__).resolve().parents[1]  # the venv's site-packages

EDGE = [
    None,
    "",
    " ",
    "\t\n \u3000\xa0 \x1c",
    "zzqxvjk",
    "a\0b c\0\0d \0",
    "héllo wörld ÜNÏCÖDÉ 日本語 текст ΣΊΣΥΦΟΣ ὈΔΥΣΣΕΎΣ",
    "x" * 5000,
    "a" * 300 + " the " + "b" * 40 + " of " + "é" * 130,
    "the news </s> of the day",
    "</S> the day",
    "__label__1 the __label__zz news __label__ __label_x",
    "the\x1cnews\x1fof\x85the\u2028day\u205fand\u2000the\u200a",
    "the of and " * 3000,
    "\ud800 the lone surrogate",
]


def _regex_normalize(text, max_chars):
    """The former ``normalize`` (the reference the new one must equal)."""
    return re.sub(r"\s+", " ", (text or "")[:max_chars]).strip().lower()


@pytest.fixture(scope="module")
def articles(shared_data):
    gt = shared_data / "extraction" / "article_extraction_benchmark" / "ground-truth.json"
    return [v["articleBody"] for v in json.loads(gt.read_text()).values() if v.get("articleBody")]


@pytest.fixture(scope="module")
def sources():
    """Real Python and C files (every 40th of the sorted site-packages listing)."""
    py = sorted(SITE.rglob("*.py"))[::40][:120]
    c = sorted([*SITE.rglob("*.c"), *SITE.rglob("*.h")])[::3][:40]
    return [p.read_text(encoding="utf-8", errors="replace") for p in [*py, *c]]


def _fasttext_probs(path: str, texts, max_chars: int, n: int) -> np.ndarray:
    """fastText's own ``predict`` per line, into bin columns (NaN where it cannot take the
    line: a lone surrogate is no valid UTF-8 for its binding)."""
    ft = fasttext_model.load(path)
    out = np.zeros((len(texts), n), np.float32)
    for i, t in enumerate(texts):
        try:
            labels, probs = ft.predict(fasttext_model.normalize(t, max_chars), k=n, threshold=0.0)
        except (TypeError, UnicodeEncodeError):
            out[i] = np.nan
            continue
        for label, p in zip(labels, probs, strict=True):
            out[i, int(label[len(fasttext_model.LABEL) :])] = p
    return out


def _check_equal(path: str, texts, max_chars: int) -> fasttext_numpy.FastTextModel:
    model = fasttext_numpy.FastTextModel(path)
    assert model.unsupported() is None, model.unsupported()
    want = _fasttext_probs(path, texts, max_chars, model.nlabels)
    for tok in ("bytes", "str"):
        got = model.predict_proba(texts, max_chars, tok)
        assert got.dtype == np.float32 and got.shape == want.shape
        ok = ~np.isnan(want[:, 0])
        np.testing.assert_allclose(got[ok], want[ok], atol=1e-5, rtol=0, err_msg=f"{path} {tok}")
    return model


def test_normalize_split_equals_regex_whitespace_on_every_code_point(articles):
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        space = c.isspace()
        assert bool(re.fullmatch(r"\s", c)) == space == (len(f"a{c}b".split()) == 2), hex(cp)
        # lower() neither makes nor removes a separator, so lowering before splitting is safe
        assert space == any(x.isspace() for x in c.lower()) or c.lower() == c, hex(cp)
        if not space:
            assert not any(x.isspace() or x == "\0" for x in c.lower()) or cp == 0, hex(cp)
    for t in [*articles, *EDGE]:
        for max_chars in (50, 1500, 10_000):
            assert fasttext_model.normalize(t, max_chars) == _regex_normalize(t, max_chars)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT / "classifiers").parent))
def test_shipped_model_probabilities_equal_fasttext(path, articles, sources):
    card = json.loads((path.parent / "model_card.json").read_text())["model"]
    texts = [*articles, *sources, *EDGE]
    model = _check_equal(str(path), texts, card["max_chars"])
    # the reader's dictionary and rows are fastText's
    ft = fasttext_model.load(str(path))
    assert model.words[: model.nwords] == ft.words and model.labels == ft.labels
    a = ft.f.getArgs()
    assert (model.args.dim, model.args.word_ngrams, model.args.bucket, model.args.maxn) == (
        a.dim,
        a.wordNgrams,
        a.bucket,
        a.maxn,
    )
    rows = range(0, model.input.shape[0], 97)
    np.testing.assert_array_equal(model.input[list(rows)], np.stack([ft.get_input_vector(i) for i in rows]))
    # the score stage's entry point takes the numpy path for it
    assert fasttext_model._numpy_model(str(path)) is not None
    np.testing.assert_array_equal(
        fasttext_model.predict_proba(str(path), texts[:50], model.nlabels, card["max_chars"]),
        model.predict_proba(texts[:50], card["max_chars"]),
    )


def test_hash_is_fasttexts_with_sign_extended_bytes():
    path = str(ROOT / "classifiers" / "web_quality" / "model.ftz")
    ft = fasttext_model.load(path)
    nwords, bucket = len(ft.words), ft.f.getArgs().bucket
    words = ["the", "héllo", "日本語", "\x7f\x80", "a" * 300, "ÿ" * 9, "</s>"]
    got = fasttext_numpy._hash_many(words).astype(np.uint32)
    for w, h in zip(words, got.tolist(), strict=True):
        assert h == fasttext_numpy.fnv1a(w.encode())
        assert nwords + h % bucket == ft.get_subword_id(w)


def test_hash_collision_with_a_vocabulary_word_is_not_that_word():
    """A token whose 32-bit hash equals a vocabulary word's (found by search) must not take
    that word's row: the byte comparison rejects it, as fastText's string comparison does."""
    path = str(ROOT / "classifiers" / "math_sci" / "model.ftz")
    model = fasttext_numpy.FastTextModel(path)
    vocab = fasttext_numpy._hash_many(model.words).astype(np.uint32)
    rng = np.random.default_rng(0)
    letters = rng.integers(ord("a"), ord("z") + 1, size=(1_500_000, 7), dtype=np.uint8)
    buf = letters.tobytes() + b" " * 8
    starts = np.arange(0, len(letters) * 7, 7)
    hashes = fasttext_numpy._fnv_tokens(buf, starts, np.full(len(letters), 7))
    hit = np.flatnonzero(np.isin(hashes, vocab))
    tokens = [letters[i].tobytes().decode() for i in hit]
    tokens = [t for t in tokens if t not in model.words]
    assert tokens, "no colliding token in the search (seeded: this cannot vary)"
    texts = [f"{t} {t} {t}" for t in tokens] + [f"the {t} energy of the {t}" for t in tokens]
    _check_equal(path, texts, 10_000)


def _train(tmp_path: Path, name: str, lines: list[str], **kw):
    import fasttext

    f = tmp_path / f"{name}.txt"
    f.write_text("\n".join(lines) + kw.pop("end", "\n"), encoding="utf-8")
    args = dict(dim=8, epoch=3, lr=0.5, minCount=1, thread=1, seed=0, verbose=0)
    return fasttext.train_supervised(input=str(f), **{**args, **kw}), str(f)


def _labelled(articles, n=200):
    """``__label__<0|1|2> <sentence>``: three bins by sentence length (a real signal)."""
    out = []
    for body in articles:
        for s in re.split(r"(?<=[.!?])\s+", body):
            if len(s.split()) >= 4:
                b = 0 if len(s) < 80 else 1 if len(s) < 160 else 2
                out.append(f"__label__{b} {fasttext_model.normalize(s, 1000)}")
    return out[:: max(1, len(out) // n)][:n]


def test_dense_and_other_quantised_layouts_equal_fasttext(tmp_path, articles):
    lines = _labelled(articles)
    texts = [*articles[:80], *EDGE]
    model, train_file = _train(tmp_path, "dense", lines, wordNgrams=2, bucket=5000)
    dense = str(tmp_path / "dense.bin")
    model.save_model(dense)
    m = _check_equal(dense, texts, 2000)
    assert not m.quant_input and m.pruneidx_size == -1 and m.nlabels == 3
    np.testing.assert_array_equal(m.input, model.get_input_matrix())
    np.testing.assert_array_equal(m.output, model.get_output_matrix())
    # quantised without norms, without pruning, sub-vectors of 3 (the last one shorter)
    model.quantize(input=train_file, qnorm=False, retrain=False, cutoff=0, dsub=3, thread=1, verbose=0)
    quant = str(tmp_path / "quant.ftz")
    model.save_model(quant)
    m = _check_equal(quant, texts, 2000)
    assert m.quant_input and m.pruneidx_size == -1


def test_line_with_no_known_feature_gets_zeros_like_fasttext(tmp_path):
    """One training line with no newline: no "</s>" in the vocabulary, so an empty or unknown
    line has no row at all; fastText predicts nothing for it, and so does this."""
    model, _ = _train(tmp_path, "noeos", ["__label__0 __label__1 alpha beta gamma delta"], end="")
    path = str(tmp_path / "noeos.bin")
    model.save_model(path)
    m = fasttext_numpy.FastTextModel(path)
    assert fasttext_numpy.EOS not in m.words
    texts = ["", "unknown words only", "beta", "alpha </s> beta", "__label__0"]
    _check_equal(path, texts, 1000)
    got = m.predict_proba(texts, 1000)
    assert (got[[0, 1, 4]] == 0).all() and (got[[2, 3]] > 0).all()


def test_subword_model_falls_back_to_fasttext(tmp_path, articles):
    model, _ = _train(tmp_path, "sub", _labelled(articles, 60), minn=2, maxn=3, bucket=2000)
    path = str(tmp_path / "sub.bin")
    model.save_model(path)
    assert "character n-grams" in fasttext_numpy.FastTextModel(path).unsupported()
    assert fasttext_model._numpy_model(path) is None
    texts = articles[:20]
    np.testing.assert_allclose(
        fasttext_model.predict_proba(path, texts, 3, 1000), _fasttext_probs(path, texts, 1000, 3), atol=0
    )


def test_not_a_model_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.ftz"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="not a fastText model file"):
        fasttext_numpy.FastTextModel(str(bad))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fasttext_model.predict_proba(str(tmp_path / "missing.ftz"), ["x"], 2, 100)
