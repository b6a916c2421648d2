"""Token-stream reader: every row once per epoch, shuffled, world-size invariant, exact resume."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.train.data import LaneReader, StageReader, StreamError, StreamPool, write_stream

SEQ = 8


def _rows(n: int, start: int = 0) -> list[dict]:
    """Row r starts with token r (so rows are identifiable); two docs and optional padding."""
    rows = []
    for r in range(start, start + n):
        pad = r % 3
        body = SEQ - pad
        cut = 1 + r % (body - 1)
        docs = [cut, body - cut] + ([pad] if pad else [])
        rows.append(
            {
                "input_ids": [r] + [7] * (SEQ - 1),
                "doc_lens": docs,
                "pad_len": pad,
                "source": "web",
                "bucket": "b",
            }
        )
    return rows


@pytest.fixture
def streams(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_stream(str(a), _rows(70), SEQ, rows_per_group=16)
    write_stream(str(b), _rows(33, start=70), SEQ, rows_per_group=10)
    return [str(a), str(b)]


def _reader(streams, **kw):
    args = dict(stage="s", seq_len=SEQ, vocab_size=1000, seed=0, lanes=4, shuffle_rows=8, micro_rows=2)
    args.update(kw)
    return StageReader(streams, **args)


def _first_tokens(batches):
    return [int(t) for mb in batches for t in mb.input_ids[:, 0]]


def test_lanes_cover_every_row_once_per_epoch_shuffled(streams):
    pool = StreamPool(streams, stage="s", seq_len=SEQ, vocab_size=1000, seed=0)
    assert pool.rows == 103
    seen, lens = [], []
    for lane in range(4):
        reader = LaneReader(pool, lane, 4, shuffle_rows=8, position=0)
        lens.append(reader.length)
        seen += [int(t) for t in reader.take(reader.length).ids[:, 0]]
    assert sorted(seen) == list(range(103))
    assert seen != sorted(seen)
    assert sorted(lens) == [25, 26, 26, 26]


def test_batches_carry_docs_and_padding(streams):
    mb = _reader(streams).next_step(4)[0]
    assert mb.input_ids.shape == (2, SEQ) and str(mb.input_ids.dtype) == "torch.int64"
    for row, docs, pad in zip(mb.input_ids, mb.doc_lens, mb.pad_lens, strict=True):
        assert docs == _rows(1, start=int(row[0]))[0]["doc_lens"] and pad == int(row[0]) % 3


def test_deterministic_and_seeded(streams):
    a = _first_tokens(_reader(streams).next_step(40))
    assert a == _first_tokens(_reader(streams).next_step(40))
    assert a != _first_tokens(_reader(streams, seed=1).next_step(40))


def test_next_epoch_is_a_new_order(streams):
    lane_len = 25  # lane 0 of 103 rows / 4 lanes
    pool = StreamPool(streams, stage="s", seq_len=SEQ, vocab_size=1000, seed=0)
    reader = LaneReader(pool, 0, 4, shuffle_rows=8, position=0)
    e0 = [int(t) for t in reader.take(lane_len).ids[:, 0]]
    e1 = [int(t) for t in reader.take(lane_len).ids[:, 0]]
    assert e0 != e1 and len(e1) == lane_len


def test_world_size_invariant(streams):
    """The global micro-batch sequence is the same on 1 rank and on 2 ranks (interleaved)."""
    one = _reader(streams).next_step(8) + _reader(streams, micro_index=8).next_step(8)
    r0, r1 = _reader(streams, world=2, rank=0), _reader(streams, world=2, rank=1)
    two = []
    for _ in range(2):
        for a, b in zip(r0.next_step(8), r1.next_step(8), strict=True):
            two += [a, b]
    assert _first_tokens(one) == _first_tokens(two)


def test_resume_from_cursor_is_exact(streams):
    """Past epoch ends and window edges: a fresh reader at cursor k continues identically."""
    straight = _reader(streams)
    head = straight.next_step(36)
    assert straight.epoch == 0
    tail = straight.next_step(40)
    resumed = _reader(streams, micro_index=36)
    assert _first_tokens(resumed.next_step(40)) == _first_tokens(tail)
    assert len(set(_first_tokens(head + tail))) == 103  # 152 rows drawn: a full epoch and more
    assert straight.epoch == 1


def test_length_mismatch_is_a_clear_error(tmp_path):
    write_stream(str(tmp_path / "s"), _rows(20), seq_len=16)  # manifest says 16, rows hold 8
    with pytest.raises(StreamError, match="expects exactly 16"):
        StageReader(
            [str(tmp_path / "s")],
            stage="s",
            seq_len=16,
            vocab_size=1000,
            seed=0,
            lanes=1,
            shuffle_rows=4,
            micro_rows=1,
        ).next_step(1)


def test_manifest_seq_len_checked_up_front(tmp_path):
    write_stream(str(tmp_path / "s"), _rows(20), SEQ)
    with pytest.raises(StreamError, match="built for seq_len 8"):
        StreamPool([str(tmp_path / "s")], stage="s", seq_len=16, vocab_size=1000, seed=0)


def test_uncommitted_stream_and_bad_ids(tmp_path):
    with pytest.raises(StreamError, match="_manifest.json"):
        StreamPool([str(tmp_path / "missing")], stage="s", seq_len=SEQ, vocab_size=1000, seed=0)
    write_stream(str(tmp_path / "s"), _rows(20), SEQ)
    reader = StageReader(
        [str(tmp_path / "s")],
        stage="s",
        seq_len=SEQ,
        vocab_size=10,
        seed=0,
        lanes=1,
        shuffle_rows=4,
        micro_rows=1,
    )
    with pytest.raises(StreamError, match="outside the vocab"):
        reader.next_step(1)


def test_bad_doc_lens_and_world(tmp_path):
    rows = _rows(4)
    rows[2]["doc_lens"] = [3, 3]
    write_stream(str(tmp_path / "s"), rows, SEQ)
    reader = StageReader(
        [str(tmp_path / "s")],
        stage="s",
        seq_len=SEQ,
        vocab_size=1000,
        seed=0,
        lanes=1,
        shuffle_rows=4,
        micro_rows=1,
    )
    with pytest.raises(StreamError, match="row 2: doc_lens"):
        reader.next_step(1)
    with pytest.raises(StreamError, match="multiple of the world size"):
        StageReader(
            [str(tmp_path / "s")],
            stage="s",
            seq_len=SEQ,
            vocab_size=1000,
            seed=0,
            lanes=3,
            shuffle_rows=4,
            micro_rows=1,
            world=2,
        )
    with pytest.raises(StreamError, match="cannot fill 8 lanes"):
        StageReader(
            [str(tmp_path / "s")],
            stage="s",
            seq_len=SEQ,
            vocab_size=1000,
            seed=0,
            lanes=8,
            shuffle_rows=4,
            micro_rows=1,
        )


def test_block_ids_are_int64_rows(streams):
    ids = np.concatenate([mb.input_ids.numpy() for mb in _reader(streams).next_step(8)])
    assert ids.shape == (16, SEQ) and (ids[:, 1:] == 7).all()
