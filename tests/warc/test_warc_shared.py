"""The reader over every file of the third-party archives in ``../shared/data/warc``."""

from __future__ import annotations

import gzip
import re
import zlib
from collections import Counter
from pathlib import Path

import lz4.frame
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from corpus.stages.base import REASON
from corpus.warc.records import ReadOptions, read_file

ARCHIVE = re.compile(r"\.(w?arc)(\.gz|\.lz4|\.gz\.bad)?$")


@pytest.fixture(scope="module")
def warc_dir(shared_data) -> Path:
    return shared_data / "warc"


@pytest.fixture(scope="module")
def all_rows(warc_dir) -> dict[str, list[dict]]:
    """Rows per file, for every file under the folder (licences and JSONL included)."""
    files = sorted(p for p in warc_dir.rglob("*") if p.is_file())
    names = [p.relative_to(warc_dir).as_posix() for p in files]
    return {name: list(read_file(str(warc_dir / name), name, ReadOptions())) for name in names}


def rows_for(all_rows, suffix: str) -> list[dict]:
    (key,) = [k for k in all_rows if k.endswith(suffix)]
    return all_rows[key]


def warcio_records(path: Path) -> list:
    """(type, content-type) of each record as warcio alone reads it, as an independent count."""
    with path.open("rb") as fh:
        stream = lz4.frame.LZ4FrameFile(fh) if fh.read(4) == b"\x04\x22\x4d\x18" else fh
        fh.seek(0)
        out = []
        try:
            for record in ArchiveIterator(stream, arc2warc=True):
                http = record.http_headers
                out.append((record.rec_type, http.get_header("Content-Type") if http else None))
        except ArchiveLoadFailed:
            fh.seek(0)
            return warcio_records_plain(gzip.decompress(fh.read()))
    return out


def warcio_records_plain(data: bytes) -> list:
    import io

    return [(r.rec_type, None) for r in ArchiveIterator(io.BytesIO(data), arc2warc=True)]


def gzip_members(data: bytes) -> int:
    count = 0
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        d.decompress(data)
        count += 1
        data = d.unused_data
    return count


def test_every_file_ends_as_rows_with_reasons(all_rows):
    assert len(all_rows) >= 40
    ids = Counter()
    for name, rows in all_rows.items():
        assert rows, name
        for row in rows:
            ids[row["id"]] += 1
            if row[REASON] is None:
                assert row["text"] and row["content_type"] in ("text/html", "application/xhtml+xml"), name
                assert not row["url"].startswith("<"), name
            else:
                assert row[REASON].startswith("warc:") and row["text"] is None, name
    assert max(ids.values()) == 1


def test_non_archives_become_one_corrupt_row(all_rows):
    for name, rows in all_rows.items():
        if not ARCHIVE.search(name):
            assert [r[REASON].split(":")[1] for r in rows] == ["corrupt_file"], name


def test_every_record_is_accounted_for(all_rows, warc_dir):
    """Rows standing for records == warcio's own count; plain files also agree with a count
    of ``WARC/x.y`` header lines, per-record gzip files with a count of gzip members."""
    for name, rows in all_rows.items():
        if not ARCHIVE.search(name):
            continue
        path = warc_dir / name
        records = [r for r in rows if r["warc_type"] is not None or r[REASON].endswith("TruncatedRecord")]
        assert len(records) == len(warcio_records(path)), name
        data = path.read_bytes()
        if name.endswith(".warc"):
            assert len(records) == len(re.findall(rb"(?m)^WARC/\d\.\d+\r*$", data)), name
        elif name.endswith(".warc.gz") and gzip_members(data) > 1:
            assert len(records) == gzip_members(data), name


def test_revisits_and_non_html_are_removed(all_rows, warc_dir):
    for name, rows in all_rows.items():
        if not ARCHIVE.search(name) or name.endswith(".bad"):
            continue
        truth = warcio_records(warc_dir / name)
        if any(r[REASON] and r[REASON].startswith("warc:corrupt") for r in rows):
            continue
        for (rec_type, ctype), row in zip(truth, rows, strict=True):
            if rec_type == "revisit":
                assert row[REASON] == "warc:revisit", name
            elif rec_type == "response" and ctype and "html" not in ctype and row["http_status"] == 200:
                assert row[REASON] == "warc:non_html", name
    revisit = rows_for(all_rows, "BL-20140325122341434-00000-32090~opera~8443.warc.gz")
    assert Counter(r[REASON] for r in revisit)["warc:revisit"] == 55


def test_brotli_and_gzip_payloads_decode_to_the_same_page(all_rows):
    pages = {}
    for coding in ("brotli", "gzip", "none"):
        for ext in (".warc", ".warc.gz"):
            (page,) = [
                r["text"]
                for r in rows_for(all_rows, f"transfer_compression_{coding}{ext}")
                if r[REASON] is None
            ]
            pages[coding, ext] = page
    assert len(set(pages.values())) == 1
    assert "Extremely simple webpage used for testing GZip and Brotli" in pages["brotli", ".warc"]


def test_clueweb_japanese_decodes_to_readable_japanese(all_rows):
    rows = rows_for(all_rows, "clueweb-quirk.warc.gz")
    kept = [r for r in rows if r[REASON] is None]
    assert len(kept) == 29
    for row in kept:
        kana = len(re.findall(r"[\u3040-\u30ff]", row["text"]))
        assert kana > 500 and row["text"].count("\ufffd") == 0, row["url"]
    assert "吉田カバン" in kept[0]["text"]


def test_same_records_from_plain_gzip_and_lz4(all_rows):
    def view(suffix):
        return [(r["url"], r[REASON], r["text"]) for r in rows_for(all_rows, suffix)]

    assert view("data/warcfile.warc") == view("data/warcfile.warc.gz") == view("data/warcfile.warc.lz4")
    assert view("block-sized-records.warc") == view("block-sized-records.warc.lz4")


def test_bad_archives_end_as_rows(all_rows):
    bad_arc = rows_for(all_rows, "bad.arc")
    assert len(bad_arc) == 4 and all(r[REASON] for r in bad_arc)
    # one gzip member for the whole file: read as a stream, same records as the plain file
    whole = rows_for(all_rows, "example-bad.warc.gz.bad")
    plain = rows_for(all_rows, "warcs/example.warc")
    assert [(r["url"], r[REASON], r["text"]) for r in whole] == [
        (r["url"], r[REASON], r["text"]) for r in plain
    ]
    (clipped,) = rows_for(all_rows, "clipped.warc.gz")
    assert clipped[REASON] == "warc:corrupt_file:TruncatedRecord" and "88275" in clipped["warc_error"]
