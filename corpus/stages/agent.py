"""``agent``: agent trajectories rendered as training text in GLM-4.5's chat format.

Input rows carry ``messages`` (a JSON list of OpenAI chat messages: ``system`` / ``user`` /
``assistant`` with optional ``reasoning_content`` and ``tool_calls`` / ``tool``) and
optionally ``tools`` (a JSON list of tool declarations, OpenAI's ``{"type": "function",
"function": {...}}`` or bare function objects) — e.g. from the ``dataset`` source stage over
JSONL files. Output: ``text`` (the rendered trajectory, :mod:`corpus.agent.glm_format`),
``content_spans`` (character spans of the text the messages and tools supplied: the tokenize
stage encodes them as plain text, so only the template's special tokens become control ids),
``source`` (``params.source``), ``n_messages`` and ``n_calls``.

Removal reasons: ``agent:bad_json`` (``messages``/``tools`` are not JSON lists),
``agent:empty`` (no messages), and the validation rules of
:func:`corpus.agent.glm_format.validate` (``agent:undeclared_tool``,
``agent:missing_argument``, ``agent:ill_typed_argument``, ``agent:call_without_response``,
``agent:unexpected_tool_response`` ...), and ``agent:reserved_marker`` (a tool or argument
name holding one of the format's markers; content quoting them is kept as content).
"""

from __future__ import annotations

import json
from typing import Literal

import pyarrow as pa

from corpus.agent import glm_format
from corpus.engine.arrow_map import document_stage, with_columns
from corpus.stages.base import StageContext, StageOutput, StageParams


class Params(StageParams):
    source: str = "agent"
    messages_column: str = "messages"
    tools_column: str = "tools"
    history_reasoning: Literal["drop", "keep"] = "drop"
    """``drop``: reasoning of turns before the last user turn is rendered empty, as GLM-4.5's
    chat template does; ``keep`` trains on every turn's reasoning."""
    validate_calls: bool = True
    """Remove trajectories whose calls do not fit the declared tools (off: render only)."""


def _json_list(value: str | None) -> list | None:
    if value is None:
        return []
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, list) else None


def render_row(
    messages_json: str | None, tools_json: str | None, params: Params
) -> tuple[str | None, list[int] | None, int, int, str | None]:
    """``(text, content_spans, n_messages, n_calls, reason)`` of one row; ``reason`` None when
    kept (spans: :func:`corpus.agent.glm_format.content_spans`)."""
    messages, tools = _json_list(messages_json), _json_list(tools_json)
    if messages is None or tools is None or not all(isinstance(m, dict) for m in messages):
        return None, None, 0, 0, "agent:bad_json"
    if not messages:
        return None, None, 0, 0, "agent:empty"
    calls = sum(len(m.get("tool_calls") or []) for m in messages)
    try:
        if params.validate_calls:
            glm_format.validate(messages, tools)
        segments = glm_format.render_segments(messages, tools, glm_format.Options(params.history_reasoning))
    except glm_format.InvalidTrajectory as e:
        return None, None, len(messages), calls, e.reason
    text = "".join(piece for piece, _ in segments)
    return text, glm_format.content_spans(segments), len(messages), calls, None


def agent_batch(batch: pa.RecordBatch, params: Params) -> pa.RecordBatch:
    """Render every row's trajectory; removed rows keep their input columns and get a reason."""
    names = batch.schema.names
    messages = batch.column(params.messages_column).to_pylist()
    tools = (
        batch.column(params.tools_column).to_pylist()
        if params.tools_column in names
        else [None] * len(messages)
    )
    rows = [render_row(m, t, params) for m, t in zip(messages, tools, strict=True)]
    return with_columns(
        batch,
        {
            "text": pa.array([r[0] for r in rows], pa.large_string()),
            "content_spans": pa.array([r[1] for r in rows], pa.list_(pa.int32())),
            "source": pa.array([params.source] * len(rows), pa.string()),
            "n_messages": pa.array([r[2] for r in rows], pa.int32()),
            "n_calls": pa.array([r[3] for r in rows], pa.int32()),
        },
        [r[4] for r in rows],
    )


def run(ctx: StageContext, params: Params) -> StageOutput:
    columns = [
        ("text", "string"),
        ("content_spans", "array<int>"),
        ("source", "string"),
        ("n_messages", "int"),
        ("n_calls", "int"),
    ]
    return document_stage(ctx, agent_batch, params, columns)
