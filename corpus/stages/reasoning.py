"""``reasoning``: question / answer sets (math, science, coding contests) with reasoning traces
→ training text in GLM-4.5's chat format (``<|user|>`` question, ``<|assistant|>`` with the
trace inside ``<think>…</think>`` and the response after it; :mod:`corpus.agent.glm_format`),
with ``content_spans`` (the question, trace and response inside ``text``: the tokenize stage
encodes them as plain text, so a question or response quoting ``<|assistant|>`` or
``</think>`` never opens a turn or closes the think block).

Input columns (names configurable): ``question``; optional ``answer`` (the reference),
``reasoning`` (the trace) and ``response`` (the final response; when absent the trace's last
line is the response). A trace may also come inline as ``<think>…</think>`` in the response.
Rows without a trace get one from an OpenAI-compatible endpoint when ``generate`` is set
(a reasoning model; cached under the stage's cache folder so a rerun never pays twice;
a failed call keeps the row with ``generation_error`` and no ``text``, and is retried on the
next run). A generated answer without ``<think>`` (a model that does not reason apart, e.g.
SmolLM2) is taken as the trace, its last line the response, so its answer is still checked.

Checks, each a removal reason: ``reasoning:no_question``; ``reasoning:no_trace`` (none given
or generated); ``reasoning:truncated_trace`` (an unclosed ``<think>``, or generation stopped at
its token limit); ``reasoning:too_short`` (trace under ``min_trace_chars``);
``reasoning:no_final_answer`` / ``reasoning:wrong_answer`` when a reference answer exists
(:mod:`corpus.reasoning.answers`: exact, numeric with tolerance, or option letter);
``reasoning:duplicate_question`` (the same normalised question again: the row with the
smallest id is kept) — the GLM-4.5 SFT-data rules on duplicates, short and truncated traces.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import pyarrow as pa
import xxhash
from pydantic import BaseModel, ConfigDict, Field

from corpus.agent import glm_format
from corpus.reasoning import answers
from corpus.stages.base import REASON, StageContext, StageOutput, StageParams

GENERATE_PROMPT = (
    "Solve the following problem. Think step by step inside <think></think>, then give the final "
    "answer as \\boxed{{...}}.\n\n{question}"
)


class Generate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    base_url: str
    """OpenAI-compatible endpoint, e.g. ``http://127.0.0.1:8000/v1``."""
    model: str
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (never the key)."""
    prompt: str = GENERATE_PROMPT
    max_tokens: int = Field(4096, gt=0)
    temperature: float = Field(0.0, ge=0)
    concurrency: int = Field(4, gt=0)
    timeout_s: float = Field(120.0, gt=0)
    retries: int = Field(4, ge=0)


class Params(StageParams):
    question_column: str = "question"
    answer_column: str = "answer"
    trace_column: str = "reasoning"
    response_column: str = "response"
    source: str = "reasoning"
    min_trace_chars: int = Field(20, ge=0)
    answer_kind: answers.Kind = "auto"
    history_reasoning: Literal["drop", "keep"] = "keep"
    generate: Generate | None = None


def _norm_question(q: str) -> str:
    return re.sub(r"\s+", " ", q).strip().lower()


def _column(batch: pa.RecordBatch, name: str) -> list[Any]:
    return batch.column(name).to_pylist() if name in batch.schema.names else [None] * batch.num_rows


def split_trace(trace: str | None, response: str | None) -> tuple[str | None, str | None, bool]:
    """``(trace, response, truncated)``: a trace inline as ``<think>…</think>`` in the
    response is taken out; an unclosed ``<think>`` means the trace was cut."""
    response = response or ""
    if not trace and "<think>" in response:
        if "</think>" not in response:
            return response.split("<think>", 1)[1], None, True
        head, response = response.split("</think>", 1)
        trace = head.split("<think>", 1)[1]
    if trace and "<think>" in trace and "</think>" not in trace:
        return trace, response, True
    trace = (trace or "").replace("<think>", "").replace("</think>", "").strip() or None
    response = response.strip() or None
    if trace and response is None:
        response = trace.splitlines()[-1].strip()
    return trace, response, False


def judge(
    question: str | None, reference: str | None, trace: str | None, response: str | None, params: Params
) -> tuple[str | None, str | None]:
    """``(text, reason)`` of one row: the rendered conversation, or the removal reason."""
    segments, reason = judge_segments(question, reference, trace, response, params)
    return ("".join(p for p, _ in segments) if segments is not None else None), reason


def judge_segments(
    question: str | None, reference: str | None, trace: str | None, response: str | None, params: Params
) -> tuple[list[tuple[str, bool]] | None, str | None]:
    """:func:`judge` with the conversation as :func:`corpus.agent.glm_format.render_segments`
    pieces (content vs template), which give the ``content_spans`` column."""
    if not question or not question.strip():
        return None, "reasoning:no_question"
    trace, response, truncated = split_trace(trace, response)
    if truncated:
        return None, "reasoning:truncated_trace"
    if not trace:
        return None, "reasoning:no_trace"
    if len(trace) < params.min_trace_chars:
        return None, "reasoning:too_short"
    if reference is not None and str(reference).strip():
        predicted = answers.final_answer(response)
        if predicted is None:
            return None, "reasoning:no_final_answer"
        if not answers.check(str(reference), predicted, params.answer_kind):
            return None, "reasoning:wrong_answer"
    messages = [
        {"role": "user", "content": question.strip()},
        {"role": "assistant", "reasoning_content": trace, "content": response or ""},
    ]
    try:
        return glm_format.render_segments(messages, None, glm_format.Options(params.history_reasoning)), None
    except glm_format.InvalidTrajectory as e:
        return None, e.reason.replace("agent:", "reasoning:")


def _generate(questions: list[str], gen: Generate, cache_dir: str, secret: Any) -> list[dict[str, Any]]:
    """One (cached) completion per question: ``{trace, response, truncated}`` or ``{error}``."""
    from corpus.engine.service import (
        KeyCache,
        PermanentError,
        RetryPolicy,
        TransientError,
        cache_key,
        http_client,
        map_bounded,
        post_json,
    )

    cache = KeyCache(cache_dir)
    client = http_client(gen.timeout_s, gen.concurrency)
    url = gen.base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {secret.reveal()}"} if secret is not None else {}

    def one(question: str) -> dict[str, Any]:
        key = cache_key("reasoning", gen.model, gen.prompt, gen.max_tokens, gen.temperature, question)
        if (hit := cache.get(key)) is not None:
            return hit
        payload = {
            "model": gen.model,
            "messages": [{"role": "user", "content": gen.prompt.format(question=question)}],
            "max_tokens": gen.max_tokens,
            "temperature": gen.temperature,
        }
        try:
            body, _ = post_json(client, url, payload, headers, RetryPolicy(gen.retries), secret)
            choice = body["choices"][0]
            message = choice["message"]
        except (TransientError, PermanentError, KeyError, IndexError, TypeError) as e:
            return {"error": f"{type(e).__name__}: {e}"}
        content = message.get("content") or ""
        trace = message.get("reasoning_content")
        got = {
            "trace": f"<think>{trace}</think>{content}" if trace else content,
            "truncated": choice.get("finish_reason") == "length",
        }
        cache.put(key, got)
        return got

    return map_bounded(one, questions, gen.concurrency)


def reasoning_batch(
    batch: pa.RecordBatch, params: Params, cache_dir: str = "", secret: Any = None
) -> pa.RecordBatch:
    """Render and check every row (generating missing traces when configured)."""
    from corpus.engine.arrow_map import with_columns

    questions = _column(batch, params.question_column)
    refs = _column(batch, params.answer_column)
    traces = _column(batch, params.trace_column)
    responses = _column(batch, params.response_column)
    errors: list[str | None] = [None] * batch.num_rows
    forced: list[str | None] = [None] * batch.num_rows
    generated = [False] * batch.num_rows
    if params.generate is not None:
        todo = [
            k
            for k, (q, t, r) in enumerate(zip(questions, traces, responses, strict=True))
            if q and not t and not (r and "<think>" in r)
        ]
        results = _generate([questions[k] for k in todo], params.generate, cache_dir, secret)
        for k, got in zip(todo, results, strict=True):
            if "error" in got:
                errors[k] = got["error"]  # kept, no text; retried on the next run
                continue
            generated[k] = True
            if "<think>" in got["trace"]:
                traces[k], responses[k] = None, got["trace"]
            else:  # a model that does not reason apart: its answer is the trace (last line: response)
                traces[k], responses[k] = got["trace"], None
            if got["truncated"]:  # stopped at its token limit
                forced[k] = "reasoning:truncated_trace"
    texts, spans, reasons = [], [], []
    for k in range(batch.num_rows):
        segments: list[tuple[str, bool]] | None = None
        reason = forced[k]
        if not (errors[k] or forced[k]):
            segments, reason = judge_segments(questions[k], refs[k], traces[k], responses[k], params)
        texts.append("".join(p for p, _ in segments) if segments is not None else None)
        spans.append(glm_format.content_spans(segments) if segments is not None else None)
        reasons.append(reason)
    key = [xxhash.xxh3_64_hexdigest(_norm_question(q).encode()) if q else None for q in questions]
    return with_columns(
        batch,
        {
            "text": pa.array(texts, pa.large_string()),
            "content_spans": pa.array(spans, pa.list_(pa.int32())),
            "source": pa.array([params.source] * batch.num_rows, pa.string()),
            "generated": pa.array(generated, pa.bool_()),
            "generation_error": pa.array(errors, pa.string()),
            "question_key": pa.array(key, pa.string()),
        },
        reasons,
    )


def run(ctx: StageContext, params: Params) -> StageOutput:
    import functools

    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from corpus.engine.arrow_map import map_documents

    secret = None
    if params.generate is not None:
        from corpus.engine.service import probe, read_secret

        what = f"stage {ctx.name!r}"
        secret = read_secret(params.generate.api_key_env, what)
        probe(params.generate.base_url, secret, min(params.generate.timeout_s, 10.0), what)
    fn = functools.partial(reasoning_batch, cache_dir=ctx.cache_dir, secret=secret)
    columns = [
        ("text", "string"),
        ("content_spans", "array<int>"),
        ("source", "string"),
        ("generated", "boolean"),
        ("generation_error", "string"),
        ("question_key", "string"),
    ]
    rows = map_documents(ctx.input, fn, params, columns)
    # the same question twice: the smallest id among the rows still kept stays
    first = F.min(F.when(F.col(REASON).isNull(), F.col("id"))).over(Window.partitionBy("question_key"))
    dup = F.col(REASON).isNull() & F.col("question_key").isNotNull() & (F.col("id") != first)
    rows = rows.withColumn(
        REASON, F.when(dup, F.lit("reasoning:duplicate_question")).otherwise(F.col(REASON))
    )
    return StageOutput(rows=rows, retry_column="generation_error")
