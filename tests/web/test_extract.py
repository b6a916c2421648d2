"""extract stage: trafilatura main text, title/date, reasons, time limit; F1 on a real benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from corpus.stages.base import REASON, StageContext
from corpus.stages.extract import Params, extract_batch, run
from corpus.text.extraction import shingle_f1

ARTICLE = """<html><head><title>How to sort in Python</title>
<meta property="article:published_time" content="2021-03-04T10:00:00Z"></head><body>
<nav><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/contact">Contact</a></nav>
<article><h1>How to sort in Python</h1>
<p>Sorting a list is one of the most common operations in everyday programming, and Python gives
you two ways to do it with very different trade-offs for memory and for readability.</p>
<p>The built-in function returns a new list and leaves the original unchanged, which is usually
what you want when the input is shared with other parts of a program.</p>
<pre><code>def sort_people(people):
    # sort by age, then by name
    return sorted(people, key=lambda p: (p.age, p.name))
</code></pre>
<p>The method list.sort() sorts in place and returns None, so it saves memory for large lists that
nobody else holds a reference to, at the price of mutating its input.</p>
</article><footer>Copyright 2021 Example Media. All rights reserved. Privacy policy.</footer>
</body></html>"""


def _batch(texts: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {"id": [f"d{i}" for i in range(len(texts))], "text": texts, "url": [None] * len(texts)}
    )


def test_extracts_main_text_title_date_and_code():
    row = extract_batch(_batch([ARTICLE]), Params()).to_pylist()[0]
    assert row[REASON] is None
    assert row["title"] == "How to sort in Python"
    assert row["date"] == "2021-03-04"
    assert "two ways to do it" in row["text"] and "mutating its input" in row["text"]
    assert "About us" not in row["text"] and "All rights reserved" not in row["text"]
    assert "    return sorted(people" in row["text"]  # code keeps its indentation
    pruned = extract_batch(_batch([ARTICLE]), Params(include_code=False)).to_pylist()[0]
    assert "return sorted" not in pruned["text"] and "two ways to do it" in pruned["text"]
    bare = extract_batch(_batch([ARTICLE]), Params(with_metadata=False)).to_pylist()[0]
    assert bare["title"] is None and bare["date"] is None and bare["text"] == row["text"]


def test_reasons_keep_the_html_of_removed_rows():
    empty_page = "<html><body><nav><a href='/'>Home</a></nav></body></html>"
    rows = extract_batch(_batch([ARTICLE, "", "   ", empty_page]), Params(min_chars=10)).to_pylist()
    assert [r[REASON] for r in rows] == [None, "extract:empty", "extract:empty", "extract:too_short"]
    assert rows[3]["text"] == empty_page


def test_timeout_removes_the_slow_page_and_the_next_one_still_extracts():
    slow = "<html><body>" + "<div><p>filler words here</p><span>x</span></div>" * 100_000 + "</body></html>"
    rows = extract_batch(_batch([slow, ARTICLE]), Params(timeout_s=2.0)).to_pylist()  # slow: minutes
    assert rows[0][REASON] == "extract:timeout"
    assert rows[0]["text"] == slow
    assert rows[1][REASON] is None and "two ways to do it" in rows[1]["text"]


@pytest.mark.slow  # every page of the article benchmark
def test_extraction_f1_on_article_benchmark(shared_data: Path):
    from warcio.archiveiterator import ArchiveIterator

    bench = shared_data / "extraction" / "article_extraction_benchmark"
    gold = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    keys, pages = [], []
    with open(bench / "pages.warc.gz", "rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type == "response":
                keys.append(record.rec_headers.get_header("WARC-Benchmark-Key"))
                pages.append(record.content_stream().read().decode("utf-8", errors="replace"))
    assert len(keys) == len(gold) == 181
    rows = extract_batch(_batch(pages), Params()).to_pylist()
    scores = [
        shingle_f1(r["text"] if r[REASON] is None else "", gold[k]["articleBody"])
        for k, r in zip(keys, rows, strict=True)
    ]
    mean = sum(scores) / len(scores)
    print(f"extraction mean char-5-gram shingle F1 over {len(scores)} pages: {mean:.4f}")
    assert mean >= 0.90


def test_run_on_spark(spark, tmp_path):
    df = spark.createDataFrame(
        [("a", ARTICLE, "web", "http://example.com/a"), ("b", "", "web", "http://example.com/b")],
        "id string, text string, source string, url string",
    )
    ctx = StageContext(
        spark=spark,
        name="extract",
        seed=0,
        inputs={"prev": df},
        base_dir=Path.cwd(),
        output_dir=str(tmp_path),
    )
    rows = {r["id"]: r for r in run(ctx, Params()).rows.collect()}
    assert rows["a"][REASON] is None and rows["a"]["title"] == "How to sort in Python"
    assert rows["a"]["source"] == "web" and "two ways to do it" in rows["a"]["text"]
    assert rows["b"][REASON] == "extract:empty"


def test_sandbox_is_kept_across_batches_and_dies_with_its_process(tmp_path):
    """One sandbox child per process, reused by every batch; when the process ends the way a
    PySpark worker does (``os._exit``, no clean-up), the child ends too instead of lingering."""
    script = (
        "import os, sys\n"
        "from corpus.text import extraction as x\n"
        f"page = {ARTICLE!r}\n"
        "list(x.extract_many([(page, None)], x.ExtractOptions(), 5.0))\n"
        "first = x._SANDBOX.process.pid\n"
        "list(x.extract_many([(page, None)], x.ExtractOptions(with_metadata=False), 5.0))\n"
        "assert x._SANDBOX.process.pid == first\n"
        "print(first, flush=True)\n"
        "os._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    child = int(out.stdout.split()[-1])
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), f"sandbox child {child} outlived its process"


def _alive(pid: int) -> bool:
    """Running or sleeping (a zombie has ended; its new parent reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_cpu_seconds_count_the_running_sandbox_child():
    """The extracting happens in the kept sandbox child, which is never reaped during a run:
    the stage's per-document CPU (``timings.cpu_seconds``) must include it anyway."""
    from corpus.engine import timings
    from corpus.text import extraction

    pages = [(ARTICLE, None)] * 300
    list(extraction.extract_many(pages[:1], extraction.ExtractOptions(), 5.0))  # child started
    child = extraction._SANDBOX.process.pid

    def child_cpu() -> float:
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / timings._TICK

    before, child_before = timings.cpu_seconds(), child_cpu()
    list(extraction.extract_many(pages, extraction.ExtractOptions(), 5.0))
    spent, child_spent = timings.cpu_seconds() - before, child_cpu() - child_before
    assert extraction._SANDBOX.process.pid == child and child_spent > 0.2
    assert spent >= child_spent
