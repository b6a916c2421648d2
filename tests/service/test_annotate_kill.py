"""``corpus run`` of dataset -> annotate as a subprocess, SIGKILLed midway, then resumed.

Asserts the service contract end to end: the resumed run pays only for the documents not
yet in the cache (counted at a real server on 127.0.0.1), a document that keeps failing is
kept with its error and retried by the next run, and the API key appears in no file under
the working folder (output, cache, Spark leftovers) and in none of the captured output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus.engine.service import KeyCache
from corpus.stages.annotate import Job, request_key
from tests.service.server import OpenAIServer

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-kill-test-0c4f8e2a9d1b7365"
N_DOCS = 40
TEMPLATE = "Rate this from 0 to 5. {text}\nScore: <points>"


def _setup(tmp_path: Path, base_url: str) -> tuple[Path, list[str]]:
    texts = [f"doc-{i} {'FAIL500' if i == 0 else 'SLOW'} Ein Absatz." for i in range(N_DOCS)]
    with (tmp_path / "docs.jsonl").open("w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"d{i:03d}", "text": t}) + "\n")
    (tmp_path / "rate.txt").write_text(TEMPLATE, encoding="utf-8")
    pipeline = {
        "name": "kill",
        "output": "out",
        "seed": 1,
        "spark": {"master": "local[2]"},
        "stages": [
            {"kind": "dataset", "name": "docs", "paths": ["docs.jsonl"]},
            {
                "kind": "annotate",
                "template": "rate.txt",
                "base_url": base_url,
                "model": "test-model",
                "api_key_env": "CORPUS_TEST_API_KEY",
                "sample_fraction": 1.0,
                "concurrency": 2,
                "retries": 1,
                "backoff_s": 0.0,
            },
        ],
    }
    path = tmp_path / "p.yaml"
    path.write_text(json.dumps(pipeline))  # JSON is YAML
    return path, texts


def _start(tmp_path: Path, pipeline: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CORPUS_TEST_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "corpus.cli", "run", str(pipeline)],
        cwd=tmp_path,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the JVM and Python workers die with it
    )


def _cached_docs(tmp_path: Path, texts: list[str]) -> set[str]:
    job = Job(
        backend="openai",
        url="",
        model="test-model",
        template=TEMPLATE,
        template_sha256="",
        max_chars=1000,
        text_column="text",
        temperature=0.0,
        max_tokens=16,
        timeout_s=60.0,
        per_task=1,
        retries=1,
        backoff_s=0.0,
        max_backoff_s=0.0,
        cache_dir="",
    )
    keys = set(KeyCache(str(tmp_path / "out/_cache/annotate")).keys())
    return {t.split()[0] for t in texts if request_key(job, t) in keys}


@pytest.mark.slow
def test_sigkill_midway_then_resume_pays_only_for_uncached_rows(tmp_path):
    with OpenAIServer(api_key=KEY, slow_s=0.25) as srv:
        pipeline, texts = _setup(tmp_path, srv.base_url)
        proc = _start(tmp_path, pipeline, tmp_path / "run1.log")
        deadline = time.monotonic() + 240
        while srv.total_calls < 12 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, (tmp_path / "run1.log").read_text()[-2000:]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(1.0)  # let in-flight handler threads finish counting
        assert not (tmp_path / "out/annotate/_manifest.json").exists()
        cached = _cached_docs(tmp_path, texts)
        assert 0 < len(cached) < N_DOCS - 1
        assert srv.auth_failures == 0

        srv.reset_counts()
        run2 = _start(tmp_path, pipeline, tmp_path / "run2.log")
        assert run2.wait(timeout=400) == 0, (tmp_path / "run2.log").read_text()[-2000:]
        paid = set(srv.calls)
        assert paid == {f"doc-{i}" for i in range(N_DOCS)} - cached
        assert srv.calls["doc-0"] == 2  # FAIL500: the first try and one retry
        assert all(n == 1 for d, n in srv.calls.items() if d != "doc-0")
        m = json.loads((tmp_path / "out/annotate/_manifest.json").read_text())
        assert m["transient_failures"] == 1 and m["rows_kept"] == N_DOCS

        srv.reset_counts()
        srv.healed = True
        run3 = _start(tmp_path, pipeline, tmp_path / "run3.log")
        assert run3.wait(timeout=400) == 0, (tmp_path / "run3.log").read_text()[-2000:]
        assert dict(srv.calls) == {"doc-0": 1}  # the plan reran it for the transient failure
        m = json.loads((tmp_path / "out/annotate/_manifest.json").read_text())
        assert m["transient_failures"] == 0 and m["metrics"]["annotated"] == N_DOCS

    secret = KEY.encode()
    leaks = [p for p in tmp_path.rglob("*") if p.is_file() and secret in p.read_bytes()]
    assert leaks == []
