"""The archive reader without Spark, on project-made inputs: every record becomes a row."""

from __future__ import annotations

import gzip
import tracemalloc
from collections import Counter

from corpus.stages.base import REASON
from corpus.warc.records import ReadOptions, read_file

OPTS = ReadOptions()


def rows_of(path, opts=OPTS, key=None):
    return list(read_file(str(path), key or path.name, opts))


def test_encodings_and_reasons(bad_inputs):
    rows = rows_of(bad_inputs.folder / "charsets.warc.gz")
    by_url = {r["url"]: r for r in rows if r["warc_type"] in ("response", "revisit")}
    assert {u: r[REASON] for u, r in by_url.items()} == bad_inputs.expected
    for url, passage in bad_inputs.texts.items():
        assert passage in by_url[url]["text"], url
        assert "\ufffd" not in by_url[url]["text"], url
    reasons = Counter(r[REASON] for r in rows)
    assert reasons["warc:not_response"] == 1 + 14  # warcinfo + one request per page
    assert by_url["http://ja.test/sjis-header"]["charset"] == "cp932"
    assert by_url["http://x.test/no-type"]["content_type"] == "text/html"  # sniffed
    assert by_url["http://x.test/missing"]["http_status"] == 404
    assert all(r["text"] is None for r in rows if r[REASON])


def test_ids_are_unique_and_stable(bad_inputs):
    path = bad_inputs.folder / "charsets.warc.gz"
    first, second = rows_of(path), rows_of(path)
    assert [r["id"] for r in first] == [r["id"] for r in second]
    assert len({r["id"] for r in first}) == len(first)
    assert {r["id"] for r in rows_of(path, key="elsewhere/charsets.warc.gz")}.isdisjoint(
        r["id"] for r in first
    )


def test_empty_random_and_missing_files(bad_inputs):
    (row,) = rows_of(bad_inputs.folder / "empty.warc.gz")
    assert row[REASON] == "warc:empty_file" and row["warc_path"] == "empty.warc.gz"
    (row,) = rows_of(bad_inputs.folder / "random.warc.gz")
    assert row[REASON].startswith("warc:corrupt_file:") and row["warc_error"]
    (row,) = rows_of(bad_inputs.folder / "does-not-exist.warc.gz")
    assert row[REASON] == "warc:unreadable_file" and "No such file" in row["warc_error"]


def test_truncated_file_keeps_records_before_the_damage(bad_inputs):
    full = rows_of(bad_inputs.folder / "charsets.warc.gz")
    cut = rows_of(bad_inputs.folder / "truncated.warc.gz", key="charsets.warc.gz")
    *before, last = cut
    assert before == full[: len(before)] and len(before) > 5
    assert last[REASON].startswith("warc:corrupt_file:") and last["warc_error"]


def test_every_cut_of_a_gzip_archive_is_accounted(bad_inputs, tmp_path):
    """Cut a per-record gzip archive at many points: the rows are always the intact records
    before the cut, plus one corrupt-file row unless the cut falls between two members."""
    data = (bad_inputs.folder / "charsets.warc.gz").read_bytes()
    full = rows_of(bad_inputs.folder / "charsets.warc.gz")
    boundaries = {r["warc_offset"] for r in full} | {len(data)}
    target = tmp_path / "cut.warc.gz"
    for cut in range(1, len(data), 71):
        target.write_bytes(data[:cut])
        rows = rows_of(target, key="charsets.warc.gz")
        damaged = [r for r in rows if (r[REASON] or "").startswith("warc:corrupt_file:")]
        intact = [r for r in rows if r not in damaged]
        assert intact == full[: len(intact)], cut
        assert len(damaged) == (0 if cut in boundaries else 1), cut
        assert not damaged or rows[-1] is damaged[0]


def test_plain_archive_cut_inside_a_record(bad_inputs, tmp_path):
    plain = gzip.decompress((bad_inputs.folder / "charsets.warc.gz").read_bytes())
    target = tmp_path / "cut.warc"
    target.write_bytes(plain[: len(plain) // 2])
    rows = rows_of(target)
    assert rows[-1][REASON].startswith("warc:corrupt_file:")
    assert all(not (r[REASON] or "").startswith("warc:corrupt") for r in rows[:-1])


def test_a_page_over_the_limit_is_removed_without_loading_it(bad_inputs):
    tracemalloc.start()
    try:
        rows = rows_of(bad_inputs.folder / "big.warc", ReadOptions(max_record_bytes=10 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r[REASON] for r in rows] == ["warc:too_large"]
    assert peak < 4 << 20, peak


def test_a_50mb_page_under_the_default_limit_is_kept(bad_inputs):
    from tests.warc.conftest import BIG_PAGE_BYTES

    (row,) = rows_of(bad_inputs.folder / "big.warc")
    assert row[REASON] is None and len(row["text"]) == BIG_PAGE_BYTES


def test_whole_file_gzip_reads_like_the_plain_archive(bad_inputs, tmp_path):
    plain = gzip.decompress((bad_inputs.folder / "charsets.warc.gz").read_bytes())
    (tmp_path / "a.warc").write_bytes(plain)
    (tmp_path / "a.warc.gz").write_bytes(gzip.compress(plain, mtime=0))
    (tmp_path / "cut.warc.gz").write_bytes(gzip.compress(plain, mtime=0)[:3000])

    def view(name):
        return [(r["url"], r[REASON], r["text"]) for r in rows_of(tmp_path / name)]

    assert view("a.warc.gz") == view("a.warc")
    *intact, last = view("cut.warc.gz")
    assert intact == view("a.warc")[: len(intact)] and last[1].startswith("warc:corrupt_file:")


def test_lz4_archive_and_its_truncation(bad_inputs, tmp_path):
    import lz4.frame

    plain = gzip.decompress((bad_inputs.folder / "charsets.warc.gz").read_bytes())
    packed = lz4.frame.compress(plain)
    (tmp_path / "a.warc").write_bytes(plain)
    (tmp_path / "a.warc.lz4").write_bytes(packed)
    (tmp_path / "cut.warc.lz4").write_bytes(packed[: len(packed) // 2])
    assert [r["text"] for r in rows_of(tmp_path / "a.warc.lz4")] == [
        r["text"] for r in rows_of(tmp_path / "a.warc")
    ]
    cut = rows_of(tmp_path / "cut.warc.lz4")
    assert cut[-1][REASON].startswith("warc:corrupt_file:")
    assert sum(1 for r in cut if (r[REASON] or "").startswith("warc:corrupt")) == 1
