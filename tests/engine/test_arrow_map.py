"""The per-document helper's batch builder (pure pyarrow, no Spark)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpus.engine.arrow_map import with_columns
from corpus.stages.base import REASON


def batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {"id": ["a", "b"], "text": ["<p>x</p>", "<p>y</p>"], "url": ["u1", None]}
    )


def test_replaces_in_place_appends_new_columns_and_the_reason():
    out = with_columns(
        batch(),
        {"text": pa.array(["x", "y"], pa.large_string()), "lang": pa.array(["en", "fr"])},
        ["rule:x", None],
    )
    assert out.schema.names == ["id", "text", "url", "lang", REASON]
    assert out.column("text").type == pa.large_string()
    assert out.column("text").to_pylist() == ["x", "y"]
    assert out.column("url").to_pylist() == ["u1", None]
    assert out.column(REASON).type == pa.string()
    assert out.column(REASON).to_pylist() == ["rule:x", None]


def test_without_reasons_adds_no_reason_column_and_passes_columns_through():
    b = batch()
    out = with_columns(b, {"n": pa.array([1, 2], pa.int32())})
    assert out.schema.names == ["id", "text", "url", "n"]
    assert out.column("id").equals(b.column("id"))


def test_reasons_may_be_an_arrow_array():
    out = with_columns(batch(), {}, pa.array([None, "r"], pa.string()))
    assert out.column(REASON).to_pylist() == [None, "r"]


def test_a_column_of_the_wrong_length_is_an_error():
    with pytest.raises(ValueError, match="same length"):
        with_columns(batch(), {"lang": pa.array(["en"])})
