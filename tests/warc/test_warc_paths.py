"""Input listing: globs, folders, manifests relative to themselves, stable file keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.warc.paths import expand, file_key, read_manifest


def test_globs_folders_and_files(tmp_path):
    for name in ("a/1.warc.gz", "a/b/2.warc", "c.arc"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert expand([str(tmp_path / "a")]) == [str(tmp_path / "a/1.warc.gz"), str(tmp_path / "a/b/2.warc")]
    assert expand([str(tmp_path / "**/*.warc*"), str(tmp_path / "a/1.warc.gz")]) == [
        str(tmp_path / "a/1.warc.gz"),
        str(tmp_path / "a/b/2.warc"),
    ]
    assert expand([str(tmp_path / "c.arc")]) == [str(tmp_path / "c.arc")]
    with pytest.raises(FileNotFoundError, match="nothing"):
        expand([str(tmp_path / "nothing*.warc")])


def test_manifest_entries_resolve_against_the_manifest(tmp_path):
    manifest = tmp_path / "manifests" / "m.txt"
    manifest.parent.mkdir()
    manifest.write_text("# comment\n../data/x.warc.gz  # trailing\n\n/abs/y.warc\ns3://bucket/z.warc.gz\n")
    assert read_manifest(str(manifest)) == [
        str(tmp_path / "data" / "x.warc.gz"),
        "/abs/y.warc",
        "s3://bucket/z.warc.gz",
    ]


def test_file_keys_do_not_depend_on_where_the_checkout_lives(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert (
        file_key(str(one / "data/x.warc.gz"), one)
        == file_key(str(two / "data/x.warc.gz"), two)
        == "data/x.warc.gz"
    )
    assert file_key("s3://bucket/z.warc.gz", Path("/repo")) == "s3://bucket/z.warc.gz"
    assert file_key(str(tmp_path / "shared/a.warc"), tmp_path / "repo") == "../shared/a.warc"
