"""The GBNF grammar of v0 output admits every canonical target and nothing the parser calls malformed.

The grammar has no recursion, so it is a regular language: the test expands it into a Python
regular expression (GBNF literals, classes, groups, ``*``/``?``/``{m,n}`` map one to one).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from statewise_protocol import load_tools, parse_output
from statewise_protocol.grammar import integer_range, v0_grammar

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]|[A-Za-z][A-Za-z0-9-]*|\{\d+,\d+\}|[()|*?+]|\s+')


def _to_regex(expr: str, rules: dict[str, str], depth: int = 0) -> str:
    out = []
    for token in _TOKEN.findall(expr):
        if token.isspace():
            continue
        if token.startswith('"'):
            out.append(re.escape(json.loads(token)))
        elif token.startswith("["):
            out.append(token)  # GBNF classes (with \\xNN escapes) are Python classes
        elif token[0].isalpha():
            out.append("(?:" + _to_regex(rules[token], rules, depth + 1) + ")")
        elif token == "(":
            out.append("(?:")
        else:
            out.append(token)
    return "".join(out)


def grammar_regex(grammar: str) -> re.Pattern[str]:
    rules = dict(line.split(" ::= ", 1) for line in grammar.strip().splitlines())
    return re.compile(_to_regex(rules["root"], rules), re.S)


def test_integer_ranges_are_exact() -> None:
    for low, high in ((0, 100), (1, 100), (1000, 12000), (-50, 100), (-50, 150), (7, 35)):
        pattern = re.compile(_to_regex(integer_range(low, high), {}))
        accepted = {n for n in range(-200, 13000) if pattern.fullmatch(str(n))}
        assert accepted == set(range(low, high + 1)), (low, high)
        assert not pattern.fullmatch("007") and not pattern.fullmatch("-0")


def test_every_canonical_target_of_a_build_is_admitted(tmp_path) -> None:
    from dataset_export.cli import main

    out = tmp_path / "out"
    assert main(["build", str(EXAMPLES / "ha_family_home"), "--out", str(out), "--size", "300", "--quiet"]) == 0
    pattern = grammar_regex(v0_grammar())
    answers = [json.loads(line)["messages"][2]["content"] for f in ("train.jsonl", "heldout.jsonl") for line in (out / f).read_text().splitlines()]
    followups = [json.loads(line)["followup"] for line in (out / "train.jsonl").read_text().splitlines()]
    for answer in answers + [f for f in followups if f]:
        assert pattern.fullmatch(answer), answer


@pytest.mark.parametrize("output", [
    '{"tool_call":{"name":"light_power","arguments":{"entity_id":"light.x","state":"on"}}} and more',
    'Sure: {"tool_call":{"name":"light_power","arguments":{"entity_id":"light.x","state":"on"}}}',
    '{"tool_call":{"name":"no_such_tool","arguments":{}}}',
    '{"tool_call":{"name":"get_entity_state","arguments":{"entity_ids":["light.x"]}}}\n{"tool_call":{"name":"light_power","arguments":{"entity_id":"light.x","state":"on"}}}',
    "null", "42", '"ok"', "the tool_call is done.", "<think>hm</think> Done.", "Set it to [50].",
    '{"tool_call":{"name":"light_brightness","arguments":{"entity_id":"light.x","brightness":0}}}',
])  # fmt: skip
def test_what_the_parser_refuses_the_grammar_does_not_admit(output: str) -> None:
    assert not grammar_regex(v0_grammar()).fullmatch(output)
    assert not parse_output(output).ok


@pytest.mark.parametrize("output", ['{"tool_call":{"name":"light_power","arguments":{"state":"on","entity_id":"light.x"}}}', "Done"])
def test_the_grammar_asks_for_the_trained_form(output: str) -> None:
    """Valid for the parser, but not as training writes it (argument order, a closing full stop): the grammar keeps to the canonical form."""
    assert parse_output(output).ok and not grammar_regex(v0_grammar()).fullmatch(output)


def test_every_tool_has_its_rule_and_the_text_is_deterministic() -> None:
    grammar = v0_grammar()
    for name in load_tools():
        assert f'\\"name\\":\\"{name}\\"' in grammar
    assert grammar == v0_grammar.__wrapped__()
