"""Reasoning data: final-answer extraction and checks, the removal rules, and trace generation
against a real OpenAI-compatible HTTP server on 127.0.0.1 that the test runs (right, wrong,
cut-off and failing answers; cached on rerun)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from corpus.reasoning import answers
from corpus.stages import reasoning


@pytest.mark.parametrize(
    "text, want",
    [
        ("so x = 2 and \\boxed{\\frac{3}{4}} done", "\\frac{3}{4}"),
        ("first \\boxed{1} then \\boxed{{a}+{b}}", "{a}+{b}"),
        ("The answer is 42.", "42"),
        ("Answer: (C)", "(C)"),
        ("line one\nseventeen", "seventeen"),
        ("   ", None),
    ],
)
def test_final_answer(text, want):
    assert answers.final_answer(text) == want


@pytest.mark.parametrize(
    "reference, predicted, ok",
    [
        ("1000", "1,000", True),
        ("0.75", "\\frac{3}{4}", True),
        ("3/4", "0.7500000001", True),
        ("0.75", "0.76", False),
        ("25%", "0.25", True),
        ("B", "(B) because", True),
        ("B", "C", False),
        ("$x^2+1$", "x^2 + 1.", True),
        ("Paris", "paris", True),
        ("Paris", "Lyon", False),
    ],
)
def test_check(reference, predicted, ok):
    assert answers.check(reference, predicted) is ok


P = reasoning.Params(min_trace_chars=10)


@pytest.mark.parametrize(
    "row, reason",
    [
        (("", "4", "think think think", "\\boxed{4}"), "reasoning:no_question"),
        (("2+2?", "4", None, "\\boxed{4}"), "reasoning:no_trace"),
        (("2+2?", "4", None, "<think>two plus two is"), "reasoning:truncated_trace"),
        (("2+2?", "4", "short", "\\boxed{4}"), "reasoning:too_short"),
        (("2+2?", "4", "two plus two is five", "\\boxed{5}"), "reasoning:wrong_answer"),
        (("2+2?", "4", "two plus two is four", ""), "reasoning:wrong_answer"),
        (("2+2?", "4", "two plus two is four", "\\boxed{4}"), None),
        (("2+2?", None, "two plus two is four", "It is 4."), None),
        (("2+2?", "4", None, "<think>two plus two is four</think>\nSo \\boxed{4}"), None),
    ],
)
def test_judge_rules(row, reason):
    text, why = reasoning.judge(*row, P)
    assert why == reason
    if reason is None:
        assert text.startswith(
            "[gMASK]<sop><|user|>\n2+2?<|assistant|>\n<think>two plus two is four</think>\n"
        )


class _Server:
    """Chat completions for the test questions: a right, a wrong, a cut-off and a failing one."""

    ANSWERS = {
        "What is 2+3?": ("<think>2 plus 3 makes 5, counting on.</think>\nThe sum is \\boxed{5}.", "stop"),
        "What is 7*6?": ("<think>7 times 6 is 41 I believe.</think>\n\\boxed{41}", "stop"),
        "Prove Fermat.": ("<think>Consider the curve and then", "length"),
    }

    def __init__(self) -> None:
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._send(200, {"data": [{"id": "reasoner"}]})

            def do_POST(self):
                outer.calls += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][0]["content"]
                question = prompt.rsplit("\n\n", 1)[-1]
                if question not in outer.ANSWERS:
                    self._send(500, {"error": "boom"})
                    return
                content, finish = outer.ANSWERS[question]
                self._send(200, {"choices": [{"message": {"content": content}, "finish_reason": finish}]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()


def test_generated_traces_are_checked_cached_and_failures_retried(spark, tmp_path):
    import duckdb

    from corpus.engine.manifest import read_manifest
    from corpus.engine.runner import run_pipeline
    from corpus.engine.write import write_output
    from corpus.spec import load_pipeline_dict
    from corpus.stages.base import StageOutput

    rows = [
        ("q1", "What is 2+3?", "5", None),
        ("q2", "What is 7*6?", "42", None),
        ("q3", "Prove Fermat.", None, None),
        ("q4", "Unknown question", "1", None),
        ("q5", "what is   2+3?", "5", "5 is two plus three, so five.\n\\boxed{5}"),
        ("q6", "Capital of France?", "Paris", "France's capital city is Paris.\nParis"),
    ]
    df = spark.createDataFrame(rows, "id string, question string, answer string, reasoning string")
    docs = tmp_path / "docs"
    counts = write_output(StageOutput(rows=df, balanced=False), str(docs), rows_hint=len(rows))
    from corpus.engine.manifest import write_manifest

    write_manifest(str(docs), {"stage": "docs", "kind": "test", "rows_in": 6, **counts, "balanced": False})

    server = _Server()
    try:
        out = tmp_path / "out"
        stage = {
            "kind": "reasoning",
            "inputs": [str(docs)],
            "generate": {"base_url": server.url, "model": "reasoner", "retries": 1},
        }
        pipeline = load_pipeline_dict({"name": "t", "output": str(out), "stages": [stage]})
        run_pipeline(spark, pipeline, progress=False)
        m = read_manifest(str(out / "reasoning"))
        first_calls = server.calls
        assert m["removed_by_reason"] == {
            "reasoning:wrong_answer": 1,
            "reasoning:truncated_trace": 1,
            "reasoning:duplicate_question": 1,
        }
        assert m["rows_kept"] == 3 and m["transient_failures"] == 1
        kept = dict(
            duckdb.sql(
                f"select id, coalesce(text, generation_error) from '{out}/reasoning/part-*.parquet'"
            ).fetchall()
        )
        assert "\\boxed{5}" in kept["q1"] and "<think>2 plus 3 makes 5" in kept["q1"]
        assert "q5" not in kept, "q5 repeats q1's question (smallest id kept)"
        assert "HTTP 500" in kept["q4"]
        # a trace without a separate response: its last line is the response
        assert kept["q6"].endswith("<think>France's capital city is Paris.\nParis</think>\nParis")

        run_pipeline(spark, pipeline, progress=False)  # reruns: one transient failure to retry
        assert server.calls - first_calls == 2, "only the failing question is asked again (2 attempts)"
    finally:
        server.close()
