"""The value a command asks for, per intent kind: one an entity can take, or (``valid=False``) one it cannot.

Every value comes from the tool registry: enumerated kinds take their tool argument's
enum (or a stateful kind's own, :mod:`.stateful`); a number is a round step of the
argument's schema range (``minimum``/``maximum``, on its ``multipleOf`` grid) inside the
entity's own range where the tool checks one (``within``: Home Assistant's default when
the entity has none); a member of a capability list (``member_of``: an hvac mode, an
input) is one the entity has; free text is the language's sample words.
"""

from __future__ import annotations

import math
import random
from typing import Any

from statewise_protocol import DEFAULT_RANGES, ToolSpec

from .intents import OUT_OF_SCOPE, kind_tool, kinds
from .language import Language
from .stateful import STATEFUL

# Values people ask for that a device may not have, by capability list (``valid=False`` draws one the entity lacks).
OTHER_MEMBERS = {"hvac_modes": ("dry", "fan_only", "heat_cool", "auto", "cool"), "inputs": ("netflix", "hdmi_2", "game_console", "spotify")}
TEXT_WORDS = {"title": "titles", "item": "items"}  # a free-text argument -> the language's sample words for it
OUTSIDE_STEPS = 10  # an impossible level: up to this many steps past the entity's range (inside the schema's)


def absolute_kinds() -> tuple[str, ...]:
    """The kinds a tool performs directly (its ``intent``), in registry order."""
    return tuple(k for k in kinds() if k not in STATEFUL and k != OUT_OF_SCOPE)


def enum_values(kind: str) -> tuple[Any, ...]:
    """The values of an enumerated kind (empty when its values are not an enum): a stateful kind's own, or the tool's argument enum."""
    if kind in STATEFUL and STATEFUL[kind].values:
        return STATEFUL[kind].values
    domains = sorted(kinds().get(kind, ()))
    spec = kind_tool(kind, domains[0]) if domains else None
    value_arg = (spec.intent or {}).get("value") if spec else None
    if spec and value_arg and spec.arguments.get(value_arg, {}).get("type") == "boolean":
        return (True, False)
    return spec.enum(value_arg) if spec and value_arg else ()


def _tool(kind: str, entity: dict[str, Any] | None) -> tuple[ToolSpec | None, str]:
    """The tool ``kind`` acts through on ``entity`` (on the kind's first domain without one), and that entity's domain."""
    domains = sorted(kinds().get(kind, ()))
    domain = entity["domain"] if entity and entity.get("domain") in domains else (domains[0] if domains else "")
    return (kind_tool(kind, domain) if domain else None), domain


def _value_arg(kind: str, spec: ToolSpec) -> str | None:
    """The argument a value of ``kind`` is said as: a stateful kind's, the tool's intent value, or the tool's only argument."""
    if kind in STATEFUL:
        if STATEFUL[kind].value_arg:
            return STATEFUL[kind].value_arg
        others = [a for a in spec.arguments if a != spec.target_arg]
        return others[0] if len(others) == 1 else None
    return (spec.intent or {}).get("value")


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def round_step(schema: dict[str, Any], low: float, high: float) -> float:
    """The levels people say in ``[low, high]`` step by: the schema's ``multipleOf``, else a twentieth of the range's power of ten (5 %, 500 K)."""
    return schema.get("multipleOf") or 10 ** math.ceil(math.log10(max(high - low, 1))) / 20


def ladder(step: float, low: float, high: float) -> list[float | int]:
    """The multiples of ``step`` in ``[low, high]``."""
    return [_number(round(k * step, 6)) for k in range(math.ceil(low / step), math.floor(high / step) + 1)]


def value_for(kind: str, entity: dict[str, Any] | None, rng: random.Random, lang: Language, valid: bool = True) -> Any:
    """A value for ``kind`` (``valid=False``: one the entity cannot take, where possible); ``lang`` says free text (titles, items)."""
    if values := enum_values(kind):
        return rng.choice(values)
    spec, domain = _tool(kind, entity)
    arg = _value_arg(kind, spec) if spec else None
    if spec is None or arg is None:
        return None
    schema = spec.arguments.get(arg, {})
    caps = (entity or {}).get("capabilities") or {}
    if schema.get("type") in ("integer", "number"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 100)
        cap = spec.mapping.get("within", {}).get(arg)
        own = caps.get(cap) or DEFAULT_RANGES.get((domain, cap)) if cap else None
        first, last = (max(low, own[0]), min(high, own[1])) if own else (low, high)
        step = round_step(schema, first, last)
        if not valid and own:
            outside = [v for v in ladder(step, low, high) if own[0] - OUTSIDE_STEPS * step <= v < own[0] or own[1] < v <= own[1] + OUTSIDE_STEPS * step]
            if outside:
                return rng.choice(outside)
        return rng.choice(ladder(step, first, last) or [_number(low)])
    if (member := spec.mapping.get("member_of", {}).get(arg)) is not None:
        have = caps.get(member) or []
        if valid and have:
            return rng.choice(have)
        return rng.choice([m for m in OTHER_MEMBERS[member] if m not in have] or [OTHER_MEMBERS[member][0]])
    if arg in TEXT_WORDS:
        return rng.choice(lang.words[TEXT_WORDS[arg]])
    return None
