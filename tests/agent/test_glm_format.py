"""GLM-4.5 chat format for agent trajectories: the report's weather example against a fixture
written by hand, exact round trips for awkward argument values, validation rules, and every
example of BFCL's function-calling test data (``bfcl-eval`` ships it) rendered and parsed back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.agent import glm_format as g

DATA = Path(__file__).resolve().parents[1] / "data" / "agent"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather of a city for a specific date.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city to get weather for, in Chinese."},
                "date": {"type": "string", "description": "The date in YYYY-MM-DD format."},
            },
            "required": ["city"],
        },
    },
}


def _call(fn: str, /, **args) -> dict:
    return {"type": "function", "function": {"name": fn, "arguments": args}}


WEATHER = [
    {"role": "system", "content": "You are a helpful assistant."},
    {
        "role": "user",
        "content": "Today is June 26, 2024. Could you please check the weather in Beijing and Shanghai for tomorrow",
    },
    {
        "role": "assistant",
        "reasoning_content": "The user wants to check the weather of Beijing and Shanghai tomorrow. "
        "I need to call get_weather for Beijing and Shanghai respectively.",
        "content": "I will call the get_weather function to check the weather in Beijing and Shanghai.",
        "tool_calls": [
            _call("get_weather", city="北京", date="2024-06-27"),
            _call("get_weather", city="上海", date="2024-06-27"),
        ],
    },
    {
        "role": "tool",
        "content": '{"city": "北京", "date": "2024-06-27", "weather": "Sunny", "temperature": "26C"}',
    },
    {
        "role": "tool",
        "content": '{"city": "上海", "date": "2024-06-27", "weather": "Overcast", "temperature": "29C"}',
    },
    {
        "role": "assistant",
        "reasoning_content": "I have obtained the weather query results of get_weather for Beijing and "
        "Shanghai respectively and can reply to users directly.",
        "content": "It will be sunny in Beijing tomorrow with a temperature of 26 degrees Celsius. "
        "The weather in Shanghai is overcast with a temperature of 29 degrees Celsius.",
    },
]


def test_weather_example_equals_the_hand_written_fixture():
    text = g.render(WEATHER, [WEATHER_TOOL])
    assert text == (DATA / "weather_glm45.txt").read_text(encoding="utf-8")
    g.validate(WEATHER, [WEATHER_TOOL])
    assert g.parse(text, [WEATHER_TOOL]) == WEATHER


CODE_TOOL = {
    "name": "write_file",
    "parameters": {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "content": {"type": "string"},
            "mode": {"type": "integer"},
            "meta": {"type": "object"},
            "tags": {"type": "array"},
            "dry_run": {"type": "boolean"},
            "ratio": {"type": "number"},
        },
        "required": ["path", "content"],
    },
}

AWKWARD = [
    'def f(x):\n    return "a\\"b" + \'c\'\n',  # quotes, backslashes, newlines, trailing newline
    "\n\nleading and trailing blank lines\n\n",
    "if a < b and b > c: print('<>')",
    "ünïcödé 中文 日本語 العربية 🚀",
    '{"nested": {"json": [1, 2, {"k": "v"}]}}',  # JSON text as a string value stays a string
    "123",  # a numeric-looking string stays a string for a string parameter
    "",
    "\t\ttabs\tinside\r\nand CRLF",
]


@pytest.mark.parametrize("content", AWKWARD, ids=range(len(AWKWARD)))
def test_round_trip_is_exact_for_awkward_values(content):
    messages = [
        {"role": "user", "content": "write it"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                _call(
                    "write_file",
                    path="src/ä b.py",
                    content=content,
                    mode=420,
                    meta={"owner": "x<y>", "ids": [1, 2.5, None, True]},
                    tags=["a", "b\nc"],
                    dry_run=False,
                    ratio=0.25,
                )
            ],
        },
        {"role": "tool", "content": "ok"},
        {"role": "assistant", "reasoning_content": "done\nreally", "content": "Written."},
    ]
    text = g.render(messages, [CODE_TOOL])
    assert f"<arg_value>{content}</arg_value>" in text, "string values are written raw, not JSON-escaped"
    g.validate(messages, [CODE_TOOL])
    assert g.parse(text, [CODE_TOOL]) == messages


def test_openai_string_arguments_and_inline_reasoning_are_read():
    messages = [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": "<think>let me look</think>\nChecking.",
            "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": '{"city": "巴黎"}'}}
            ],
        },
        {"role": "tool", "content": "sunny"},
    ]
    back = g.parse(g.render(messages, [WEATHER_TOOL]), [WEATHER_TOOL])
    assert back[1] == {
        "role": "assistant",
        "reasoning_content": "let me look",
        "content": "Checking.",
        "tool_calls": [_call("get_weather", city="巴黎")],
    }


def test_history_reasoning_is_dropped_before_the_last_user_turn_unless_kept():
    messages = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "reasoning_content": "old thought", "content": "1"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "reasoning_content": "new thought", "content": "2"},
    ]
    dropped = g.render(messages)
    assert "old thought" not in dropped and "<think></think>\n1" in dropped and "new thought" in dropped
    kept = g.render(messages, options=g.Options(history_reasoning="keep"))
    assert g.parse(kept) == messages


@pytest.mark.parametrize(
    "messages, reason",
    [
        (
            [{"role": "assistant", "content": "", "tool_calls": [_call("nope", city="x")]}],
            "agent:undeclared_tool",
        ),
        (
            [{"role": "assistant", "content": "", "tool_calls": [_call("get_weather", date="d")]}],
            "agent:missing_argument",
        ),
        (
            [{"role": "assistant", "content": "", "tool_calls": [_call("get_weather", city=3)]}],
            "agent:ill_typed_argument",
        ),
        (
            [{"role": "assistant", "content": "", "tool_calls": [_call("get_weather", city="x")]}],
            "agent:call_without_response",
        ),
        (
            [{"role": "user", "content": "q"}, {"role": "tool", "content": "?"}],
            "agent:unexpected_tool_response",
        ),
        (
            [
                {"role": "assistant", "content": "", "tool_calls": [_call("get_weather", city="x")]},
                {"role": "user", "content": "too soon"},
            ],
            "agent:call_without_response",
        ),
    ],
    ids=["undeclared", "missing-arg", "ill-typed", "no-response-end", "stray-response", "no-response-mid"],
)
def test_validation_rules(messages, reason):
    with pytest.raises(g.InvalidTrajectory) as e:
        g.validate(messages, [WEATHER_TOOL])
    assert e.value.reason == reason


@pytest.mark.parametrize(
    ("messages", "quoted"),
    [
        ([{"role": "user", "content": "ignore <|system|> this"}], "ignore <|system|> this"),
        ([{"role": "tool", "content": "a </tool_response> inside"}], "a </tool_response> inside"),
        (
            [
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [_call("get_weather", city="x</arg_value>")],
                }
            ],
            "x</arg_value>",
        ),
    ],
    ids=["role-token", "response-marker", "value-marker"],
)
def test_text_quoting_the_formats_markers_is_content(messages, quoted):
    """A marker inside content is kept as content: the spans cover it, the template around it
    is outside every span (the tokenize stage encodes spans as plain text)."""
    segments = g.render_segments(messages, [WEATHER_TOOL])
    text = "".join(p for p, _ in segments)
    spans = g.content_spans(segments)
    at = text.index(quoted)
    inside = [
        (a, b) for a, b in zip(spans[::2], spans[1::2], strict=True) if a <= at and at + len(quoted) <= b
    ]
    assert len(inside) == 1
    template = "".join(text[a:b] for a, b in zip([0, *spans[1::2]], [*spans[::2], len(text)], strict=True))
    assert template.startswith(g.PREFIX + g.TOOLS_HEADER) and quoted not in template


def test_a_marker_in_a_call_name_is_rejected():
    call = {"role": "assistant", "content": "", "tool_calls": [_call("get<|user|>weather", city="x")]}
    with pytest.raises(g.InvalidTrajectory) as e:
        g.render([call], [WEATHER_TOOL])
    assert e.value.reason == "agent:reserved_marker"


def _bfcl_trajectories(data: Path):
    """Every BFCL example with a gold call: its question turns, an assistant turn making the
    gold calls (the first acceptable value of each argument; an argument whose first
    acceptable value is "" is BFCL's "may be omitted" and is left out), and one tool message
    per call (a placeholder observation: BFCL has no tool outputs)."""
    for answers in sorted((data / "possible_answer").glob("BFCL_v4_*.json")):
        questions = data / answers.name
        if not questions.exists():
            continue
        gold = {}
        for line in answers.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            gold[row["id"]] = row.get("ground_truth")
        for line in questions.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            truth = gold.get(row["id"])
            if not isinstance(truth, list) or not truth or not all(isinstance(c, dict) for c in truth):
                continue  # multi-turn and irrelevance sets have no single gold call list
            turns = row["question"][0] if row["question"] and isinstance(row["question"][0], list) else []
            calls = []
            for call in truth:
                ((name, args),) = call.items()
                args = {k: v[0] for k, v in args.items() if v and v[0] != ""}
                calls.append({"type": "function", "function": {"name": name, "arguments": args}})
            messages = [*turns, {"role": "assistant", "content": "", "tool_calls": calls}]
            messages += [{"role": "tool", "content": json.dumps({"result": i})} for i in range(len(calls))]
            yield answers.stem, row["id"], row["function"], messages


def test_every_bfcl_example_renders_and_round_trips():
    pytest.importorskip("bfcl_eval")
    import importlib.resources

    data = Path(str(importlib.resources.files("bfcl_eval") / "data"))
    per_set: dict[str, list[int]] = {}
    failures = []
    for name, ident, tools, messages in _bfcl_trajectories(data):
        counts = per_set.setdefault(name, [0, 0, 0])
        counts[0] += 1
        try:
            g.validate(messages, tools)
            valid = True
        except g.InvalidTrajectory as e:
            # BFCL's own gold values that do not fit its declared types (e.g. true for a
            # "string" parameter): the agent stage removes these; their values cannot come
            # back typed as given, since parsing types values by the schema.
            counts[2] += 1
            valid = False
            print(f"{ident}: {e}")
        back = g.parse(g.render(messages, tools), tools)
        counts[1] += back == messages
        if valid and back != messages:
            failures.append(ident)
    for name, (n, ok, invalid) in sorted(per_set.items()):
        print(f"{name}: {n} examples, {ok} round trips exact, {invalid} fail validation")
    total = sum(c[0] for c in per_set.values())
    assert total > 1000, f"expected BFCL's single-turn sets, found {total} examples"
    assert failures == [], failures[:10]


def test_agent_stage_renders_and_removes_with_reasons(spark, tmp_path):
    """The stage over a DataFrame of JSON columns, written by the runner's writer:
    valid trajectories become `text`, the others land in `_removed` with their rule."""
    import duckdb

    from corpus.engine.write import write_output
    from corpus.stages import agent
    from corpus.stages.base import StageContext

    tools = json.dumps([WEATHER_TOOL])
    bad_call = [
        {"role": "assistant", "content": "", "tool_calls": [_call("nope")]},
        {"role": "tool", "content": "x"},
    ]
    rows = [
        ("t1", json.dumps(WEATHER, ensure_ascii=False), tools),
        ("t2", json.dumps(bad_call), tools),
        ("t3", "{not json", tools),
        ("t4", "[]", None),
    ]
    df = spark.createDataFrame(rows, "id string, messages string, tools string")
    ctx = StageContext(
        spark=spark, name="agent", seed=0, inputs={"input": df}, base_dir=tmp_path, output_dir=str(tmp_path)
    )
    counts = write_output(agent.run(ctx, agent.Params()), str(tmp_path / "agent"), rows_hint=len(rows))
    assert counts["rows_kept"] == 1
    assert counts["removed_by_reason"] == {"agent:bad_json": 1, "agent:empty": 1, "agent:undeclared_tool": 1}
    ((text, source, calls),) = duckdb.sql(
        f"select text, source, n_calls from '{tmp_path}/agent/part-*.parquet'"
    ).fetchall()
    assert text == (DATA / "weather_glm45.txt").read_text(encoding="utf-8")
    assert (source, calls) == ("agent", 2)
