"""Plain-text answers: varied phrasings that never resemble JSON.

Every function picks a phrasing by ``variant`` (any int, taken modulo the
number of phrasings) and returns text with no braces or brackets and never the
word ``tool_call`` (asserted), so it always parses as the plan's text class.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from statewise_protocol import KIND_TEXT, parse_output

_FORBIDDEN = str.maketrans({"{": None, "}": None, "[": None, "]": None, '"': "'"})  # '"x":' would read as a JSON member

UNKNOWN = (
    "I can't find anything called {m} in this home.",
    "There is no device named {m} here, so I can't do that.",
    "Sorry, {m} isn't one of the devices I can control.",
    "I don't know a device called {m}. Could you use one of the names in this home?",
    "Nothing in this home matches {m}.",
)
NONE_THERE = (
    "There is no {w} in {p}.",
    "I can't find a {w} in {p}.",
    "{p} has no {w} I can control.",
)
NONE_AT_ALL = (
    "There is no {w} in this home that I can control.",
    "I can't find a {w} in this home.",
)
AMBIGUOUS = (
    "Which one do you mean: {c}?",
    "{m} could be several devices: {c}. Which one?",
    "More than one device matches {m}: {c}. Please tell me which.",
    "Do you mean {c}?",
)
MANY = (
    "{m} matches {k} devices, for example {c}. Which room or which one do you mean?",
    "There are {k} devices called {m}: {c}. Please name the room or the device.",
)
NOT_PRESENT = (
    "{n} is not available right now, so I can't control it.",
    "{n} seems to be offline at the moment.",
    "I can't reach {n} right now; it is unavailable.",
    "{n} is currently unavailable. Do you want to try another device?",
)
MISSING = (
    "{n} can't {w}.",
    "Sorry, {n} is not able to {w}.",
    "That isn't possible: {n} can't {w}.",
    "I can't do that, {n} can't {w}.",
)
NOOP = (
    "{n} is already {d}.",
    "Nothing to do, {n} is already {d}.",
    "{n} is already {d}, so I left it as it is.",
    "No change needed: {n} is already {d}.",
)
UNKNOWN_LEVEL = (
    "I can't see the current {w} of {n}, so I can't change it step by step. What {w} would you like?",
    "{n} isn't reporting its {w} right now. Tell me the {w} you want and I'll set it.",
    "The {w} of {n} is unknown at the moment; please say the exact {w} you want.",
)
PARTLY = (
    "I can't do all of that. {r} Nothing was changed, so you can ask again for the rest.",
    "Part of that isn't possible: {r} I left everything as it was; please ask again without {m}.",
    "I didn't change anything, because one part can't be done. {r}",
)
TOO_MANY = (
    "That covers {k} devices in {m}, more than I can switch at once. Which room do you mean?",
    "There are {k} devices in {m}. Could you name a room or a device instead?",
)
OUT_OF_SCOPE = {
    "chit_chat": (
        "I'm here to control your home's devices, so I'll skip the small talk.",
        "I only handle this home's devices. Is there something you'd like me to switch or set?",
        "That's not something I can help with; I control the devices in this home.",
    ),
    "world_knowledge": (
        "I can't answer general questions; I only control the devices in this home.",
        "That's outside what I do. I can only operate this home's devices.",
        "I don't look things up. I can switch, set or play things on your devices.",
    ),
    "memory": (
        "I don't keep anything between requests, so I can't remember that.",
        "I have no memory of earlier conversations; each request stands on its own.",
        "I can't store or recall personal details. I only control devices.",
    ),
    "unsupported": (
        "I can't do that here; it isn't one of the device actions I support.",
        "That isn't something I can do with this home's devices.",
        "Sorry, that's not supported. I can only control the devices listed for this home.",
    ),
}


def clean(text: str) -> str:
    """Remove JSON-like characters (braces, brackets, double quotes, the word tool_call) from user-supplied names."""
    return " ".join(re.sub("tool_call", "tool call", text.translate(_FORBIDDEN), flags=re.IGNORECASE).split())


def _pick(options: Sequence[str], variant: int, **fields: Any) -> str:
    text = options[variant % len(options)].format(**{k: clean(str(v)) for k, v in fields.items()})
    text = text[0].upper() + text[1:]
    assert parse_output(text).kind == KIND_TEXT, text  # the protocol's own rule, not a copy
    return text


def display(entity: dict[str, Any], with_area: bool = False) -> str:
    """An entity's name as spoken, optionally with its area."""
    name = entity["name"]
    if with_area and entity.get("area"):
        return f"{name} in the {entity['area']}"
    return name


def join_or(items: Sequence[str]) -> str:
    """``a, b or c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def unknown(mention: str, variant: int) -> str:
    """Refusal: no such entity."""
    return _pick(UNKNOWN, variant, m=mention)


def none_there(what: str, place: str | None, variant: int) -> str:
    """Refusal: no device of a kind (a type noun, or "device that can do that") in a place, or in the home.

    Said with the kind and the place, never with words of the command as a name.
    """
    if place:
        return _pick(NONE_THERE, variant, w=what, p=place)
    return _pick(NONE_AT_ALL, variant, w=what)


MAX_NAMED = 4


def ambiguous(mention: str, candidates: Sequence[str], variant: int) -> str:
    """Clarification naming the candidates (the first three and a count when there are many)."""
    if len(candidates) <= MAX_NAMED:
        return _pick(AMBIGUOUS, variant, m=mention, c=join_or(list(candidates)))
    shown = ", ".join(candidates[:3]) + f" or one of {len(candidates) - 3} others"
    return _pick(MANY, variant, m=mention, c=shown, k=len(candidates))


def not_present(names: Sequence[str], variant: int) -> str:
    """Refusal: entity present:false or unavailable."""
    return _pick(NOT_PRESENT, variant, n=join_or(list(names)))


def missing(name: str, why: str, variant: int) -> str:
    """Refusal: capability the entity lacks."""
    return _pick(MISSING, variant, n=name, w=why)


def noop(name: str, description: str, variant: int) -> str:
    """Explicit no-op: the goal already holds."""
    return _pick(NOOP, variant, n=name, d=description)


def too_many(place: str, count: int, variant: int) -> str:
    """Clarification: an area or floor holds more targets than one answer may call."""
    return _pick(TOO_MANY, variant, m=place, k=count)


def out_of_scope(topic: str, variant: int) -> str:
    """Refusal: chit-chat, world knowledge, memory or an unsupported request."""
    return _pick(OUT_OF_SCOPE.get(topic, OUT_OF_SCOPE["unsupported"]), variant)


def unknown_level(name: str, what: str, variant: int) -> str:
    """Clarification: a relative change, but STATE does not give the current level."""
    return _pick(UNKNOWN_LEVEL, variant, n=name, w=what)


def partly_impossible(part: str, refusal: str, variant: int) -> str:
    """Row 1b: one part of a request cannot be done, so nothing was; ``refusal`` says why."""
    return _pick(PARTLY, variant, m=part, r=refusal)
