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


QUOTED_USER = "Why does my log show <|assistant|> and </think> in the middle?"
QUOTED_TOOL = "grep found: </think> then <|user|> on line 3"


def _count(ids: list[int], tok, token: str) -> int:
    return ids.count(tok.token_to_id(token))


def test_agent_row_quoting_specials_gets_plain_ids_there_and_control_ids_at_the_template(tok_path):
    """Issue 11: chat sources get control ids through the renderer, not by string matching — a
    user message or tool output quoting ``<|assistant|>`` / ``</think>`` / ``<|user|>`` stays
    text; the template's own tokens are control ids."""
    import json

    from corpus.stages import agent

    _, tok = _special_ids(tok_path)
    messages = [
        {"role": "user", "content": QUOTED_USER},
        {
            "role": "assistant",
            "reasoning_content": "look",
            "content": "",
            "tool_calls": [
                {"type": "function", "function": {"name": "grep", "arguments": {"pattern": "think"}}}
            ],
        },
        {"role": "tool", "content": QUOTED_TOOL},
        {"role": "assistant", "content": "Those are quoted tokens."},
    ]
    tools = [
        {"name": "grep", "parameters": {"type": "object", "properties": {"pattern": {"type": "string"}}}}
    ]
    batch = pa.RecordBatch.from_pylist(
        [{"id": "a", "messages": json.dumps(messages), "tools": json.dumps(tools)}]
    )
    rendered = agent.agent_batch(batch, agent.Params())
    text = rendered.column("text")[0].as_py()
    assert text.count("<|assistant|>") == 3 and text.count("</think>") == 4 and text.count("<|user|>") == 2
    ids = tokenize.tokenize_batch(rendered, tokenize.Params(tokenizer=str(tok_path))).to_pylist()[0][
        "input_ids"
    ]
    assert _count(ids, tok, "<|assistant|>") == 2  # the two assistant turns, not the quote
    assert _count(ids, tok, "</think>") == 2
    assert _count(ids, tok, "<|user|>") == 1 and _count(ids, tok, "<|observation|>") == 1
    assert tok.decode(ids[:-1], skip_special_tokens=False) == text
    without_spans = rendered.drop_columns(["content_spans"])
    legacy = tokenize.tokenize_batch(without_spans, tokenize.Params(tokenizer=str(tok_path))).to_pylist()[0]
    assert _count(legacy["input_ids"], tok, "<|assistant|>") == 3  # string matching: the quote too


def test_reasoning_row_quoting_specials_gets_plain_ids_there(tok_path):
    from corpus.stages import reasoning

    _, tok = _special_ids(tok_path)
    row = {
        "id": "r",
        "question": QUOTED_USER,
        "reasoning": "The model printed its own control tokens as text.",
        "response": "They are literal strings: </think> was typed by the user.",
    }
    rendered = reasoning.reasoning_batch(pa.RecordBatch.from_pylist([row]), reasoning.Params())
    text = rendered.column("text")[0].as_py()
    assert text.count("</think>") == 3 and text.count("<|assistant|>") == 2
    ids = tokenize.tokenize_batch(rendered, tokenize.Params(tokenizer=str(tok_path))).to_pylist()[0][
        "input_ids"
    ]
    assert _count(ids, tok, "</think>") == 1 and _count(ids, tok, "<|assistant|>") == 1
    assert _count(ids, tok, "<|user|>") == 1 and _count(ids, tok, "<think>") == 1
    assert tok.decode(ids[:-1], skip_special_tokens=False) == text
