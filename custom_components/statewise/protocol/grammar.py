"""A GBNF grammar (llama.cpp's) of v0 output, derived from the tool registry.

It admits exactly the plan's output classes in their canonical form: one
``get_entity_state`` line; or 1 to ``MAX_CALLS`` action lines, each a v0 tool's
``{"tool_call":{"name":..,"arguments":{..}}}`` with the arguments in schema order
and of the schema's types (enumerations, integer ranges, string patterns); or
plain text that cannot resemble JSON (it starts with a letter, ends with ``.``,
``!`` or ``?``, and holds no braces, brackets, quotes, ``<`` or underscores).
Entity ids stay free strings of the id pattern: the validator refuses unknown
ids, and forcing a known id would turn a refusal into a wrong action. Whatever
the grammar admits is still validated before anything runs.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .parser import MAX_CALLS
from .tools import load_tools

# Free text is bounded so that every output ends (a server stops at max_tokens mid-line otherwise): strings
# and ids as Home Assistant bounds them (255 characters per entity id), text past the teacher's longest reply.
MAX_STRING = 255
MAX_TEXT = 400
_STRING = r'"\"" ( [^"\\\x7F\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] ) ){0,%d} "\""' % MAX_STRING
_ID = r'"\"" [a-z0-9_]{1,32} ( "." [a-z0-9_]{1,222} )? "\""'
_TEXT = r'[^{}\[\]"<_\x00-\x20\x7F0-9-] [^{}\[\]"<_\x00-\x09\x0B-\x1F\x7F]{0,%d} [.!?]' % (MAX_TEXT - 2)


def _literal(text: str) -> str:
    return json.dumps(text)


def _digits_range(low: str, high: str) -> str:
    """Alternatives for the digit strings from ``low`` to ``high`` (same length)."""
    if low == high:
        return _literal(low)
    if len(low) == 1:
        return f"[{low}-{high}]"
    if low[0] == high[0]:
        return f"{_literal(low[0])} ({_digits_range(low[1:], high[1:])})"
    parts = []
    rest = len(low) - 1
    parts.append(f"{_literal(low[0])} ({_digits_range(low[1:], '9' * rest)})")
    if int(high[0]) - int(low[0]) > 1:
        parts.append(f"[{int(low[0]) + 1}-{int(high[0]) - 1}]" + " [0-9]" * rest)
    parts.append(f"{_literal(high[0])} ({_digits_range('0' * rest, high[1:])})")
    return " | ".join(parts)


def integer_range(low: int, high: int) -> str:
    """A GBNF expression for the integers ``low``..``high`` as JSON writes them (no leading zeros)."""
    if low < 0:
        negative = f'"-" ({integer_range(1, -low)})'
        return negative if high < 0 else f"{negative} | {integer_range(0, high)}"
    parts = []
    for length in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (length - 1) if length > 1 else 0)
        hi = min(high, 10**length - 1)
        if lo <= hi:
            parts.append(f"({_digits_range(str(lo), str(hi))})")
    return " | ".join(parts)


def _value(rule: dict[str, Any], is_target: bool) -> str:
    if "enum" in rule:
        return " | ".join(_literal(json.dumps(v)) for v in rule["enum"])
    kind = rule.get("type")
    if kind == "boolean":
        return '"true" | "false"'
    if kind == "integer":
        return integer_range(int(rule.get("minimum", -(10**6))), int(rule.get("maximum", 10**6)))
    if kind == "number":
        whole = integer_range(int(rule.get("minimum", -(10**6))), int(rule.get("maximum", 10**6)))
        return f'({whole}) ( "." [0-9] [0-9]? )?'
    if kind == "array":
        item = _value(rule["items"], is_target)
        return f'"[" {item} ( "," {item} )* "]"'
    return "id" if is_target else "string"


@cache
def v0_grammar() -> str:
    """The GBNF text (deterministic: tools in name order)."""
    lines = ["root ::= fetch | actions | text", f'actions ::= call ( "\\n" call ){{0,{MAX_CALLS - 1}}}']
    calls = []
    for name, spec in sorted(load_tools().items()):
        rule_name = "fetch" if spec.is_fetch else "call-" + name.replace("_", "-")
        body = [_literal('{"tool_call":{"name":' + json.dumps(name) + ',"arguments":{')]
        for i, (arg, rule) in enumerate(spec.arguments.items()):  # schema order: the canonical output order
            body.append(_literal(("," if i else "") + json.dumps(arg) + ":"))
            body.append(f"( {_value(rule, arg == spec.target_arg)} )")
        body.append(_literal("}}}"))
        lines.append(f"{rule_name} ::= " + " ".join(body))
        if not spec.is_fetch:
            calls.append(rule_name)
    lines.append("call ::= " + " | ".join(calls))
    lines += [f"string ::= {_STRING}", f"id ::= {_ID}", f"text ::= {_TEXT}"]
    return "\n".join(lines) + "\n"
