"""Sentence templates: Home Assistant's (home-assistant-intents) and the project's own, as one hassil ``Intents``.

Home Assistant's intents of the language (:class:`~.language.Language`) are used as they are; a block (one ``data`` entry
of an intent) is used when a v0 tool asks for that intent (the tool registry's
``hass`` entries), chosen by the block's own declared domain (``requires_context``
or fixed ``slots``), the slots its sentences reference and its fixed slots, never by
its position, so a new release of the package keeps working. Blocks that need the
speaker's area (``requires_context: area``) are kept without that condition: they
read as commands with an implied target ("turn on the lights", "pause").
The language folder's ``sentences.yaml`` adds the project's own intents, named by intent kind, and skip words
(an assistant's name, "now") to Home Assistant's.

Each sentence of a used block is a :class:`Template` whose id is derived from its
content (``hass/<Intent>/<digest>`` or ``own/<kind>/<digest>``), so ids, and with
them the held-out split, stay the same across releases for sentences that did not
change. :func:`fill` expands one template with given values (a random walk over the
template, checked against hassil's own exhaustive expansion by a test).
"""

from __future__ import annotations

import copy
import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hassil.expression import Alternative, Expression, ListReference, Permutation, RuleReference, Sentence, Sequence, TextChunk
from hassil.intents import IntentData, Intents
from hassil.util import normalize_whitespace
from statewise_protocol import load_tools

from .intents import OUT_OF_SCOPE, device_nouns, kinds, list_nouns
from .language import Language

ATTRIBUTION = (
    "Sentence templates from home-assistant-intents (https://github.com/OHF-Voice/intents), "
    "© Open Home Foundation and contributors, licensed CC BY 4.0; used via hassil and adapted (filled with this home's names)."
)
TARGET_LISTS = ("name", "area", "floor", "device_noun")
# Home Assistant intents no v0 tool performs that are still sentences people say: refused as out of scope.
OUT_OF_SCOPE_INTENTS = {"HassGetWeather": "unsupported", "HassGetCurrentTime": "unsupported", "HassGetCurrentDate": "unsupported",
                        "HassStartTimer": "unsupported", "HassNevermind": "chit_chat"}  # fmt: skip


@dataclass(frozen=True)
class Meaning:
    """What a template asks for: an intent kind, its value (fixed, or from ``slot``) and the domains it acts on."""

    kind: str
    value: Any = None
    slot: str | None = None
    domains: frozenset[str] = frozenset()
    name: str | None = None  # an implied list name (Home Assistant's shopping list intent)


@dataclass(frozen=True)
class Template:
    """One sentence template and what it means."""

    id: str
    intent: str
    meanings: tuple[Meaning, ...]
    scope: str  # "name", "area", "floor" or "none" (implied target or a device type)
    sentence: Sentence = field(compare=False)
    data: IntentData = field(compare=False, repr=False)
    lists: frozenset[str] = frozenset()  # list names its sentence references
    slots: frozenset[str] = frozenset()  # slot names its sentence fills (``{cover_classes:device_class}`` fills device_class)
    fixed: tuple[tuple[str, Any], ...] = ()  # the block's fixed slots
    topic: str = ""
    rules: dict[str, Sentence] = field(default_factory=dict, compare=False, repr=False)  # its expansion rules (its language's and its block's)
    language: str = "en"

    @property
    def kind(self) -> str:
        """The first meaning's kind (templates of one kind are split together)."""
        return self.meanings[0].kind

    @property
    def every(self) -> bool:
        """True when the sentence must say "all"/"every" (``<all>`` outside any optional or alternative part, or a fixed ``every`` slot)."""
        return bool(dict(self.fixed).get("every")) or re.search(r"(?:^|\s)<all>", self.sentence.text) is not None

    @property
    def kinds(self) -> frozenset[str]:
        """Every kind the template can mean."""
        return frozenset(m.kind for m in self.meanings)

    @property
    def source(self) -> str:
        """``hassil`` (Home Assistant's sentences) or ``own``."""
        return "hassil" if self.id.startswith("hass/") else "own"

    def meaning_for(self, domain: str | None) -> Meaning | None:
        """The meaning for a target of ``domain`` (the only one when the template has one)."""
        for meaning in self.meanings:
            if domain is None or not meaning.domains or domain in meaning.domains:
                return meaning
        return None


