"""Kill -9 in the middle of a run, rerun, get the same rows. (A real standalone cluster writing
the same rows as local mode: tests/engine/test_spark_submit.py, through spark-submit.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from corpus.engine.manifest import read_manifest
from tests.engine.conftest import FINAL, ROOT, final_rows, web_pipeline


def _corpus_run(yaml_path, *extra, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "corpus.cli", "run", str(yaml_path), "--no-progress", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **kw,
    )


def test_sigkill_then_resume_equals_uninterrupted(web_reference, sample_warc, tmp_path):
    _, ref_out = web_reference
    out = tmp_path / "out"
    yaml_path = web_pipeline(tmp_path, sample_warc, out)
    proc = _corpus_run(yaml_path, "--master", "local[2]")
    deadline = time.time() + 240
    while read_manifest(str(out / "warc")) is None and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert read_manifest(str(out / "warc")) is not None, proc.stdout.read().decode()[-3000:]
    assert read_manifest(str(out / FINAL)) is None, "the run finished before it could be killed"
    warc_before = read_manifest(str(out / "warc"))

    rerun = _corpus_run(yaml_path, "--master", "local[2]")
    log = rerun.communicate(timeout=600)[0].decode()
    assert rerun.returncode == 0, log[-3000:]
    assert read_manifest(str(out / "warc")) == warc_before, "a committed stage was recomputed"
    assert not [p for p in out.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    assert final_rows(out) == final_rows(ref_out)
