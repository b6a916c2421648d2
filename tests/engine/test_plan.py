"""Resume through the real CLI on a tiny pipeline (two small WARCs -> warc -> extract -> langid
-> tokenize), run once with Spark:

* changing a WARC list file, touching a file a glob matches, replacing the tokenizer file or
  the langid model file reruns that stage and everything downstream, with the reason in
  ``--dry-run``; unchanged files skip (issue 9);
* a fully committed pipeline reruns without starting a JVM (issue 10 item 7);
* ``--only`` shows the stages it leaves stale as "out of date" (issue 10 item 5);
* a stage with transient failures reruns.

Each test works on its own copy of the committed workspace (mtimes kept, relative paths), which
also shows that a moved checkout + output still plans "skip"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STAGES = ["warc", "extract", "langid", "tokenize"]
PIPELINE = """\
name: plan_test
output: out
stages:
  - kind: warc
    manifest: lists/crawl.txt
  - kind: extract
  - kind: langid
    model_path: models/lid.176.ftz
  - kind: tokenize
    tokenizer: tok
    eos_token: "[SEP]"
    pad_token: "[PAD]"
"""
PAGE = (
    "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    "<p>{title} is a page the plan tests write. It has a few sentences of plain English text so "
    "that the extractor keeps it and the language identifier calls it English with confidence.</p>"
    "<p>The second paragraph talks about rivers, bridges and the weather in the valley.</p>"
    "</article></body></html>"
)


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "corpus.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def _warc(path: Path, seed: int) -> None:
    from corpus.sample.warcfile import DeterministicWarc

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        w = DeterministicWarc(fh, seed=seed)
        for i in range(3):
            w.response(f"https://example.org/{seed}/{i}", PAGE.format(title=f"Page {seed}-{i}").encode())


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    """A workspace whose pipeline was run to the end once by `corpus run`."""
    from corpus.dedup.embed import default_model_path
    from corpus.text.langid_model import bundled_model_path

    work = tmp_path_factory.mktemp("plan") / "work"
    _warc(work / "data" / "a.warc.gz", 1)
    _warc(work / "data" / "b.warc.gz", 2)
    (work / "lists").mkdir()
    (work / "lists" / "crawl.txt").write_text("../data/*.warc.gz\n")
    (work / "models").mkdir()
    shutil.copy(bundled_model_path(), work / "models" / "lid.176.ftz")
    (work / "tok").mkdir()
    shutil.copy(Path(default_model_path()) / "tokenizer.json", work / "tok" / "tokenizer.json")  # WordPiece
    (work / "p.yaml").write_text(PIPELINE)
    r = cli("run", "p.yaml", "--no-progress", "--master", "local[1]", cwd=work)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return work


@pytest.fixture
def work(committed, tmp_path) -> Path:
    copy = tmp_path / "work"
    shutil.copytree(committed, copy)  # copy2: mtimes kept
    return copy


def dry_run(work: Path, *extra: str) -> dict[str, tuple[str, str]]:
    """``{stage: (action, why)}`` from the `--dry-run` table."""
    r = cli("run", "p.yaml", "--dry-run", *extra, cwd=work)
    assert r.returncode == 0, r.stderr
    rows = {}
    for line in r.stdout.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) == 8 and cells[2] in STAGES:
            rows[cells[2]] = (cells[5], cells[6])
    assert list(rows) == STAGES, r.stdout
    return rows


def _bump_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_unchanged_files_skip_and_the_rerun_starts_no_jvm(work):
    assert dry_run(work) == {s: ("skip", "committed and unchanged") for s in STAGES}
    no_java = {"JAVA_HOME": str(work / "no-such-jdk"), "PATH": f"{work / 'no-bin'}:/usr/bin:/bin"}
    started = time.time()
    r = cli("run", "p.yaml", "--no-progress", cwd=work, env=no_java)
    print(f"no-op rerun: {time.time() - started:.2f} s wall (subprocess, interpreter start included)")
    assert r.returncode == 0, r.stderr
    assert "nothing to run" in r.stdout
    assert sum(line.split("│")[2].strip() == "skipped" for line in r.stdout.splitlines() if "│" in line) == 4
    # the same environment cannot start Spark: a run with work to do fails
    forced = cli("run", "p.yaml", "--no-progress", "--force", "tokenize", cwd=work, env=no_java)
    assert forced.returncode != 0


@pytest.mark.parametrize(
    "change, first, why",
    [
        ("list", "warc", "input files changed: lists/crawl.txt"),
        ("touch", "warc", "input files changed: data/b.warc.gz"),
        ("model", "langid", "input files changed: models/lid.176.ftz"),
        ("tokenizer", "tokenize", "input files changed: tok/tokenizer.json"),
    ],
)
def test_changed_outside_file_reruns_it_and_downstream(work, change, first, why):
    if change == "list":  # same files, listed another way
        (work / "lists" / "crawl.txt").write_text("../data/a.warc.gz\n../data/b.warc.gz\n")
    elif change == "touch":
        _bump_mtime(work / "data" / "b.warc.gz")
    elif change == "model":
        (work / "models" / "lid.176.ftz").write_bytes(b"another model file")
    else:
        tok = work / "tok" / "tokenizer.json"
        tok.write_text(tok.read_text() + "\n")
    k = STAGES.index(first)
    expected = {s: ("skip", "committed and unchanged") for s in STAGES[:k]}
    expected[first] = ("run", why)
    expected.update({s: ("run", "an input reruns") for s in STAGES[k + 1 :]})
    assert dry_run(work) == expected


def test_only_reports_what_it_leaves_out_of_date(work):
    plan = dry_run(work, "--only", "extract", "--force", "extract")
    assert plan == {
        "warc": ("skip", "not selected (--only)"),
        "extract": ("run", "forced"),
        "langid": ("skip", "out of date (extract changed)"),
        "tokenize": ("skip", "out of date (langid is out of date)"),
    }
    r = cli(
        "run",
        "p.yaml",
        "--no-progress",
        "--master",
        "local[1]",
        "--only",
        "extract",
        "--force",
        "extract",
        cwd=work,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    status = {
        c[1].strip(): c[2].strip() for c in (line.split("│") for line in r.stdout.splitlines()) if len(c) > 3
    }
    assert [status[s] for s in STAGES] == ["skipped", "ran", "out of date", "out of date"]
    assert "langid: out of date (extract changed)" in r.stdout
    # the next plain run brings them up to date
    assert dry_run(work)["langid"] == ("run", "an input changed")


def test_transient_failures_rerun(work):
    path = work / "out" / "tokenize" / "_manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "transient_failures": 3}))
    plan = dry_run(work)
    assert plan["tokenize"] == ("run", "3 transient failures to retry")
    assert plan["langid"] == ("skip", "committed and unchanged")