def _list_refs(expr: Expression, rules: Mapping[str, Sentence], seen: frozenset[str] = frozenset()) -> list[ListReference]:
    if isinstance(expr, ListReference):
        return [expr]
    if isinstance(expr, RuleReference):
        if expr.rule_name in seen or expr.rule_name not in rules:
            return []
        return _list_refs(rules[expr.rule_name].expression, rules, seen | {expr.rule_name})
    if isinstance(expr, Alternative | Sequence | Permutation):
        return [ref for item in expr.items for ref in _list_refs(item, rules, seen)]
    return []


def _domains(value: Any) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


def block_domains(data: Mapping[str, Any]) -> set[str] | None:
    """The domains a Home Assistant block acts on (``None``: not restricted), from its own declarations."""
    domains = _domains((data.get("requires_context") or {}).get("domain")) or _domains((data.get("slots") or {}).get("domain"))
    excluded = _domains((data.get("excludes_context") or {}).get("domain")) or set()
    if domains is None and excluded:
        return {d for spec in load_tools().values() for d in spec.domains} - excluded
    return None if domains is None else domains - excluded


def _scope(lists: set[str]) -> str:
    return "name" if "name" in lists else "area" if "area" in lists else "floor" if "floor" in lists else "none"


def hass_meanings(intent: str, data: Mapping[str, Any], slot_names: set[str]) -> tuple[Meaning, ...]:
    """The v0 meanings of one Home Assistant block: tools whose ``hass`` entries name the intent and fit the block."""
    domains = block_domains(data)
    fixed = data.get("slots") or {}
    found: dict[tuple[str, Any, str | None], set[str]] = {}
    names: dict[tuple[str, Any, str | None], str | None] = {}
    for spec in load_tools().values():
        for entry in spec.hass:
            if entry["intent"] != intent:
                continue
            acting = spec.domains if domains is None else spec.domains & domains
            slot = entry.get("slot")
            if not acting or (slot is not None and slot not in slot_names and slot not in fixed):
                continue
            kind = entry.get("kind") or (spec.intent or {}).get("kind")
            # a fixed slot is hassil's default: a sentence that says the slot itself ("baja el volumen 20%") gives its value
            said = slot is not None and (slot not in fixed or slot in slot_names)
            value = entry.get("value", None if said or slot is None else fixed.get(slot))
            key = (kind, value, slot if said else None)
            found.setdefault(key, set()).update(acting)
            names[key] = entry.get("name")
    value_slots = {entry.get("slot") for spec in load_tools().values() for entry in spec.hass if entry["intent"] == intent} - {None}
    meanings = []
    for (kind, value, slot), acting in sorted(found.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2] or "")):
        if slot is None and (slot_names & value_slots):
            continue  # a value-free reading of a block that carries another tool's value
        meanings.append(Meaning(kind, value, slot, frozenset(acting), names[(kind, value, slot)]))
    return tuple(meanings)


def _noun_list(table: Mapping[str, Any]) -> dict[str, Any]:
    return {"values": [{"in": spoken, "out": key} for key, spec in table.items() for spoken in spec.spoken]}


def _used_hass_intents(raw: Mapping[str, Any]) -> set[str]:
    """Home Assistant intents some v0 tool asks for, or that are out of scope: the rest are not read at all."""
    asked = {entry["intent"] for spec in load_tools().values() for entry in spec.hass}
    return (asked | set(OUT_OF_SCOPE_INTENTS)) & set(raw)


