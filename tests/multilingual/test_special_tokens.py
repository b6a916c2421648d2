"""Special-token strings in raw text stay text (issue 11, failure 4).

A web page quoting ``<|endoftext|>``, ``<|user|>`` or ``<think>`` used to be tokenised into the
real control ids mid-document (id 0 is both end-of-document and padding). Now only sources
rendered by our chat renderer (``special_token_sources``, default reasoning and agent) get
control ids from their text; every other source, and rows without a source, get plain text.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpus.stages import tokenize
from corpus.tokens import tokenizer as tk

PAGE = "Forum post: my model prints <|endoftext|> then <|user|> and sometimes <think> in the middle."


@pytest.fixture(scope="module")
def tok_path(tmp_path_factory):
    texts = [PAGE, "plain words about tokens and pages " * 5, "def f(x): return x + 1"] * 20
    return tk.train(texts, 320, tmp_path_factory.mktemp("tok") / "t")


def _special_ids(path) -> set[int]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tk.tokenizer_file(str(path))))
    return {tok.token_to_id(t) for t in tk.SPECIAL_TOKENS}, tok


@pytest.mark.parametrize(
    "source", ["web", "code", "code_web", "github", "repo", "multilingual", "math_sci", None]
)
def test_raw_text_sources_never_produce_special_ids(tok_path, source):
    specials, tok = _special_ids(tok_path)
    batch = pa.RecordBatch.from_pylist([{"id": "a", "text": PAGE, "source": source}])
    ids = tokenize.tokenize_batch(batch, tokenize.Params(tokenizer=str(tok_path))).to_pylist()[0]["input_ids"]
    eos = tok.token_to_id(tk.EOS)
    assert ids[-1] == eos and not (set(ids[:-1]) & specials)
    assert tok.decode(ids[:-1], skip_special_tokens=False) == PAGE


def test_chat_sources_get_control_ids_and_rows_keep_their_order(tok_path):
    specials, tok = _special_ids(tok_path)
    rows = [
        {"id": "w1", "text": PAGE, "source": "web"},
        {"id": "r1", "text": "<|user|>hi<|assistant|><think>ok</think>hello", "source": "reasoning"},
        {"id": "w2", "text": "", "source": "web"},
        {"id": "a1", "text": PAGE, "source": "agent"},
        {"id": "w3", "text": PAGE, "source": "github"},
    ]
    out = tokenize.tokenize_batch(pa.RecordBatch.from_pylist(rows), tokenize.Params(tokenizer=str(tok_path)))
    got = out.to_pylist()
    assert [r["id"] for r in got] == ["w1", "r1", "w2", "a1", "w3"]
    assert got[2]["input_ids"] is None and got[2]["_reason"] == "tokenize:empty"
    for r in (got[0], got[4]):
        assert not (set(r["input_ids"][:-1]) & specials)
    assert tok.token_to_id("<|user|>") in got[1]["input_ids"][:-1]
    assert tok.token_to_id("<think>") in got[1]["input_ids"][:-1]
    assert tok.token_to_id(tk.EOS) in got[3]["input_ids"][:-1]  # agent text: control ids
    assert tokenize.Params().special_token_sources == ["reasoning", "agent"]
