"""The ``dataset`` source stage on shards shaped like FineWeb-2's published files.

FineWeb-2 publishes Parquet with the columns ``text, id, dump, url, date, file_path,
language, language_score, language_script, minhash_cluster_size, top_langs``; mirrors and
re-exports of it (and of FineWeb, The Stack) also circulate as JSON Lines, gzip or zstd. The
test writes such shards itself, plus a truncated gzip, a malformed JSON line, a JSON line that
is not an object, a row without text and a file that only claims to be Parquet.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.engine.runner import run_stage_for_test
from corpus.stages.dataset import row_id

COLUMNS = {"text": "text", "id": "id", "lang": "language", "url": "url"}


def fw2_row(i: int, lang: str = "deu_Latn") -> dict:
    return {
        "text": f"Dokument {i}: Die Katze sitzt auf der Matte. " * 3,
        "id": f"<urn:uuid:{i:08d}-0000-4000-8000-000000000000>",
        "dump": "CC-MAIN-2024-10",
        "url": f"https://example.de/{i}",
        "date": "2024-02-21T12:00:00Z",
        "file_path": f"s3://commoncrawl/crawl-data/CC-MAIN-2024-10/{i}.warc.gz",
        "language": lang,
        "language_score": 0.5 + i / 100,
        "language_script": "Latn",
        "minhash_cluster_size": i + 1,
        "top_langs": json.dumps({f"{lang}_score": 0.9}),
    }


def complete_lines_before_cut(data: bytes) -> int:
    """How many whole lines a gzip stream cut short still holds (the oracle for the stage)."""
    out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    return out.count(b"\n")


@pytest.fixture
def shards(tmp_path: Path) -> dict:
    d = tmp_path / "fineweb2" / "data" / "deu_Latn" / "train"
    d.mkdir(parents=True)
    table = pa.Table.from_pylist([fw2_row(i) for i in range(5)])
    pq.write_table(table, d / "000_00000.parquet", row_group_size=3)  # 2 row groups -> 2 tasks

    good = [fw2_row(i) for i in range(10, 14)]
    good[1]["id"] = None  # -> derived id
    lines = [json.dumps(r, ensure_ascii=False) for r in good]
    lines.insert(2, '{"text": "unterminated')  # malformed JSON
    lines.insert(3, "[1, 2, 3]")  # JSON, but not an object
    lines.append("")  # a blank line is not a record
    (d / "001_00000.jsonl.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))

    zrows = [fw2_row(20), {**fw2_row(21), "text": None}, fw2_row(22, "fra_Latn")]
    zdata = ("\n".join(json.dumps(r) for r in zrows) + "\n").encode()
    (d / "002_00000.jsonl.zst").write_bytes(pa.Codec("zstd").compress(zdata, asbytes=True))

    long = "\n".join(json.dumps(fw2_row(100 + i)) for i in range(60)).encode() + b"\n"
    full = gzip.compress(long)
    cut = full[: len(full) * 2 // 3]
    (d / "003_00000.jsonl.gz").write_bytes(cut)

    (d / "004_00000.parquet").write_bytes(b"PAR1 this is not a parquet file")
    listing = tmp_path / "shards.txt"
    listing.write_text("# FineWeb-2 German shards\nfineweb2/data/deu_Latn/train/*\n")
    return {"dir": d, "list": listing, "truncated_kept": complete_lines_before_cut(cut)}


def test_fineweb2_shaped_shards_mapped_and_accounted(spark, tmp_path, shards):
    out = str(tmp_path / "out")
    params = {
        "manifest": str(shards["list"]),
        "source": "fineweb2",
        "columns": COLUMNS,
        "row_groups_per_task": 1,
    }
    m = run_stage_for_test(spark, "dataset", params, out, name="fw2")
    k = shards["truncated_kept"]
    assert 0 < k < 60
    assert m["rows_in"] == m["rows_kept"] + m["rows_removed"]
    assert m["rows_kept"] == 5 + 4 + 2 + k
    reasons = m["removed_by_reason"]
    assert reasons.pop("dataset:bad_json") == 2
    assert reasons.pop("dataset:no_text") == 1
    assert reasons.pop("dataset:truncated_file:EOFError") == 1
    (unreadable,) = [r for r in reasons if r.startswith("dataset:unreadable_file:")]
    assert reasons.pop(unreadable) == 1
    assert reasons == {}

    kept = spark.read.parquet(f"{out}/fw2").toPandas()
    assert set(kept.columns) >= {
        "id",
        "text",
        "source",
        "url",
        "lang",
        "dataset_file",
        "dump",
        "date",
        "file_path",
        "language_score",
        "minhash_cluster_size",
        "top_langs",
    }
    assert "language" not in kept.columns  # mapped to lang, not repeated
    assert set(kept["source"]) == {"fineweb2"}
    assert set(kept["lang"]) == {"deu_Latn", "fra_Latn"}
    pq_rows = kept[kept["dataset_file"].str.endswith("000_00000.parquet")].sort_values("dataset_row")
    assert list(pq_rows["id"]) == [fw2_row(i)["id"] for i in range(5)]
    assert list(pq_rows["dataset_row"]) == [0, 1, 2, 3, 4]  # row numbers across row groups
    assert pq_rows["language_score"].tolist() == pytest.approx([0.5 + i / 100 for i in range(5)])

    gz = kept[kept["dataset_file"].str.endswith("001_00000.jsonl.gz")].sort_values("dataset_row")
    key = gz["dataset_file"].iloc[0]
    assert not key.startswith("/")  # relative to the base directory: the same on any machine
    # row numbers count every record, bad ones too: good rows are 0, 1, 4, 5
    assert list(gz["dataset_row"]) == [0, 1, 4, 5]
    assert gz["id"].iloc[1] == row_id("fineweb2", key, 1)  # null id -> derived
    assert gz["id"].iloc[0] == good_id(10)

    removed = spark.read.parquet(f"{out}/fw2/_removed").toPandas()
    bad = removed[removed["reason"] == "dataset:bad_json"].sort_values("dataset_row")
    assert list(bad["text"]) == ['{"text": "unterminated', "[1, 2, 3]"]
    assert bad["id"].notna().all()

    # a rerun gives the same ids
    m2 = run_stage_for_test(spark, "dataset", params, str(tmp_path / "out2"), name="fw2")
    again = spark.read.parquet(f"{tmp_path}/out2/fw2").toPandas()
    assert sorted(again["id"]) == sorted(kept["id"])
    assert [s["sha256"] for s in m2["shards"]] == [s["sha256"] for s in m["shards"]]


def good_id(i: int) -> str:
    return fw2_row(i)["id"]


def test_outside_files_are_the_globs_the_list_and_its_entries(tmp_path):
    from corpus.stages.dataset import Params, outside_files

    (tmp_path / "list.txt").write_text("# shards\nshards/*.jsonl.gz\n")
    p = Params(paths=["data/*.parquet"], manifest="list.txt")
    files = outside_files(p, tmp_path)
    assert [(f.path, f.kind) for f in files] == [
        (str(tmp_path / "data/*.parquet"), "glob"),
        (str(tmp_path / "list.txt"), "file"),
        (str(tmp_path / "shards/*.jsonl.gz"), "glob"),
    ]


def test_lines_span_chunks_and_a_cut_stream_keeps_whole_lines(tmp_path, monkeypatch):
    import corpus.stages.dataset as dataset

    monkeypatch.setattr(dataset, "READ_CHUNK", 7)  # every line spans several reads
    data = b'{"a": 1}\n{"bb": "' + b"x" * 50 + b'"}\n\nlast line without newline'
    (tmp_path / "a.jsonl").write_bytes(data)
    assert list(dataset._lines(str(tmp_path / "a.jsonl"))) == data.split(b"\n")

    whole = gzip.compress(b"".join(b'{"a": %d}\n' % i for i in range(1000)))
    (tmp_path / "cut.gz").write_bytes(whole[: len(whole) // 2])
    got = []
    with pytest.raises(dataset.StreamError) as err:
        for line in dataset._lines(str(tmp_path / "cut.gz")):
            got.append(line)
    assert len(got) == complete_lines_before_cut(whole[: len(whole) // 2])
    assert got == [b'{"a": %d}' % i for i in range(len(got))]
    assert err.value.reason == "truncated_file" and err.value.error == "EOFError"
    assert (b'{"a": %d}' % len(got)).startswith(err.value.tail)  # the partial next line
