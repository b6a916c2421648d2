"""GLM-4.5's chat format for agent trajectories: render OpenAI-style messages to text, parse
the text back, and validate calls against the declared tools.

The layout follows GLM-4.5's published chat template (``chat_template.jinja`` of the GLM-4.5
checkpoints; the report's "function call template" figure shows the same shape):

* the text starts with ``[gMASK]<sop>``; declared tools go into a first ``<|system|>`` turn as
  one JSON object a line inside ``<tools></tools>``, followed by the call-format instruction;
* ``<|system|>\\n{content}``, ``<|user|>\\n{content}``;
* ``<|assistant|>`` then ``\\n<think>{reasoning}</think>`` (``\\n<think></think>`` when empty, and
  for assistant turns before the last user turn unless ``history_reasoning="keep"``, as the
  template does), then ``\\n{content}`` when there is content, then each call as
  ``\\n<tool_call>{name}`` + ``\\n<arg_key>{k}</arg_key>\\n<arg_value>{v}</arg_value>`` per argument
  + ``\\n</tool_call>``. String values are written raw — no JSON escaping, the point of the
  format; other values as JSON (``ensure_ascii=False``). Parsing types values by the tools'
  schemas (raw for ``string`` parameters, JSON otherwise), as GLM-4.5's tool parsers do; so a
  string for an untyped parameter that would read back as JSON is written as a JSON string;
* consecutive ``tool`` messages share one ``<|observation|>`` turn, each as
  ``\\n<tool_response>\\n{content}\\n</tool_response>``.

Unlike the template, content is not stripped, so :func:`parse` gives back exactly what was
rendered. :func:`render_segments` gives the same text as ``(piece, is_content)`` pieces, and
:func:`content_spans` their character spans: the tokenize stage encodes content as plain text
and only the template's pieces with control ids, so a user message, tool output, reasoning,
argument value or tool declaration quoting ``<|user|>`` or ``</think>`` is kept and stays text
(GLM-4.5's template is applied to messages, never to text holding its own tokens). Such text
cannot be parsed back unambiguously from the string alone (the spans tell content from
template). A tool or argument *name* holding one of the markers is an :class:`InvalidTrajectory`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from corpus.tokens.tokenizer import SPECIAL_TOKENS

PREFIX = "[gMASK]<sop>"
TOOLS_HEADER = (
    "<|system|>\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
TOOLS_FOOTER = (
    "</tools>\n\nFor each function call, output the function name and arguments within the following "
    "XML format:\n<tool_call>{function-name}\n<arg_key>{arg-key-1}</arg_key>\n<arg_value>{arg-value-1}"
    "</arg_value>\n<arg_key>{arg-key-2}</arg_key>\n<arg_value>{arg-value-2}</arg_value>\n...\n</tool_call>"
)
ROLE_TOKENS = {
    "system": "<|system|>",
    "user": "<|user|>",
    "assistant": "<|assistant|>",
    "tool": "<|observation|>",
}
_MARKERS = tuple(t for t in SPECIAL_TOKENS if t.startswith(("<", "[", "/")))


class InvalidTrajectory(ValueError):
    """A trajectory that cannot be rendered or does not fit its tools; ``reason`` is the short
    removal reason (``agent:<rule>``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Options:
    history_reasoning: Literal["drop", "keep"] = "drop"
    """``drop``: reasoning of assistant turns before the last user turn is rendered empty (the
    template's rule); ``keep``: every turn keeps its reasoning."""


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    """The function object of an OpenAI tool (``{"type": "function", "function": {...}}``) or
    a bare function declaration (BFCL's shape)."""
    return tool.get("function", tool) if isinstance(tool, dict) else {}


def _check_text(text: str, where: str) -> None:
    for marker in _MARKERS:
        if marker in text:
            raise InvalidTrajectory("agent:reserved_marker", f"{where} contains {marker!r}")


def _is_string(declared: Any) -> bool:
    return isinstance(declared, str) and declared.lower() == "string"  # BFCL's Java sets say "String"


def _value_text(value: Any, declared: Any) -> str:
    """A value as written between ``<arg_value>`` tags: a string raw (the format's point), other
    values as JSON. A string for a parameter not declared ``string`` whose raw text would read
    back as another JSON value (``"10"``, ``"null"``) is written as a JSON string instead."""
    if not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if _is_string(declared):
        return value
    try:
        json.loads(value)
    except json.JSONDecodeError:
        return value
    return json.dumps(value, ensure_ascii=False)


def _arguments(call: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    fn = call.get("function", call)
    name, args = fn.get("name"), fn.get("arguments", {})
    if isinstance(args, str):  # OpenAI sends arguments as a JSON string
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as e:
            raise InvalidTrajectory("agent:bad_arguments_json", f"call {name!r}: {e}") from None
    if not isinstance(name, str) or not name or not isinstance(args, dict):
        raise InvalidTrajectory("agent:malformed_call", f"call {call!r:.80}")
    return name, args


def _split_reasoning(m: dict[str, Any], content: str) -> tuple[str, str]:
    """``(content, reasoning)`` of an assistant message: ``reasoning_content``, else a
    ``<think>…</think>`` block inline at the start of the content (as the template reads it)."""
    reasoning = m.get("reasoning_content") or ""
    if not reasoning and "</think>" in content:
        head, content = content.split("</think>", 1)
        reasoning, content = head.split("<think>")[-1].strip("\n"), content.lstrip("\n")
    return content, reasoning


def render_segments(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, options: Options = Options()
) -> list[tuple[str, bool]]:
    """The trajectory as GLM-4.5 text in ``(piece, is_content)`` pieces: ``is_content`` for
    text the messages or tools supplied (encoded as plain text), False for the template's own
    text (its special tokens become control ids). Raises :class:`InvalidTrajectory` (with
    ``reason``) for a role it does not know, a malformed call, or a marker in a tool or
    argument name."""
    out: list[tuple[str, bool]] = [(PREFIX, False)]
    if tools:
        out.append((TOOLS_HEADER, False))
        for tool in tools:
            out += [(json.dumps(_function(tool), ensure_ascii=False), True), ("\n", False)]
        out.append((TOOLS_FOOTER, False))
    schemas = _schemas(tools)
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    for i, m in enumerate(messages):
        role, content = m.get("role"), m.get("content") or ""
        if role not in ROLE_TOKENS:
            raise InvalidTrajectory("agent:unknown_role", f"message {i} has role {role!r}")
        if not isinstance(content, str):
            raise InvalidTrajectory("agent:non_text_content", f"message {i}")
        if role == "assistant":
            content, reasoning = _split_reasoning(m, content)
        if role in ("system", "user"):
            out += [(f"{ROLE_TOKENS[role]}\n", False), (content, True)]
        elif role == "tool":
            if i == 0 or messages[i - 1].get("role") != "tool":
                out.append((ROLE_TOKENS["tool"], False))
            out += [("\n<tool_response>\n", False), (content, True), ("\n</tool_response>", False)]
        else:
            if options.history_reasoning == "drop" and i < last_user:
                reasoning = ""
            out += [("<|assistant|>\n<think>", False), (reasoning, True), ("</think>", False)]
            if content:
                out += [("\n", False), (content, True)]
            for call in m.get("tool_calls") or []:
                name, args = _arguments(call)
                _check_text(name, f"message {i} call name")
                out.append((f"\n<tool_call>{name}", False))
                for k, v in args.items():
                    _check_text(str(k), f"message {i} argument name")
                    text = _value_text(v, _param_type(schemas, name, k))
                    out += [
                        (f"\n<arg_key>{k}</arg_key>\n<arg_value>", False),
                        (text, True),
                        ("</arg_value>", False),
                    ]
                out.append(("\n</tool_call>", False))
    return [(piece, is_content) for piece, is_content in out if piece]


def render(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, options: Options = Options()
) -> str:
    """The trajectory as GLM-4.5 text (:func:`render_segments` joined)."""
    return "".join(piece for piece, _ in render_segments(messages, tools, options))


def content_spans(segments: list[tuple[str, bool]]) -> list[int]:
    """Flat ``[start, end, start, end, ...]`` character offsets of the content pieces in the
    joined text (adjacent content pieces merged) — the column the tokenize stage reads."""
    spans: list[int] = []
    pos = 0
    for piece, is_content in segments:
        if is_content:
            if spans and spans[-1] == pos:
                spans[-1] = pos + len(piece)
            else:
                spans += [pos, pos + len(piece)]
        pos += len(piece)
    return spans


_TURN = re.compile(r"(<\|system\|>|<\|user\|>|<\|assistant\|>|<\|observation\|>)")
_CALL = re.compile(
    r"\n<tool_call>(.*?)((?:\n<arg_key>.*?</arg_key>\n<arg_value>.*?</arg_value>)*)\n</tool_call>", re.S
)
_ARG = re.compile(r"\n<arg_key>(.*?)</arg_key>\n<arg_value>(.*?)</arg_value>", re.S)
_RESPONSE = re.compile(r"\n<tool_response>\n(.*?)\n</tool_response>", re.S)


def _schemas(tools: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    return {_function(t).get("name"): _function(t) for t in tools or []}


def _param_type(schemas: dict[str, dict[str, Any]], name: str, key: str) -> Any:
    props = (schemas.get(name, {}).get("parameters") or {}).get("properties") or {}
    return (props.get(key) or {}).get("type")


def _value(text: str, declared: Any) -> Any:
    """A rendered value back: raw for string parameters, JSON for the others (raw when it is
    not JSON, which is what the renderer wrote for a string)."""
    if _is_string(declared):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse(text: str, tools: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Messages back from :func:`render`'s text (the tools' system turn is not a message).
    Argument values are typed by the tools' parameter schemas. Raises ValueError on text that
    is not in the format."""
    if not text.startswith(PREFIX):
        raise ValueError("not GLM-4.5 chat text: no [gMASK]<sop> prefix")
    parts = _TURN.split(text[len(PREFIX) :])
    if parts[0]:
        raise ValueError(f"text before the first turn: {parts[0][:40]!r}")
    schemas = _schemas(tools)
    messages: list[dict[str, Any]] = []
    first_system_is_tools = bool(tools)
    for token, body in zip(parts[1::2], parts[2::2], strict=True):
        if (
            token == "<|system|>"
            and first_system_is_tools
            and body.startswith(TOOLS_HEADER[len("<|system|>") :])
        ):
            first_system_is_tools = False
            continue
        if token in ("<|system|>", "<|user|>"):
            messages.append({"role": "system" if token == "<|system|>" else "user", "content": body[1:]})
        elif token == "<|observation|>":
            messages.extend({"role": "tool", "content": c} for c in _RESPONSE.findall(body))
        else:
            m = re.match(r"\n<think>(.*?)</think>", body, re.S)
            if m is None:
                raise ValueError("assistant turn without <think></think>")
            rest = body[m.end() :]
            first_call = rest.find("\n<tool_call>")
            content = rest if first_call < 0 else rest[:first_call]
            msg: dict[str, Any] = {"role": "assistant", "content": content[1:] if content else ""}
            if m.group(1):
                msg["reasoning_content"] = m.group(1)
            calls = []
            for name, args in _CALL.findall(rest[len(content) :]):
                parsed = {k: _value(v, _param_type(schemas, name, k)) for k, v in _ARG.findall(args)}
                calls.append({"type": "function", "function": {"name": name, "arguments": parsed}})
            if calls:
                msg["tool_calls"] = calls
            messages.append(msg)
    return messages


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "float": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "tuple": (list,),
    "object": (dict,),
    "dict": (dict,),
}


def _well_typed(value: Any, declared: Any) -> bool:
    """JSON-schema type check (BFCL's ``dict``/``float``/``tuple`` spellings too; ``any``, a
    list of types and types it does not know pass); ``bool`` is not an integer here, as in
    JSON Schema."""
    if not isinstance(declared, str):
        return True
    kinds = _JSON_TYPES.get(declared.lower())
    if kinds is None:
        return True
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def validate(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> None:
    """Every call names a declared tool, gives its required arguments with well-typed values,
    and is answered by a ``tool`` message before the next assistant or user turn. Raises
    :class:`InvalidTrajectory` with the first rule broken."""
    schemas = _schemas(tools)
    pending = 0
    for i, m in enumerate(messages):
        role = m.get("role")
        if role == "tool":
            if pending == 0:
                raise InvalidTrajectory("agent:unexpected_tool_response", f"message {i} answers no call")
            pending -= 1
            continue
        if pending:
            raise InvalidTrajectory("agent:call_without_response", f"{pending} call(s) before message {i}")
        for call in m.get("tool_calls") or [] if role == "assistant" else []:
            name, args = _arguments(call)
            if name not in schemas:
                raise InvalidTrajectory("agent:undeclared_tool", f"message {i} calls {name!r}")
            params = schemas[name].get("parameters") or {}
            missing = [k for k in params.get("required") or [] if k not in args]
            if missing:
                raise InvalidTrajectory("agent:missing_argument", f"{name}: {missing}")
            props = params.get("properties") or {}
            for k, v in args.items():
                if k not in props and params.get("additionalProperties") is False:
                    raise InvalidTrajectory("agent:unknown_argument", f"{name}.{k}")
                if not _well_typed(v, (props.get(k) or {}).get("type")):
                    raise InvalidTrajectory("agent:ill_typed_argument", f"{name}.{k} = {v!r:.40}")
            pending += 1
    if pending:
        raise InvalidTrajectory("agent:call_without_response", f"{pending} call(s) at the end")
