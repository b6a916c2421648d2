"""Fill-in-the-Middle: exact restoration (PSM and SPM), rates over 10,000 documents, hash
decisions independent of batching, sentinels the only control ids, and the stage's column."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpus.tokens import fim
from corpus.tokens import tokenizer as tk

CODE = [
    'def area(r):\n    """Circle area."""\n    return 3.14159 * r ** 2\n',
    'fn main() {\n\tprintln!("héllo, wörld — 世界");\n}\n',
    "# quoting a sentinel: <|code_prefix|> and <|endoftext|> stay text\nx = '<|code_middle|>'\n",
    "",
    "a",
    "int main(void) { return 0; }",
]


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    texts = [c * 20 for c in CODE if c] + ["plain words for the merges " * 50]
    path = tk.train(texts, len(tk.SPECIAL_TOKENS) + 256 + 200, tmp_path_factory.mktemp("tok"))
    from corpus.tokens import encode

    return encode.encoder(str(path), "", True)


def test_restoring_gives_back_the_text_exactly(tok):
    eos = tk.special_id(tok, tk.EOS)
    sentinels = {tok.token_to_id(t) for t in (fim.PREFIX, fim.MIDDLE, fim.SUFFIX)}
    seen = set()
    for seed in range(40):
        splits = [(c, fim.split(c, f"doc{k}", seed, 1.0, 0.5)) for k, c in enumerate(CODE) if c]
        rows = fim.assemble(tok, [s for _, s in splits], eos)
        for (text, s), ids in zip(splits, rows, strict=True):
            assert s.prefix + s.middle + s.suffix == text
            mode, back = fim.restore(tok, ids)
            assert back == text
            if s.prefix:
                assert mode == s.mode
            seen.add(s.mode)
            assert sum(i in sentinels for i in ids) == 3, "only the three sentinels are control ids"
            assert ids[-1] == eos
    assert seen == {"psm", "spm"}


def test_rates_over_ten_thousand_documents():
    n = 10_000
    splits = [fim.split("x" * 100, f"doc-{i}", 7, 0.5, 0.5) for i in range(n)]
    chosen = [s for s in splits if s is not None]
    rate, spm = len(chosen) / n, sum(s.mode == "spm" for s in chosen) / len(chosen)
    print(f"FIM rate {rate:.4f}, SPM share {spm:.4f}")
    assert abs(rate - 0.5) <= 0.02 and abs(spm - 0.5) <= 0.02
    cuts = [len(s.prefix) for s in chosen]
    assert min(cuts) == 0 and max(cuts) > 90, "cut points span the document"
    other_seed = [fim.split("x" * 100, f"doc-{i}", 8, 0.5, 0.5) for i in range(200)]
    assert other_seed != splits[:200], "another seed draws other splits"
    assert [fim.split("x" * 100, f"doc-{i}", 7, 0.5, 0.5) for i in range(50)] == splits[:50], (
        "pure in (seed, id)"
    )


def test_tokenize_batch_applies_fim_to_listed_sources_only(tok, tmp_path):
    from corpus.stages import tokenize

    path = tmp_path / "tok"
    tk.save(tok, path)
    params = tokenize.Params(
        tokenizer=str(path / "tokenizer.json"), fim=tokenize.Fim(sources=["code"], rate=1.0, spm_rate=0.5)
    )
    texts = [CODE[0], CODE[2], "web text about <|code_prefix|>", "  "]
    batch = pa.RecordBatch.from_pydict(
        {"id": ["a", "b", "c", "d"], "text": texts, "source": ["code", "code", "web", "code"]}
    )
    out = tokenize.tokenize_batch(batch, params, seed=3).to_pydict()
    assert out["fim"][:2] != [None, None] and out["fim"][2:] == [None, None]
    for k in (0, 1):
        assert fim.restore(tok, out["input_ids"][k])[1] == texts[k]
    pre = tok.token_to_id(fim.PREFIX)
    assert pre not in out["input_ids"][2], "a web page quoting a sentinel gets no control id"
    assert out["input_ids"][3] is None and out["_reason"][3] == "tokenize:empty"
