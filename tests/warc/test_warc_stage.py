"""The ``warc`` stage through the real runner on Spark: same rows as the reader, nothing lost."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from corpus.engine.runner import run_stage_for_test
from corpus.stages.base import REASON
from corpus.warc.paths import file_key
from corpus.warc.records import ReadOptions, read_file


def written_rows(spark, folder: Path) -> dict[str, str | None]:
    """id -> reason over kept and removed shards of a committed stage folder."""
    kept = spark.read.parquet(str(folder / "part-*.parquet")).select("id").collect()
    removed_files = list((folder / "_removed").glob("part-*.parquet"))
    removed = (
        spark.read.parquet(*map(str, removed_files)).select("id", "reason").collect() if removed_files else []
    )
    out = {r["id"]: None for r in kept}
    out.update({r["id"]: r["reason"] for r in removed})
    assert len(out) == len(kept) + len(removed), "duplicate ids"
    return out


def expected_rows(files: list[Path], opts: ReadOptions = ReadOptions()) -> dict[str, str | None]:
    out = {}
    for path in files:
        for row in read_file(str(path), file_key(str(path), Path.cwd()), opts):
            out[row["id"]] = row[REASON]
    return out


@pytest.fixture(scope="module")
def inputs(shared_data, bad_inputs) -> list[Path]:
    return sorted(p for p in (shared_data / "warc").rglob("*") if p.is_file()) + sorted(
        bad_inputs.folder.iterdir()
    )


@pytest.fixture(scope="module")
def warc_run(spark, tmp_path_factory, shared_data, bad_inputs) -> tuple[Path, dict]:
    """The warc stage over every shared archive file and the project-made bad inputs."""
    out = tmp_path_factory.mktemp("warc_stage")
    # the 50 MB page goes over a 10 MB limit here (kept at the default: test_warc_records)
    params = {
        "paths": [str(shared_data / "warc" / "**" / "*"), str(bad_inputs.folder / "*")],
        "files_per_task": 16,
        "max_record_bytes": 10 << 20,
    }
    return out, run_stage_for_test(spark, "warc", params, str(out))


def test_stage_writes_every_record_of_shared_and_bad_archives(spark, warc_run, inputs):
    out, manifest = warc_run
    assert manifest["rows_in"] == manifest["rows_kept"] + manifest["rows_removed"]
    assert manifest["metrics"]["files"] == len(inputs)
    reasons = manifest["removed_by_reason"]
    for reason in (
        "warc:revisit",
        "warc:non_html",
        "warc:not_response",
        "warc:empty_file",
        "warc:decode_error",
        "warc:too_large",
    ):
        assert reasons.get(reason), reason
    assert any(r.startswith("warc:corrupt_file:") for r in reasons)
    got = written_rows(spark, out / "warc")
    assert got == expected_rows(inputs, ReadOptions(max_record_bytes=10 << 20))
    kept = spark.read.parquet(str(out / "warc" / "part-*.parquet"))
    assert kept.filter("text LIKE '%吉田カバン%'").count() > 0


def test_shared_archives_through_extract_and_langid(spark, warc_run):
    """warc -> extract -> langid over every shared archive: each record ends kept or removed
    with a reason in exactly one stage."""
    out, warc = warc_run
    extract = run_stage_for_test(
        spark, "extract", {"with_metadata": False}, str(out), inputs={"warc": str(out / "warc")}
    )
    langid = run_stage_for_test(spark, "langid", {}, str(out), inputs={"extract": str(out / "extract")})
    assert extract["rows_in"] == warc["rows_kept"] and langid["rows_in"] == extract["rows_kept"]
    seen: Counter = Counter()
    for stage in ("warc", "extract", "langid"):
        rows = written_rows(spark, out / stage)
        seen.update(i for i, reason in rows.items() if reason is not None or stage == "langid")
    assert len(seen) == warc["rows_in"] and set(seen.values()) == {1}
    langs = spark.read.parquet(str(out / "langid" / "part-*.parquet")).groupBy("lang").count().collect()
    assert {r["lang"] for r in langs} >= {"en", "ja", "zh", "de"}


def test_manifest_lists_files_relative_to_itself(spark, tmp_path, shared_data, bad_inputs):
    listing = tmp_path / "manifests" / "web.txt"
    listing.parent.mkdir()
    charsets = bad_inputs.folder / "charsets.warc.gz"
    # resolved: ids hash the file path, so the listing and the oracle must spell it alike
    pywb = (shared_data / "warc" / "pywb" / "sample_archive" / "warcs").resolve()
    listing.write_text(
        "# two archives and a glob\n"
        f"{os.path.relpath(charsets, listing.parent)}\n"
        f"{(pywb / 'example.warc.gz').resolve()}  # absolute\n\n"
        f"{os.path.relpath(pywb, listing.parent)}/example*.arc*\n"
    )
    manifest = run_stage_for_test(spark, "warc", {"manifest": str(listing)}, str(tmp_path / "out"))
    files = [charsets, pywb / "example.warc.gz", pywb / "example.arc", pywb / "example.arc.gz"]
    assert manifest["metrics"]["files"] == 4
    assert written_rows(spark, tmp_path / "out" / "warc") == expected_rows(files)
    assert json.loads((tmp_path / "out" / "warc" / "_manifest.json").read_text())["rows_in"] == sum(
        Counter(expected_rows([f]).values()).total() for f in files
    )


def test_a_pattern_matching_nothing_is_an_error(spark, tmp_path):
    from corpus.errors import UserError

    with pytest.raises(UserError, match="field 'paths': no file matches"):  # at plan time
        run_stage_for_test(spark, "warc", {"paths": [str(tmp_path / "none-*.warc.gz")]}, str(tmp_path))


def test_files_split_in_parts_commit_the_same_rows_in_the_same_order(spark, tmp_path, bad_inputs):
    """parts_per_file (and the automatic split for few files) changes tasks, not the data: the
    committed rows, their order and the removed rows equal a one-part run's."""
    import pyarrow.parquet as pq

    sample = bad_inputs.folder / "charsets.warc.gz"
    paths = [str(sample), str(bad_inputs.folder / "truncated.warc.gz")]

    def committed(parts: int | None) -> tuple[list, list, dict]:
        out = tmp_path / f"parts-{parts}"
        manifest = run_stage_for_test(spark, "warc", {"paths": paths, "parts_per_file": parts}, str(out))
        kept = [
            r for f in sorted((out / "warc").glob("part-*.parquet")) for r in pq.read_table(f).to_pylist()
        ]
        removed = sorted(
            (r["id"], r["reason"])
            for f in (out / "warc" / "_removed").glob("part-*.parquet")
            for r in pq.read_table(f, columns=["id", "reason"]).to_pylist()
        )
        return kept, removed, manifest

    one, one_removed, one_manifest = committed(1)
    for parts in (3, None):
        rows, removed, manifest = committed(parts)
        assert rows == one and removed == one_removed
        assert manifest["rows_in"] == one_manifest["rows_in"] == len(one) + len(one_removed)
        assert manifest["removed_by_reason"] == one_manifest["removed_by_reason"]
