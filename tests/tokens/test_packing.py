"""Packing and mixture sampling as pure functions (no Spark): best-fit quality at scale,
exact placement, contiguous truncation, realised epochs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from corpus.tokens import bestfit, mixture, truncate


def check_plan(plan, lengths: np.ndarray, seq_len: int) -> None:
    """Every token of every document placed exactly once; rows never overfull; pieces of a row
    laid end to end from offset 0 in ``pos`` order."""
    placed = np.bincount(plan.doc, weights=plan.length, minlength=len(lengths))
    assert np.array_equal(placed, lengths)
    assert np.all(plan.length > 0)
    used = np.bincount(plan.row, weights=plan.length, minlength=plan.rows)
    assert used.max() <= seq_len
    order = np.lexsort((plan.pos, plan.row))
    row, pos, length = plan.row[order], plan.pos[order], plan.length[order]
    first = np.r_[True, row[1:] != row[:-1]]
    assert np.all(pos[first] == 0)
    assert np.all(pos[1:][~first[1:]] == (pos + length)[:-1][~first[1:]])
    # a document's pieces are its consecutive slices
    by_doc = np.lexsort((plan.start, plan.doc))
    d, s, n = plan.doc[by_doc], plan.start[by_doc], plan.length[by_doc]
    same = d[1:] == d[:-1]
    assert np.all(s[1:][same] == (s + n)[:-1][same])


@pytest.mark.parametrize("seq_len", [4096, 32768])
def test_best_fit_quality_on_100k_long_tailed_lengths(seq_len, capsys):
    lengths = bestfit.long_tailed_lengths(100_000, seed=seq_len)
    plan = bestfit.pack(lengths, seq_len)
    check_plan(plan, lengths, seq_len)
    bound = bestfit.lower_bound(lengths, seq_len)
    assert plan.rows <= math.ceil(bound * 1.001)
    assert 1 - lengths.sum() / (plan.rows * seq_len) < 0.005
    pieces = np.bincount(plan.doc, minlength=len(lengths))
    assert np.all(pieces[lengths <= seq_len] == 1), "a document that fits a row was split"
    assert np.all(pieces[lengths > seq_len] == np.ceil(lengths[lengths > seq_len] / seq_len))

    table = bestfit.compare(lengths, seq_len)
    with capsys.disabled():
        print(
            f"\n100,000 long-tailed lengths (mean {lengths.mean():.0f}, max {lengths.max():,}), L={seq_len:,}"
        )
        for q in table:
            print("  ", q)
    bfd, ff, cut = table
    assert bfd.rows == plan.rows and bfd.split_docs == 0
    assert ff.rows >= bfd.rows  # first-fit in arrival order packs worse on this distribution
    assert cut.rows == bound and cut.split_docs > 0  # tightest, but cuts documents


def test_best_fit_picks_the_tightest_row():
    # 7 opens row 0 (room 3), 5 opens row 1 (room 5); 3 fits both and must take row 0 (room 3)
    assert bestfit.best_fit_rows(np.array([7, 5, 3]), 10).tolist() == [0, 1, 0]
    # decreasing order: 6+4 and 5+5 pair up, 7+3 -> 3 rows, all full
    sizes = np.array([6, 4, 5, 5, 3, 7])
    rows = bestfit.best_fit_rows(sizes, 10)
    assert len(set(rows.tolist())) == 3
    assert sorted(np.bincount(rows, weights=sizes).tolist()) == [10, 10, 10]


def test_best_fit_chunks_documents_longer_than_a_row():
    lengths = np.array([25, 10, 3, 7, 1])
    plan = bestfit.pack(lengths, 10)
    check_plan(plan, lengths, 10)
    assert plan.rows == 5  # 46 tokens: 2 full chunks of doc 0, the 10-token doc, 7+3, 5+1
    assert np.count_nonzero(plan.doc == 0) == 3
    assert plan.cut_docs(lengths).tolist() == [True, False, False, False, False]


def test_best_fit_ties_follow_input_order():
    lengths = np.array([5, 5, 5, 5])
    plan = bestfit.pack(lengths, 10)
    assert plan.row[np.argsort(plan.doc)].tolist() == [0, 0, 1, 1]


def test_truncate_rows_are_the_cut_concatenation():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 300, 2_000)
    tokens = np.arange(lengths.sum())  # token t of the concatenation
    docs = np.split(tokens, np.cumsum(lengths)[:-1])
    plan = truncate.cut(lengths, 128)
    assert plan.rows == lengths.sum() // 128
    rows = [[] for _ in range(plan.rows)]
    for k in np.lexsort((plan.pos, plan.row)):
        d, s, n = plan.doc[k], plan.start[k], plan.length[k]
        rows[plan.row[k]].extend(docs[d][s : s + n].tolist())
    assert np.array_equal(np.concatenate(rows), tokens[: plan.rows * 128])
    cut = plan.cut_docs(lengths)
    assert 0 < cut.mean() < 1
    assert cut[-1]  # the dropped tail belongs to the last document(s)
    assert lengths.sum() - plan.tokens < 128


@pytest.mark.parametrize("epochs", [0.3, 1.0, 1.5, 2.5, 3.2])
def test_realised_epochs_within_two_percent(epochs):
    ids = [f"doc-{i}" for i in range(12_000)]
    n = mixture.repeats(ids, [epochs] * len(ids), seed=3)
    assert set(np.unique(n).tolist()) <= {math.floor(epochs), math.floor(epochs) + 1}
    assert abs(n.mean() / epochs - 1) <= 0.02
    other = mixture.repeats(ids, [epochs] * len(ids), seed=4)
    if epochs % 1:
        assert not np.array_equal(n, other), "the seed must change the fractional choice"


def test_repeats_get_their_own_shuffle_positions():
    ids = [f"doc-{i}" for i in range(3_000)]
    n = mixture.repeats(ids, [3.2] * len(ids), seed=1)
    units = [(mixture.shuffle_key(1, d, r), d) for d, k in zip(ids, n, strict=True) for r in range(k)]
    order = [d for _, d in sorted(units)]
    adjacent = sum(a == b for a, b in zip(order, order[1:], strict=False)) / len(order)
    assert adjacent < 0.005  # random placement: ~1 / len(ids)
    # and so each epoch of a document starts at a different offset of the truncation grid
    lengths = {d: 17 + int(d[4:]) % 200 for d in ids}
    plan = truncate.cut(np.array([lengths[d] for d in order]), 64)
    starts: dict[str, set[int]] = {}
    first_piece = np.r_[True, plan.doc[1:] != plan.doc[:-1]]
    for k in np.flatnonzero(first_piece):
        starts.setdefault(order[plan.doc[k]], set()).add(int(plan.pos[k]))
    multi = [s for d, s in starts.items() if n[int(d[4:])] > 1]
    assert np.mean([len(s) > 1 for s in multi]) > 0.9


def test_mixture_spec_lookup_and_validation():
    from pydantic import ValidationError

    from corpus.stages.stream import Params

    epochs = Params(epochs={"web": {3: 2.5, "low": 0}, "code": 1.5}).epochs
    assert mixture.requested(epochs, 1.0, "web", "3") == 2.5  # YAML int bucket keys become strings
    assert mixture.requested(epochs, 1.0, "web", "low") == 0.0
    assert mixture.requested(epochs, 1.0, "web", "unlisted") == 1.0
    assert mixture.requested(epochs, 1.0, "web", None) == 1.0
    assert mixture.requested(epochs, 0.7, "code", "any") == 1.5
    assert mixture.requested(epochs, 0.7, "math", None) == 0.7
    with pytest.raises(ValidationError, match=">= 0"):
        Params(epochs={"web": {"hi": -1}})
