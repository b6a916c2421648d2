"""A file read in parts (byte ranges of record starts) gives the whole-file read's rows, ids
and order: on every third-party archive, the project's damaged files and derived variants."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import lz4.frame
import pytest

from corpus.sample.build import write as write_sample
from corpus.warc.records import ReadOptions, read_file

ARCHIVE = re.compile(r"\.(w?arc)(\.gz|\.lz4|\.gz\.bad)?$")
OPTS = ReadOptions()


def _parts_match_whole(path: Path) -> int:
    whole = list(read_file(str(path), path.name, OPTS))
    for parts in (2, 3, 4, 7):
        joined = [row for k in range(parts) for row in read_file(str(path), path.name, OPTS, k, parts)]
        assert joined == whole, (path.name, parts)
    return len(whole)


def test_parts_of_every_shared_archive_join_to_the_whole_file(shared_data):
    files = sorted(p for p in (shared_data / "warc").rglob("*") if p.is_file() and ARCHIVE.search(p.name))
    assert len(files) >= 20
    rows = sum(_parts_match_whole(p) for p in files)
    assert rows > 1000


def test_parts_of_damaged_and_odd_files_join_to_the_whole_file(bad_inputs, tmp_path):
    sample = tmp_path / "sample.warc.gz"
    write_sample(sample, seed=1)
    data = sample.read_bytes()
    plain = gzip.decompress(data)  # every member: the uncompressed archive
    variants = {
        "plain.warc": plain,
        "whole.warc.gz": gzip.compress(plain),  # one gzip member for all records
        "a.warc.lz4": lz4.frame.compress(plain),
        "cut-in-member.warc.gz": data[: len(data) * 3 // 5],
        "cut-plain.warc": plain[: len(plain) // 2],
        "cut-lz4.warc.lz4": lz4.frame.compress(plain)[:5000],
        "junk-tail.warc.gz": data + b"\x1f\x8b\x08junk" * 40,
    }
    for name, blob in variants.items():
        (tmp_path / name).write_bytes(blob)
    paths = [sample, *(tmp_path / n for n in variants), *sorted(bad_inputs.folder.iterdir())]
    counts = {p.name: _parts_match_whole(p) for p in paths}
    assert counts["sample.warc.gz"] > 300 and counts["empty.warc.gz"] == 1


@pytest.mark.parametrize("cores, files, parts", [(2, 9, 2), (2, 1, 4), (2, 16, 1), (8, 3, 4), (1, 5, 2)])
def test_files_are_split_only_when_fewer_than_the_cores_want(cores, files, parts):
    import json

    from corpus.stages.warc import Params, plan_units

    listing = [(f"/x/{i}.warc.gz", f"{i}.warc.gz") for i in range(files)]
    units = [json.loads(u) for u in plan_units(listing, Params(paths=["x"]), cores)]
    assert len(units) == files * parts and {u["parts"] for u in units} == {parts}
    assert [(u["files"][0][0], u["part"]) for u in units] == [
        (p, k) for p, _ in listing for k in range(parts)
    ]
    assert len(plan_units(listing, Params(paths=["x"], parts_per_file=1), cores)) == files


def test_arc_records_get_the_same_record_id_every_read(shared_data):
    """warcio's arc2warc invents a random WARC-Record-ID per read; ours derives it."""
    arcs = sorted(p for p in (shared_data / "warc").rglob("*.arc*") if p.is_file())
    assert arcs
    for p in arcs:
        first, second = (list(read_file(str(p), p.name, OPTS)) for _ in range(2))
        assert [r["warc_record_id"] for r in first] == [r["warc_record_id"] for r in second]
        assert all(r["warc_record_id"].startswith("<urn:uuid:") for r in first if r["warc_type"])
