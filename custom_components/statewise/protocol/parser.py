"""Output parser: classify raw model text as fetch, action, text or invalid.

:func:`parse_output` never raises, whatever it is given. The rules:

- a line whose first non-blank character is ``{`` or ``[`` is a JSON line;
  an output with any JSON line must be JSON lines only (else
  ``mixed_text_and_json``), each exactly one ``{"tool_call":..}`` object
  (else ``multiple_calls_per_line`` / ``malformed_json`` / ``not_a_tool_call``),
  naming a v0 tool (``unknown_tool``) and valid against its schema
  (``schema_violation``);
- ``get_entity_state`` stands alone (``fetch_with_actions``, ``multiple_fetches``);
- otherwise the output is plain text, which must not resemble JSON (no braces
  or brackets, no ``tool_call``, no ``"key":`` member, not a whole JSON value
  such as ``null`` or ``"ok"``: ``json_like_text``) nor carry a ``<think>``
  block (``thinking_present``);
- ``duplicate_call`` compares calls canonically (key order, ``21`` = ``21.0``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .canonical import reject_constant
from .errors import ErrorCode, ProtocolError
from .tools import ToolCall, call_key, load_tools

MAX_OUTPUT_CHARS = 20_000
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_CALLS = 16
JSON_LIKE_CHARS = frozenset("{}[]")
JSON_MEMBER = re.compile(r'"[^"\n]{0,200}"\s*:')  # a quoted key and a colon: "entity_id": ...
# The output classes (the plan's three, plus ``invalid``); dataset rows use the same words.
KIND_FETCH, KIND_ACTION, KIND_TEXT, KIND_INVALID = "fetch", "action", "text", "invalid"
OUTPUT_CLASSES = (KIND_FETCH, KIND_ACTION, KIND_TEXT)


@dataclass
class Verdict:
    """What an output is, its calls or text, and every error found."""

    kind: str
    calls: list[ToolCall] = field(default_factory=list)
    text: str | None = None
    errors: list[ProtocolError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the output is valid (no errors)."""
        return not self.errors

    def error_codes(self) -> list[str]:
        """The error codes, in order."""
        return [str(e.code) for e in self.errors]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready verdict."""
        return {
            "class": self.kind,
            "valid": self.ok,
            "calls": [c.as_dict() for c in self.calls],
            "text": self.text,
            "errors": [e.as_dict() for e in self.errors],
        }


def _invalid(code: ErrorCode, message: str, line: int = 0) -> Verdict:
    return Verdict(KIND_INVALID, errors=[ProtocolError(code, message, line)])


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys, parse_constant=reject_constant)


def _is_json(text: str) -> bool:
    """True when the whole text is one JSON value (``null``, ``42``, ``"ok"``): not plain text."""
    try:
        _DECODER.decode(text)
    except (ValueError, RecursionError):
        return False
    return True


def _parse_line(raw: str, lineno: int) -> tuple[ToolCall | None, ProtocolError | None]:
    line = raw.strip()
    try:
        obj, end = _DECODER.raw_decode(line)
    except (ValueError, RecursionError) as err:
        return None, ProtocolError(ErrorCode.MALFORMED_JSON, f"not valid JSON: {str(err)[:120]}", lineno)
    if isinstance(obj, dict) and _SURROGATE.search(json.dumps(obj, ensure_ascii=False)):
        return None, ProtocolError(ErrorCode.NOT_TEXT, "a string holds a lone surrogate (\\ud800 escape)", lineno)
    rest = line[end:].strip()
    if rest:
        if rest[0] in "{[":
            return None, ProtocolError(ErrorCode.MULTIPLE_CALLS_PER_LINE, "more than one JSON value on one line", lineno)
        return None, ProtocolError(ErrorCode.MIXED_TEXT_AND_JSON, "text after the JSON on the same line", lineno)
    if not isinstance(obj, dict) or set(obj) != {"tool_call"} or not isinstance(obj["tool_call"], dict):
        return None, ProtocolError(ErrorCode.NOT_A_TOOL_CALL, 'a line must be one {"tool_call":{..}} object', lineno)
    name = obj["tool_call"].get("name")
    spec = load_tools().get(name) if isinstance(name, str) else None
    if spec is None:
        shown = name if isinstance(name, str) else type(name).__name__
        return None, ProtocolError(ErrorCode.UNKNOWN_TOOL, f"unknown tool {str(shown)[:60]!r}", lineno)
    try:
        errors = sorted(spec.validator.iter_errors(obj), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    except RecursionError:
        return None, ProtocolError(ErrorCode.SCHEMA_VIOLATION, "nesting too deep", lineno)
    except OverflowError:  # e.g. multipleOf on an integer too large for a float
        return None, ProtocolError(ErrorCode.SCHEMA_VIOLATION, f"{spec.name}: a number is out of range", lineno)
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.absolute_path) or "tool_call"
        return None, ProtocolError(ErrorCode.SCHEMA_VIOLATION, f"{spec.name}: {where}: {err.message[:160]}", lineno)
    return ToolCall(spec.name, obj["tool_call"]["arguments"]), None


def parse_output(output: Any) -> Verdict:
    """Classify raw model output. Never raises."""
    try:
        return _parse(output)
    except Exception as err:  # noqa: BLE001 - the contract is "never raises"; tests keep this unreachable
        return _invalid(ErrorCode.MALFORMED_JSON, f"unparseable output ({type(err).__name__})")


def _parse(output: Any) -> Verdict:
    if isinstance(output, bytes | bytearray):
        try:
            output = bytes(output).decode("utf-8")
        except UnicodeDecodeError:
            return _invalid(ErrorCode.NOT_TEXT, "output is not UTF-8 text")
    if not isinstance(output, str):
        return _invalid(ErrorCode.NOT_TEXT, f"output is {type(output).__name__}, not text")
    if _SURROGATE.search(output):  # not text: it cannot be encoded, spoken or logged
        return _invalid(ErrorCode.NOT_TEXT, "output holds a lone surrogate")
    if len(output) > MAX_OUTPUT_CHARS:
        return _invalid(ErrorCode.OUTPUT_TOO_LONG, f"output longer than {MAX_OUTPUT_CHARS} characters")
    text = output.strip()
    if not text:
        return _invalid(ErrorCode.EMPTY_OUTPUT, "empty output")
    if "<think>" in text or "</think>" in text:
        return _invalid(ErrorCode.THINKING_PRESENT, "output contains a <think> block")
    lines = [(i + 1, ln) for i, ln in enumerate(output.split("\n")) if ln.strip()]  # numbered as in the raw output
    json_lines = [ln.lstrip()[:1] in ("{", "[") for _, ln in lines]
    if not any(json_lines):
        if any(ch in JSON_LIKE_CHARS for ch in text) or "tool_call" in text or JSON_MEMBER.search(text) or _is_json(text):
            return _invalid(ErrorCode.JSON_LIKE_TEXT, "plain text must not resemble JSON")
        return Verdict(KIND_TEXT, text=text)
    if not all(json_lines):
        first = next(no for (no, _), is_json in zip(lines, json_lines, strict=True) if not is_json)
        return _invalid(ErrorCode.MIXED_TEXT_AND_JSON, "text and JSON tool calls mixed", first)
    if len(lines) > MAX_CALLS:
        return _invalid(ErrorCode.TOO_MANY_CALLS, f"more than {MAX_CALLS} calls")
    calls: list[ToolCall] = []
    errors: list[ProtocolError] = []
    for lineno, raw in lines:
        call, error = _parse_line(raw, lineno)
        if error is not None:
            errors.append(error)
        elif call is not None:
            calls.append(call)
    if errors:
        return Verdict(KIND_INVALID, calls=calls, errors=errors)
    fetches = [c for c in calls if load_tools()[c.name].is_fetch]
    if fetches and len(fetches) < len(calls):
        return Verdict(KIND_INVALID, calls=calls, errors=[ProtocolError(ErrorCode.FETCH_WITH_ACTIONS, "get_entity_state must stand alone")])
    if len(fetches) > 1:
        return Verdict(KIND_INVALID, calls=calls, errors=[ProtocolError(ErrorCode.MULTIPLE_FETCHES, "one get_entity_state per output")])
    lines_seen: set[str] = set()
    for (lineno, _), call in zip(lines, calls, strict=True):
        canon = call_key(call)
        if canon in lines_seen:
            return Verdict(KIND_INVALID, calls=calls, errors=[ProtocolError(ErrorCode.DUPLICATE_CALL, "the same call twice", lineno)])
        lines_seen.add(canon)
    return Verdict(KIND_FETCH if fetches else KIND_ACTION, calls=calls)
