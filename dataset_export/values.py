"""The value a command asks for, per intent kind: one an entity can take, or (``valid=False``) one it cannot.

Enumerated kinds take their tool argument's enum (or up/down, a media command); the
others a level on a ladder, inside the entity's own range where it has one.
"""

from __future__ import annotations

import random
from typing import Any

from .intents import OUT_OF_SCOPE, kind_tool, kinds
from .language import Language
from .stateful import STATEFUL

KELVINS = (2200, 2700, 3000, 3500, 4000, 5000, 6000, 6500)


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


def value_for(kind: str, entity: dict[str, Any] | None, rng: random.Random, lang: Language, valid: bool = True) -> Any:
    """A value for ``kind`` (``valid=False``: one the entity cannot take, where possible); ``lang`` says titles and items."""
    caps = (entity or {}).get("capabilities") or {}
    if values := enum_values(kind):
        return rng.choice(values)
    if kind in ("brightness", "volume", "humidity"):
        if kind == "humidity":
            low, high = caps.get("humidity_range") or (30, 70)
            return rng.choice(range(int(low), int(high) + 1, 5)) if valid else rng.choice((int(high) + 10, max(0, int(low) - 10)))
        return rng.choice(range(5 if kind == "brightness" else 0, 101, 5))
    if kind == "fan_speed":
        return rng.choice(range(10, 101, 10))
    if kind in ("cover_position", "valve_position"):
        return rng.choice(range(10, 100, 10))
    if kind == "color_temp":
        low, high = caps.get("color_temp") or (2000, 6500)
        inside = [k for k in KELVINS if low <= k <= high]
        return rng.choice(inside or KELVINS) if valid else rng.choice((1500, 1800, 9000, 10000))
    if kind == "climate_temp":
        low, high = caps.get("temp_range") or (7, 35)
        if not valid:
            return rng.choice((high + 5, low - 3))
        value = rng.choice([x / 2 for x in range(int(low * 2), int(high * 2) + 1)][2:-2] or [float(low)])
        return int(value) if float(value).is_integer() else value
    if kind == "climate_mode":
        modes = caps.get("hvac_modes") or []
        if valid and modes:
            return rng.choice(modes)
        return rng.choice([m for m in ("dry", "fan_only", "heat_cool", "auto", "cool") if m not in modes] or ["dry"])
    if kind == "tv_input":
        inputs = caps.get("inputs") or []
        return rng.choice(inputs) if valid and inputs else rng.choice([i for i in ("netflix", "hdmi_2", "game_console", "spotify") if i not in inputs])
    if kind == "play_title":
        return rng.choice(lang.words["titles"])
    if kind == "todo_add":
        return rng.choice(lang.words["items"])
    return None
