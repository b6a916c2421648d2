"""Tokenizer training, special tokens, exact round trip, transformers compatibility, and the
tokenize stage's batch function (no Spark)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpus.stages import tokenize
from corpus.tokens import tokenizer as tk
from corpus.tokens import transforms

from .conftest import make_docs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    texts = [d["text"] for d in make_docs(2_000, seed=1)]
    return tk.train(texts, 400, tmp_path_factory.mktemp("tok") / "t"), texts


def test_special_tokens_are_single_ids(trained):
    from tokenizers import Tokenizer

    path, _ = trained
    tok = Tokenizer.from_file(str(path))
    for i, special in enumerate(tk.SPECIAL_TOKENS):
        assert tok.encode(special, add_special_tokens=False).ids == [i]
        assert tok.encode(f"x{special}y", add_special_tokens=False).ids.count(i) == 1


def test_byte_level_round_trip_is_exact(trained):
    from tokenizers import Tokenizer

    path, texts = trained
    tok = Tokenizer.from_file(str(path))
    odd = [
        "",
        " lead and trail ",
        "tabs\t\tand\r\nnewlines\n\n",
        "emoji 😀 combining é",
        "\x00\x7f",
        "<think>reason</think><tool_call>f\n<arg_key>k</arg_key>",
        "数据模型 1234567890",
    ]
    for text in texts[:300] + odd:
        assert tok.decode(tok.encode(text).ids, skip_special_tokens=False) == text


def test_training_is_deterministic(trained, tmp_path):
    path, texts = trained
    assert tk.sha256(tk.train(texts, 400, tmp_path)) == tk.sha256(path)


def test_loads_in_transformers(trained):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    path, texts = trained
    fast = PreTrainedTokenizerFast(tokenizer_file=str(path))
    ours = Tokenizer.from_file(str(path))
    assert fast(texts[0], add_special_tokens=False)["input_ids"] == ours.encode(texts[0]).ids
    auto = AutoTokenizer.from_pretrained(str(path.parent))
    assert auto.eos_token == tk.EOS and auto.pad_token == tk.PAD
    assert auto.convert_tokens_to_ids("<think>") == tk.SPECIAL_TOKENS.index("<think>")
    assert auto.decode(auto("a <|user|> b")["input_ids"]) == "a <|user|> b"


def test_vocab_size_too_small_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="at least"):
        tk.train(["abc"], 100, tmp_path)


def _batch(docs):
    return pa.RecordBatch.from_pylist(docs)


def test_tokenize_batch_appends_eos_and_flags_empty(trained):
    from tokenizers import Tokenizer

    path, _ = trained
    docs = [
        {"id": "a", "text": "hello <think> world", "source": "web"},
        {"id": "b", "text": "  \n", "source": "web"},
        {"id": "c", "text": None, "source": "code"},
        {"id": "d", "text": "def f(): return 1", "source": "code"},
    ]
    params = tokenize.Params(tokenizer=str(path))
    out = tokenize.tokenize_batch(_batch(docs), params).to_pylist()
    tok = Tokenizer.from_file(str(path))
    eos = tok.token_to_id(tk.EOS)
    assert [r["_reason"] for r in out] == [None, "tokenize:empty", "tokenize:empty", None]
    assert out[1]["input_ids"] is None and out[1]["n_tokens"] is None
    for r, d in ((out[0], docs[0]), (out[3], docs[3])):
        assert r["input_ids"][-1] == eos and r["n_tokens"] == len(r["input_ids"])
        assert tok.decode(r["input_ids"][:-1], skip_special_tokens=False) == d["text"]
    assert tok.token_to_id("<think>") not in out[0]["input_ids"]  # web text: plain text

    chat = tokenize.Params(tokenizer=str(path), special_token_sources=["web"])
    ids = tokenize.tokenize_batch(_batch(docs[:1]), chat).to_pylist()[0]["input_ids"]
    assert tok.token_to_id("<think>") in ids  # a listed (chat-rendered) source: control id


def test_per_source_transform_hook(trained, monkeypatch):
    path, _ = trained
    monkeypatch.setitem(transforms.TRANSFORMS, "shout", lambda text, doc_id, seed: f"{text.upper()}!{seed}")
    docs = [{"id": "a", "text": "quiet", "source": "web"}, {"id": "b", "text": "quiet", "source": "code"}]
    params = tokenize.Params(tokenizer=str(path), transforms={"code": "shout"})
    out = tokenize.tokenize_batch(_batch(docs), params, seed=5).to_pylist()
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    assert tok.decode(out[0]["input_ids"][:-1]) == "quiet"
    assert tok.decode(out[1]["input_ids"][:-1]) == "QUIET!5"
    with pytest.raises(ValueError, match="unknown text transform"):
        tokenize.Params(tokenizer=str(path), transforms={"code": "nope"})


def test_exactly_one_tokenizer_source_is_required():
    for params, roles in [({}, set()), ({"tokenizer": "t.json", "train_vocab_size": 512}, set())]:
        with pytest.raises(ValueError, match="exactly one of"):
            tokenize.check_inputs(tokenize.Params(**params), roles)
    with pytest.raises(ValueError, match="exactly one of"):
        tokenize.check_inputs(tokenize.Params(tokenizer="t.json"), {"tokenizer"})
    tokenize.check_inputs(tokenize.Params(), {"tokenizer"})
    tokenize.check_inputs(tokenize.Params(train_vocab_size=512), set())


def test_missing_tokenizer_is_a_clear_error(tmp_path):
    from corpus.errors import UserError
    from corpus.stages.base import StageContext

    ctx = StageContext(spark=None, name="tok", seed=0, inputs={}, base_dir=tmp_path, output_dir=str(tmp_path))
    with pytest.raises(UserError, match="no tokenizer at .*corpus tokenizer train"):
        tokenize.run(ctx, tokenize.Params(tokenizer="missing/tokenizer.json"))