@cache
def combined_data(lang: Language) -> dict[str, Any]:
    """Home Assistant's intents in ``lang`` with the project's own merged in (the input of :func:`hassil_intents`).

    A language Home Assistant has no sentences for is read with the project's templates alone.
    """
    data = copy.deepcopy(lang.hass) if lang.hass else {"language": lang.code, "intents": {}, "lists": {}, "expansion_rules": {}}
    data["intents"] = {name: data["intents"][name] for name in sorted(_used_hass_intents(data["intents"]))}
    own = copy.deepcopy(lang.sentences)
    for name, intent in own["intents"].items():
        data["intents"][name] = intent
    data["lists"].update(own.get("lists", {}))
    data["lists"]["device_noun"] = _noun_list(device_nouns(lang))
    data["lists"]["list_noun"] = _noun_list(list_nouns(lang))
    data["lists"]["input"] = {"wildcard": True}  # replaced by the home's inputs when recognising
    data["expansion_rules"].update(own.get("expansion_rules", {}))
    data["skip_words"] = [*data.get("skip_words", []), *(w for w in own.get("skip_words", []) if w not in data.get("skip_words", []))]
    for intent in data["intents"].values():
        for block in intent["data"]:
            context = block.get("requires_context") or {}
            if "area" in context:  # the speaker's area: read as an implied target
                context = {k: v for k, v in context.items() if k != "area"}
                if context:
                    block["requires_context"] = context
                else:
                    del block["requires_context"]
                block.setdefault("metadata", {})["implied_area"] = True
    return data


@cache
def wildcards(lang: Language) -> frozenset[str]:
    """The lists of ``lang`` that take free text (``search_query``, a name said for ``input``)."""
    return frozenset(name for name, spec in combined_data(lang)["lists"].items() if (spec or {}).get("wildcard"))


@cache
def hassil_intents(lang: Language, any_domain: bool = False) -> Intents:
    """The combined templates as hassil ``Intents`` (what the recogniser reads and :func:`all_templates` splits).

    ``any_domain``: the same templates without their domain conditions, to read a request
    for the wrong kind of device ("dim the fan") as what it asks.
    """
    if not any_domain:
        return Intents.from_dict(combined_data(lang))
    data = copy.deepcopy(combined_data(lang))
    for intent in data["intents"].values():
        for block in intent["data"]:
            for key in ("requires_context", "excludes_context"):
                if "domain" in (block.get(key) or {}):
                    rest = {k: v for k, v in block[key].items() if k != "domain"}
                    if rest:
                        block[key] = rest
                    else:
                        del block[key]
    return Intents.from_dict(data)


def _digest(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:12]


TARGET_SLOTS = frozenset({"name", "name_2", "area", "area_2", "floor", "device_noun", "list_noun", "device_class"})
AMOUNT_SLOTS = ("step_percent", "step_degrees")


def value_slot(slot_names: Iterable[str]) -> str | None:
    """The slot of a sentence that says the intent's value (not a target, not a step size)."""
    rest = sorted(set(slot_names) - TARGET_SLOTS - set(AMOUNT_SLOTS))
    return rest[0] if rest else None


def _own_meanings(kind: str, fixed: Mapping[str, Any], data: Mapping[str, Any], slot_names: set[str]) -> tuple[Meaning, ...]:
    domains = block_domains(data)
    acting = kinds().get(kind, frozenset())
    acting = acting if domains is None else acting & domains
    slot = None if "value" in fixed else value_slot(slot_names)
    return (Meaning(kind, fixed.get("value"), slot, frozenset(acting)),)


@cache
def all_templates(lang: Language) -> tuple[Template, ...]:
    """Every used template of ``lang``, in a stable order (by id)."""
    intents = hassil_intents(lang)
    raw = combined_data(lang)["intents"]
    own_names = set(lang.sentences["intents"])
    out: dict[str, Template] = {}
    for name, intent in intents.intents.items():
        for data, raw_block in zip(intent.data, raw[name]["data"], strict=True):
            rules = {**intents.expansion_rules, **data.expansion_rules}
            fixed = dict(raw_block.get("slots") or {})
            for text, sentence in zip(data.sentence_texts, data.sentences, strict=True):
                refs = _list_refs(sentence.expression, rules)
                lists = {r.list_name for r in refs}
                slot_names = {r.slot_name for r in refs}
                topic = ""
                if name in own_names:
                    meanings = _own_meanings(name, fixed, raw_block, slot_names)
                    topic = str(fixed.get("topic", ""))
                    prefix = f"own/{name}"
                elif name in OUT_OF_SCOPE_INTENTS:
                    meanings, topic, prefix = (Meaning(OUT_OF_SCOPE),), OUT_OF_SCOPE_INTENTS[name], f"hass/{name}"
                else:
                    meanings, prefix = hass_meanings(name, raw_block, slot_names), f"hass/{name}"
                if not meanings:
                    continue
                context = sorted((raw_block.get("requires_context") or {}).items())
                # English ids are those of the English-only releases (held-out splits stay put); another language's differ by its code
                tid = f"{prefix}/{_digest(text, sorted(fixed.items()), context, *([lang.code] if lang.code != 'en' else []))}"
                out.setdefault(tid, Template(tid, name, meanings, _scope(lists & set(TARGET_LISTS)), sentence, data, frozenset(lists),
                                             frozenset(slot_names), tuple(sorted(fixed.items())), topic, rules, lang.code))
    return tuple(out[k] for k in sorted(out))


