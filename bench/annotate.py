"""Annotator requests/s at concurrency 1, 4, 16 and cache-hit rows/s (printed, not asserted).

    .venv/bin/python bench/annotate.py [--rows 400] [--delay-ms 20]

The server is the tests' OpenAI-compatible chat-completions server
(``tests/service/server.py``) in a separate process on 127.0.0.1 (so it does not share this
process's GIL), answering each request after ``--delay-ms`` (a stand-in for model latency).

* ours: ``corpus.stages.annotate.annotate_batch`` — what each Spark task of the ``annotate``
  stage runs: per-row cache lookup, prompt rendering, the pooled per-worker ``httpx.Client``
  with the retry policy, answer parsing, cache write, Arrow columns out — on one batch of
  ``--rows`` distinct documents with ``concurrency`` requests in flight (a fresh cache
  folder each time, so every row is a request);
* peer: a plain ``aiohttp`` loop with an ``asyncio.Semaphore(concurrency)`` POSTing the same
  rendered prompts and reading ``choices[0].message.content`` (no cache, no parsing, no
  retries): the floor an annotator's overhead is measured against.

Cache hits: ``annotate_batch`` again over the same rows, all cached (no request), rows/s.
Each concurrency runs ``--rounds`` alternating rounds (ours, peer, ours cached); medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = """
import sys, time
from tests.service.server import OpenAIServer
srv = OpenAIServer(delay_s=float(sys.argv[1]))
srv.__enter__()
print(srv.base_url, flush=True)
sys.stdin.read()
"""


def ours(base_url: str, texts: list[str], concurrency: int, cache_dir: str) -> tuple[float, int]:
    import pyarrow as pa

    from corpus.stages.annotate import Job, annotate_batch

    job = Job(
        backend="openai",
        url=base_url + "/chat/completions",
        model="test-model",
        template="Rate this from 0 to 5. {text}\nScore: <points>",
        template_sha256="",
        max_chars=1000,
        text_column="text",
        temperature=0.0,
        max_tokens=16,
        timeout_s=60.0,
        per_task=concurrency,
        retries=4,
        backoff_s=0.5,
        max_backoff_s=30.0,
        cache_dir=cache_dir,
    )
    batch = pa.RecordBatch.from_pydict({"id": [str(i) for i in range(len(texts))], "text": texts})
    t0 = time.perf_counter()
    out, results = annotate_batch(batch, job, None)
    seconds = time.perf_counter() - t0
    assert out.column("annotation").null_count == 0
    return seconds, sum(r.calls for r in results)


def peer(base_url: str, texts: list[str], concurrency: int) -> float:
    import aiohttp

    template = "Rate this from 0 to 5. {text}\nScore: <points>"

    async def main() -> float:
        sem = asyncio.Semaphore(concurrency)
        conn = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=conn) as session:

            async def one(text: str) -> str:
                payload = {
                    "model": "test-model",
                    "messages": [{"role": "user", "content": template.replace("{text}", text[:1000])}],
                    "temperature": 0.0,
                    "max_tokens": 16,
                }
                async with sem, session.post(base_url + "/chat/completions", json=payload) as r:
                    body = await r.json()
                    return body["choices"][0]["message"]["content"]

            t0 = time.perf_counter()
            answers = await asyncio.gather(*(one(t) for t in texts))
            seconds = time.perf_counter() - t0
            assert len(answers) == len(texts)
            return seconds

    return asyncio.run(main())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--delay-ms", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.delay_ms / 1000)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        base_url = server.stdout.readline().strip()
        print(
            f"server {base_url}, {args.delay_ms:g} ms per answer, {args.rows} rows, load {os.getloadavg()[0]:.1f}"
        )
        print(f"{'concurrency':>11}  {'ours req/s':>10}  {'peer req/s':>10}  {'ratio':>5}  {'bound':>7}")
        hits = []
        for c in (1, 4, 16):
            r_ours, r_peer = [], []
            for rnd in range(args.rounds):  # alternating rounds, medians: the machine is shared
                texts = [
                    f"doc-{(c * 10 + rnd) * 100_000 + i} a paragraph about cats." for i in range(args.rows)
                ]
                with tempfile.TemporaryDirectory() as cache:
                    s_ours, calls = ours(base_url, texts, c, cache)
                    r_ours.append(calls / s_ours)
                    r_peer.append(len(texts) / peer(base_url, texts, c))
                    s_hit, hit_calls = ours(base_url, texts, c, cache)
                    assert hit_calls == 0
                    hits.append(len(texts) / s_hit)
            mo, mp = statistics.median(r_ours), statistics.median(r_peer)
            ideal = c / (args.delay_ms / 1000)
            print(f"{c:>11}  {mo:>10.1f}  {mp:>10.1f}  {mo / mp:>5.2f}  {ideal:>7.0f}")
        load = os.getloadavg()[0]
        print(f"cache hits: {statistics.median(hits):,.0f} rows/s (median; no request; load {load:.1f})")
    finally:
        server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
