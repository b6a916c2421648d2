"""Held-out evaluation data: documents are held out by id, never trained on, and a row's other
documents train exactly as before."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from corpus.train.data import (
    StageReader,
    StreamError,
    is_heldout,
    validation_block,
    write_stream,
)

SEQ = 32


def truncate_rows(n_docs: int, seed: int) -> tuple[list[dict], dict[str, list[int]]]:
    """Documents of 3-40 tokens laid end to end and cut into rows of SEQ (truncate packing:
    a document can span rows, each piece carrying its id); the last row is padded."""
    rng = random.Random(seed)
    docs = {f"doc-{i}": [rng.randrange(2, 60) for _ in range(rng.randint(3, 40))] for i in range(n_docs)}
    pieces = [(name, tok) for name, toks in docs.items() for tok in toks]
    rows = []
    for start in range(0, len(pieces), SEQ):
        chunk = pieces[start : start + SEQ]
        lens, ids = [], []
        for name, _ in chunk:
            if ids and ids[-1] == name:
                lens[-1] += 1
            else:
                lens.append(1)
                ids.append(name)
        pad = SEQ - len(chunk)
        rows.append(
            {
                "input_ids": [t for _, t in chunk] + [0] * pad,
                "doc_lens": lens + ([pad] if pad else []),
                "pad_len": pad,
                "doc_ids": ids,
                "source": "web",
                "bucket": "high",
            }
        )
    return rows, docs


def pieces_of(block) -> list[tuple[str, tuple[int, ...]]]:
    out = []
    for ids, lens, pad, names in zip(block.ids, block.doc_lens, block.pad_lens, block.doc_ids, strict=True):
        at = 0
        for n, name in zip(lens[:-1] if pad else lens, names, strict=True):
            out.append((name, tuple(ids[at : at + n].tolist())))
            at += n
        assert (ids[at:] == 0).all()  # what was taken out became trailing padding
    return out


def test_validation_never_holds_a_training_document(tmp_path):
    rows, docs = truncate_rows(300, seed=1)
    write_stream(str(tmp_path / "s"), rows, SEQ, rows_per_group=16)
    holdout = 0.2
    reader = StageReader(
        [str(tmp_path / "s")], stage="pretrain_4k", seq_len=SEQ, vocab_size=64, seed=0, lanes=2,
        shuffle_rows=8, micro_rows=1, holdout=holdout,
    )  # fmt: skip
    for _ in range(len(rows) // 2):  # one epoch: every row once
        for mb in reader.next_step(2):
            assert mb.input_ids.shape == (1, SEQ)
    reader = StageReader(
        [str(tmp_path / "s")], stage="pretrain_4k", seq_len=SEQ, vocab_size=64, seed=0, lanes=1,
        shuffle_rows=len(rows), micro_rows=len(rows), holdout=holdout,
    )  # fmt: skip
    train_pieces = pieces_of(reader.readers[0].take(len(rows)))
    val = validation_block(
        [str(tmp_path / "s")], seq_len=SEQ, vocab_size=64, holdout=holdout, rows=10_000, pad_id=0
    )
    val_pieces = pieces_of(val)

    train_ids, val_ids = {n for n, _ in train_pieces}, {n for n, _ in val_pieces}
    assert train_ids and val_ids and not train_ids & val_ids  # checked by id
    assert all(is_heldout(n, holdout) for n in val_ids) and not any(is_heldout(n, holdout) for n in train_ids)
    assert 0.1 < len(val_ids) / len(docs) < 0.3
    # nothing lost, nothing altered: the pieces of all rows, split between the two sides
    original = [(n, tuple(r["input_ids"][sum(r["doc_lens"][:k]) : sum(r["doc_lens"][: k + 1])]))
                for r in rows for k, n in enumerate(r["doc_ids"])]  # fmt: skip
    assert Counter(train_pieces) + Counter(val_pieces) == Counter(original)
    assert {n for n, _ in original} == set(docs)
    assert len(val) == sum(1 for r in rows if any(is_heldout(n, holdout) for n in r["doc_ids"]))
    # the set is a prefix in stream order, the same on every call (every rank, every run)
    first = validation_block(
        [str(tmp_path / "s")], seq_len=SEQ, vocab_size=64, holdout=holdout, rows=5, pad_id=0
    )
    assert len(first) == 5 and np.array_equal(first.ids, val.ids[:5])


def test_holdout_needs_doc_ids(tmp_path):
    rows, _ = truncate_rows(20, seed=2)
    for r in rows:
        del r["doc_ids"]
    write_stream(str(tmp_path / "s"), rows, SEQ)
    with pytest.raises(StreamError, match="doc_ids"):
        validation_block([str(tmp_path / "s")], seq_len=SEQ, vocab_size=64, holdout=0.1, rows=4, pad_id=0)