@cache
def templates_by_sentence(lang: Language, any_domain: bool = False) -> dict[int, Template]:
    """Template by ``id()`` of its hassil sentence (what a recognition result names), for either :func:`hassil_intents`."""
    by_id = {t.id: t for t in all_templates(lang)}
    by_text = {(t.intent, id(t.data), t.sentence.text): t for t in all_templates(lang)}
    out: dict[int, Template] = {}
    for name, intent in hassil_intents(lang, any_domain).intents.items():
        for data, plain in zip(intent.data, hassil_intents(lang).intents[name].data, strict=True):
            for sentence, text in zip(data.sentences, data.sentence_texts, strict=True):
                template = by_text.get((name, id(plain), text))
                if template is not None and template.id in by_id:
                    out[id(sentence)] = template
    return out


class Unfillable(Exception):
    """The template needs a value the command does not have."""


def _rules(template: Template) -> dict[str, Sentence]:
    return template.rules


def _fillable(expr: Expression, values: Mapping[str, Any], rules: Mapping[str, Sentence], seen: frozenset[str] = frozenset()) -> bool:
    if isinstance(expr, TextChunk):
        return True
    if isinstance(expr, ListReference):
        return expr.slot_name in values
    if isinstance(expr, RuleReference):
        if expr.rule_name in seen or expr.rule_name not in rules:
            return False
        return _fillable(rules[expr.rule_name].expression, values, rules, seen | {expr.rule_name})
    if isinstance(expr, Alternative):
        return any(_fillable(item, values, rules, seen) for item in expr.items)
    if isinstance(expr, Sequence | Permutation):
        return all(_fillable(item, values, rules, seen) for item in expr.items)
    return False


def _walk(expr: Expression, values: Mapping[str, Any], rules: Mapping[str, Sentence], rng: random.Random) -> str:
    if isinstance(expr, TextChunk):
        return expr.original_text
    if isinstance(expr, ListReference):
        value = values[expr.slot_name]
        if isinstance(value, Sentence):
            return _walk(value.expression, values, rules, rng)
        return _walk(value, values, rules, rng) if isinstance(value, Expression) else str(value)
    if isinstance(expr, RuleReference):
        return _walk(rules[expr.rule_name].expression, values, rules, rng)
    if isinstance(expr, Alternative):
        options = [item for item in expr.items if _fillable(item, values, rules)]
        if not options:
            raise Unfillable(str(expr))
        return _walk(rng.choice(options), values, rules, rng)
    if isinstance(expr, Permutation):
        items = list(expr.items)
        rng.shuffle(items)
        return " ".join(_walk(item, values, rules, rng) for item in items)
    if isinstance(expr, Sequence):
        return "".join(_walk(item, values, rules, rng) for item in expr.items)
    raise Unfillable(type(expr).__name__)


def fillable(template: Template, values: Iterable[str]) -> bool:
    """True when every slot the template requires has a value (values are keyed by slot name: ``{list:slot}``)."""
    return _fillable(template.sentence.expression, dict.fromkeys(values, ""), _rules(template))


def fill(template: Template, values: Mapping[str, Any], rng: random.Random) -> str:
    """A sentence from ``template`` with its lists filled (raises :class:`Unfillable`).

    A value is the text to say, or a hassil ``Sentence`` to expand (a list value's
    ``in`` template, such as ``(cold|cool) white``).
    """
    rules = _rules(template)
    if not _fillable(template.sentence.expression, values, rules):
        raise Unfillable(template.id)
    text = normalize_whitespace(_walk(template.sentence.expression, values, rules, rng)).strip()
    text = text.replace(" ,", ",")
    if not text or any(ch in text for ch in "{}<>[]"):
        raise Unfillable(f"unfilled list in {template.id}: {text!r}")
    return text
