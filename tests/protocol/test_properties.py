"""Property tests: parse_output and check_output never raise, whatever they are given.

Each property checks the Verdict contract: ``kind`` is one of the four, the
verdict is invalid iff it has errors, every error carries an ErrorCode, the
parser's catch-all fallback is never reached, the verdict is JSON-ready, and a
valid output re-rendered canonically parses to the same calls.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
from statewise_protocol import (
    KIND_ACTION,
    KIND_FETCH,
    KIND_INVALID,
    KIND_TEXT,
    ErrorCode,
    ProtocolError,
    Verdict,
    check_output,
    load_ontology,
    parse_output,
    render_answer,
    render_call,
)

DEMO_DIR = Path(__file__).resolve().parents[2] / "examples" / "demo_home"
ONTOLOGY = load_ontology(DEMO_DIR / "ontology.json")
STATE = {"light.bed_light": {"state": "off"}, "media_player.lounge_room": {"state": "off"}}
KINDS = {KIND_FETCH, KIND_ACTION, KIND_TEXT, KIND_INVALID}
VALID_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_entity_state", {"entity_ids": ["light.bed_light", "media_player.lounge_room"]}),
    ("light_power", {"entity_id": "light.bed_light", "state": "on"}),
    ("light_brightness", {"entity_id": "light.ceiling_lights", "brightness": 80}),
    ("light_color_temp", {"entity_id": "light.bed_light", "kelvin": 3000}),
    ("climate_temperature", {"entity_id": "climate.hvac", "temperature": 21.5}),
    ("tv_power", {"entity_id": "media_player.lounge_room", "state": "on"}),
    ("tv_input", {"entity_id": "media_player.lounge_room", "input": "plex"}),
    ("plex_play", {"title": "Terminator"}),
    ("cover_position", {"entity_id": "cover.kitchen_window", "position": 40}),
    ("media_volume", {"entity_id": "media_player.kitchen", "volume": 30}),
]
VALID_LINES = [render_call(n, a) for n, a in VALID_CALLS]
HUGE_NUMBERS = ["1e999", "-1e999", "1e-400", "-0", "9" * 5000, "1" + "0" * 400, "123456789012345678901234567890", "1.5e308", "0.1e1"]
BAD_CONSTANTS = ["NaN", "Infinity", "-Infinity", "nan", "inf", "undefined", "None", "True"]
SETTINGS = {"derandomize": True, "database": None, "deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


def assert_contract(verdict: Any) -> None:
    """The Verdict contract every output must satisfy."""
    assert isinstance(verdict, Verdict)
    assert verdict.kind in KINDS
    assert (verdict.kind == KIND_INVALID) == bool(verdict.errors)
    assert verdict.ok == (not verdict.errors)
    for err in verdict.errors:
        assert isinstance(err, ProtocolError) and isinstance(err.code, ErrorCode)
        assert not err.message.startswith("unparseable output"), err.message  # the catch-all stays unreachable
        assert err.line >= 0
    json.dumps(verdict.as_dict(), allow_nan=False)
    if verdict.kind == KIND_TEXT:
        assert verdict.text and not verdict.calls
    if verdict.kind in (KIND_FETCH, KIND_ACTION):
        assert verdict.calls
        again = parse_output(render_answer(verdict.calls))
        assert (again.kind, again.calls) == (verdict.kind, verdict.calls)


def check_everything(output: Any) -> None:
    """parse_output and check_output (with and without STATE) on one input."""
    parsed = parse_output(output)
    assert_contract(parsed)
    for state in (None, STATE):
        checked = check_output(output, ONTOLOGY, state)
        assert_contract(checked)
        if parsed.kind == KIND_INVALID:
            assert checked.errors == parsed.errors


# --- random text and bytes -------------------------------------------------------------

JSONISH = st.sampled_from([*'{}[]":,\n\\ ', "tool_call", "<think>", "</think>", "\r\n", "\u2028", "\x00"])
PIECE = st.one_of(st.characters(), st.characters(categories=["Cs"]), JSONISH)


def pieces(min_size: int = 0, max_size: int = 300) -> st.SearchStrategy[str]:
    """Text built from characters (lone surrogates included) and JSON-ish fragments."""
    return st.lists(PIECE, min_size=min_size, max_size=max_size).map("".join)


@settings(max_examples=1500, **SETTINGS)
@given(pieces())
def test_random_text(text: str) -> None:
    check_everything(text)


@settings(max_examples=1000, **SETTINGS)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8"))))
def test_random_bytes(data: bytes) -> None:
    check_everything(data)
    check_everything(bytearray(data))


@settings(max_examples=300, **SETTINGS)
@given(st.one_of(st.none(), st.integers(), st.floats(), st.lists(st.text(max_size=5)), st.dictionaries(st.text(max_size=3), st.integers())))
def test_non_text(value: Any) -> None:
    verdict = parse_output(value)
    assert_contract(verdict)
    assert verdict.error_codes() == ["not_text"]
    assert_contract(check_output(value, ONTOLOGY))


# --- near-miss JSON built by mutating valid lines ---------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if len(prefix) >= 6:
        return out
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            out += _paths(value, (*prefix, i))
    return out


def _get(obj: Any, path: tuple) -> Any:
    for part in path:
        obj = obj[part]
    return obj


@st.composite
def object_mutation(draw: st.DrawFn) -> str:
    """Swap/drop/rename keys, extra keys, wrong types, deep nesting, non-finite numbers."""
    name, args = draw(st.sampled_from(VALID_CALLS))
    obj: Any = {"tool_call": {"name": name, "arguments": copy.deepcopy(args)}}
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(obj)))
        op = draw(st.sampled_from(["replace", "drop", "rename", "extra", "swap", "nest", "number"]))
        if not path:
            obj = draw(JSON_VALUES) if op == "replace" else [obj] if op == "nest" else obj
            continue
        parent, key = _get(obj, path[:-1]), path[-1]
        if op == "replace":
            parent[key] = draw(JSON_VALUES)
        elif op == "drop":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["tool_call", "name", "arguments", "entity_id", "toolcall", "Name", ""]))] = parent.pop(key)
        elif op == "extra" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(JSON_VALUES)
        elif op == "swap" and isinstance(parent, dict) and len(parent) > 1:
            keys = list(parent)
            values = [parent[k] for k in keys]
            parent.clear()
            parent.update(zip(keys, values[1:] + values[:1], strict=True))
        elif op == "nest":
            depth = draw(st.integers(1, 3000))
            value = parent[key]
            for _ in range(depth):
                value = [value] if draw(st.booleans()) else {"a": value}
            parent[key] = value
        elif op == "number":
            parent[key] = draw(st.sampled_from([float("nan"), float("inf"), -float("inf"), 10**400, -(10**30), 1e308, 5e-324, True]))
    try:
        return json.dumps(obj, separators=(",", ":"))
    except (RecursionError, ValueError):
        return json.dumps({"tool_call": {"name": name, "arguments": args}})[:-1]


@st.composite
def text_mutation(draw: st.DrawFn) -> str:
    """Dropped braces/characters, duplicated keys, huge numbers and bad constants spliced into a line."""
    line = draw(st.sampled_from(VALID_LINES))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["drop_char", "drop_brace", "insert", "dup_key", "dup_slice", "number", "constant", "truncate", "unquote"]))
        i = draw(st.integers(0, len(line)))
        if op == "drop_char" and line:
            i = min(i, len(line) - 1)
            line = line[:i] + line[i + 1 :]
        elif op == "drop_brace":
            braces = [k for k, ch in enumerate(line) if ch in "{}[]"]
            if braces:
                k = draw(st.sampled_from(braces))
                line = line[:k] + line[k + 1 :]
        elif op == "insert":
            line = line[:i] + draw(pieces(1, 4)) + line[i:]
        elif op == "dup_key":
            key = draw(st.sampled_from(['"tool_call":{"name":"x"},', '"name":"light_power",', '"arguments":{},', '"state":"on",', '"entity_id":"light.x",']))
            at = [k + 1 for k, ch in enumerate(line) if ch == "{"]
            if at:
                k = draw(st.sampled_from(at))
                line = line[:k] + key + line[k:]
        elif op == "dup_slice":
            j = draw(st.integers(i, len(line)))
            line = line[:j] + line[i:j] + line[j:]
        elif op in ("number", "constant"):
            token = draw(st.sampled_from(HUGE_NUMBERS if op == "number" else BAD_CONSTANTS))
            colons = [k + 1 for k, ch in enumerate(line) if ch == ":"]
            if colons:
                k = draw(st.sampled_from(colons))
                end = min((line.find(ch, k) for ch in ",}" if line.find(ch, k) != -1), default=len(line))
                line = line[:k] + token + line[end:]
        elif op == "truncate":
            line = line[:i]
        elif op == "unquote":
            line = line.replace('"', "", draw(st.integers(1, 3)))
    return line


NEAR_MISS = st.one_of(object_mutation(), text_mutation())


@settings(max_examples=2500, **SETTINGS)
@given(NEAR_MISS)
def test_near_miss_line(line: str) -> None:
    check_everything(line)


@settings(max_examples=600, **SETTINGS)
@given(st.lists(st.one_of(NEAR_MISS, st.sampled_from(VALID_LINES), st.text(max_size=30)), min_size=1, max_size=6), st.sampled_from(["\n", "\r\n", "\n\n", " "]))
def test_near_miss_outputs(lines: list[str], sep: str) -> None:
    check_everything(sep.join(lines))


@settings(max_examples=300, **SETTINGS)
@given(st.lists(st.sampled_from(VALID_LINES), min_size=1, max_size=20))
def test_valid_lines_combined(lines: list[str]) -> None:
    output = "\n".join(lines)
    check_everything(output)
    verdict = parse_output(output)
    fetches = sum(line.startswith('{"tool_call":{"name":"get_entity_state"') for line in lines)
    if len(lines) <= 16 and len(set(lines)) == len(lines) and fetches == 0:
        assert verdict.kind == KIND_ACTION and len(verdict.calls) == len(lines)


def test_deep_nesting_within_length_limit() -> None:
    for opener, closer in (("[", "]"), ('{"a":', "}")):
        for depth in (500, 2000, 9000):
            nested = opener * depth + "1" + closer * depth
            output = '{"tool_call":{"name":"light_power","arguments":' + nested + "}}"
            if len(output) > 20_000:
                output = opener * 19_000
            check_everything(output)
            assert parse_output(output).kind == KIND_INVALID
