"""Reasoning rows whose answers a real model generates: the reasoning stage (Spark local[2]) asks
SmolLM2-135M-Instruct, served by ``transformers serve`` on 127.0.0.1 (the ``smollm2_server``
fixture), to answer questions with a reference answer; answers that miss the reference are
removed as ``reasoning:wrong_answer``, right ones are kept and rendered.

What the model answers is not fixed here. Each generation is read back from the stage's cache
(one entry per question) and judged by the test itself, independently of the stage's answer
extraction: *right* when the only numbers in it are the reference, *wrong* when the reference
is not among them (a 135M model adds 3 + 5 to 11 and multiplies 17 by 23 to 381, greedily);
anything else is not judged. Each judged row must have the stage's verdict, and the questions
must give at least one of each.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from corpus.engine.runner import run_stage_for_test
from corpus.engine.service import KeyCache, cache_key

pytestmark = pytest.mark.slow  # a model server answering on CPU

PROMPT = "Question: {question}\nAnswer briefly."
QUESTIONS = [("q1", "What is 2+2?", "4"), ("q2", "What is 3+5?", "8"), ("q3", "What is 17*23?", "391")]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def test_generated_wrong_answers_are_removed_and_right_ones_kept(spark, tmp_path: Path, smollm2_server):
    import duckdb

    src = tmp_path / "questions.jsonl"
    src.write_text("".join(json.dumps({"id": i, "question": q, "answer": a}) + "\n" for i, q, a in QUESTIONS))
    dataset = {"paths": [str(src)], "columns": {"text": "question"}}
    run_stage_for_test(spark, "dataset", dataset, str(tmp_path / "src"), name="docs")
    generate = {
        "base_url": smollm2_server.base_url,
        "model": smollm2_server.model,
        "prompt": PROMPT,
        "max_tokens": 24,
        "concurrency": 2,
        "retries": 1,
        "timeout_s": 600.0,  # a loaded 2-core machine stretches one request to a minute
    }
    out = tmp_path / "out"
    # the dataset stage reads the question into `text`
    params = {"generate": generate, "question_column": "text", "min_trace_chars": 5, "source": "math"}
    m = run_stage_for_test(spark, "reasoning", params, str(out), inputs={"input": str(tmp_path / "src/docs")})
    assert m["rows_in"] == len(QUESTIONS) == m["rows_kept"] + m["rows_removed"]
    assert m["transient_failures"] == 0

    kept = dict(duckdb.sql(f"select id, text from '{out}/reasoning/part-*.parquet'").fetchall())
    removed = dict(duckdb.sql(f"select id, reason from '{out}/reasoning/_removed/*.parquet'").fetchall())
    cache = KeyCache(str(out / "_cache" / "reasoning"))
    verdicts = []
    for qid, question, reference in QUESTIONS:
        key = cache_key("reasoning", smollm2_server.model, PROMPT, 24, 0.0, question)
        got = cache.get(key)
        assert got is not None and got["trace"], f"{qid}: no cached generation"
        numbers = {float(x) for x in NUMBER.findall(got["trace"])}
        if got["truncated"]:
            assert removed[qid] == "reasoning:truncated_trace"
        elif numbers == {float(reference)}:
            verdicts.append("right")
            assert qid in kept and got["trace"].strip() in kept[qid], (qid, got, removed.get(qid))
        elif float(reference) not in numbers:
            verdicts.append("wrong")
            assert removed.get(qid) == "reasoning:wrong_answer", (qid, got, kept.get(qid))
    assert "right" in verdicts and "wrong" in verdicts, verdicts
