"""Plain-text answers in the household's language: varied phrasings that never resemble JSON.

The phrasings are the language's ``phrases.yaml`` (:class:`~.language.Language`). Every
function picks one by ``variant`` (any int, taken modulo the number of phrasings) and
returns text with no braces or brackets and never the word ``tool_call`` (asserted), so
it always parses as the plan's text class.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from statewise_protocol import KIND_TEXT, parse_output

from .language import Language

_FORBIDDEN = str.maketrans({"{": None, "}": None, "[": None, "]": None, '"': "'"})  # '"x":' would read as a JSON member

def clean(text: str) -> str:
    """Remove JSON-like characters (braces, brackets, double quotes, the word tool_call) from user-supplied names."""
    return " ".join(re.sub("tool_call", "tool call", text.translate(_FORBIDDEN), flags=re.IGNORECASE).split())


def _pick(options: Sequence[str], variant: int, **fields: Any) -> str:
    text = options[variant % len(options)].format(**{k: clean(str(v)) for k, v in fields.items()})
    text = text[0].upper() + text[1:]
    assert parse_output(text).kind == KIND_TEXT, text  # the protocol's own rule, not a copy
    return text


def display(entity: dict[str, Any], lang: Language, with_area: bool = False) -> str:
    """An entity's name as spoken, optionally with its area."""
    name = entity["name"]
    if with_area and entity.get("area"):
        return lang.phrase("with_area", name=name, area=entity["area"])
    return name


def unknown(mention: str, variant: int, lang: Language) -> str:
    """Refusal: no such entity."""
    return _pick(lang.replies("unknown"), variant, m=mention)


def none_there(what: str, place: str | None, variant: int, lang: Language) -> str:
    """Refusal: no device of a kind (a type noun, or "device that can do that") in a place, or in the home.

    Said with the kind and the place, never with words of the command as a name.
    """
    if place:
        return _pick(lang.replies("none_there"), variant, w=what, p=place)
    return _pick(lang.replies("none_at_all"), variant, w=what)


MAX_NAMED = 4


def ambiguous(mention: str, candidates: Sequence[str], variant: int, lang: Language) -> str:
    """Clarification naming the candidates (the first three and a count when there are many)."""
    if len(candidates) <= MAX_NAMED:
        return _pick(lang.replies("ambiguous"), variant, m=mention, c=lang.join_or(list(candidates)))
    shown = lang.phrase("others", shown=", ".join(candidates[:3]), count=len(candidates) - 3)
    return _pick(lang.replies("many"), variant, m=mention, c=shown, k=len(candidates))


def not_present(names: Sequence[str], variant: int, lang: Language) -> str:
    """Refusal: entity present:false or unavailable."""
    return _pick(lang.replies("not_present"), variant, n=lang.join_or(list(names)))


def missing(name: str, why: str, variant: int, lang: Language) -> str:
    """Refusal: capability the entity lacks."""
    return _pick(lang.replies("missing"), variant, n=name, w=why)


def noop(name: str, description: str, variant: int, lang: Language) -> str:
    """Explicit no-op: the goal already holds."""
    return _pick(lang.replies("noop"), variant, n=name, d=description)


def too_many(place: str, count: int, variant: int, lang: Language) -> str:
    """Clarification: an area or floor holds more targets than one answer may call."""
    return _pick(lang.replies("too_many"), variant, m=place, k=count)


def out_of_scope(topic: str, variant: int, lang: Language) -> str:
    """Refusal: chit-chat, world knowledge, memory or an unsupported request."""
    return _pick(lang.out_of_scope(topic), variant)


def unknown_level(name: str, what: str, variant: int, lang: Language) -> str:
    """Clarification: a relative change, but STATE does not give the current level."""
    return _pick(lang.replies("unknown_level"), variant, n=name, w=what)


def partly_impossible(part: str, refusal: str, variant: int, lang: Language) -> str:
    """Row 1b: one part of a request cannot be done, so nothing was; ``refusal`` says why."""
    return _pick(lang.replies("partly"), variant, m=part, r=refusal)
