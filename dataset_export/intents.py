"""Command intents and how they resolve against an ontology, as Home Assistant resolves them.

An :class:`Intent` is what a sentence asks for, independent of its wording: a
``kind`` (see :func:`kinds`: a tool's ``intent``, or one of :data:`.stateful.STATEFUL`), a
value, and a target named by ``mention`` (a name, alias, partial name or generic
noun as spoken), ``area``/``floor`` (a name or alias), ``noun`` (a device type,
:data:`NOUN_TYPES`, or a list, :data:`LIST_TYPES`), ``device_class``, or nothing
(the only capable device). :func:`resolve` maps the target to entity ids within the
domains the intent can act on (a lock command never considers a binary sensor);
:func:`capability_gap` says why an entity cannot do the intent. Pure functions.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from functools import cache
from typing import Any

from statewise_protocol import ExportError, Ontology, ToolSpec, capability_problem, load_tools, tools_for

from .language import Language, language
from .stateful import STATEFUL, acts_through

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Noun:
    """A device type people say ("the curtains", "the air purifier") and the entities it names.

    ``spoken``: hassil templates of the words; an entity matches when its domain is one of
    ``domains`` and: its device class is one of ``classes``, or a word of ``words`` is a word
    of its name or aliases, or (``any_of``) its domain is one where every entity is such a device.
    """

    spoken: tuple[str, ...]
    domains: frozenset[str]
    classes: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()
    any_of: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NounType:
    """What a device type means, in every language: the entities it names (see :class:`Noun`)."""

    domains: frozenset[str]
    classes: frozenset[str] = frozenset()
    any_of: frozenset[str] = frozenset()


def _type(domains: str, classes: str = "", any_of: str = "") -> NounType:
    split = lambda text: frozenset(w for w in text.split(",") if w)  # noqa: E731
    return NounType(split(domains), split(classes), split(any_of))


# Device types by id; how each is said, and the name words that make an entity one, are each language's ``words.yaml``.
NOUN_TYPES: dict[str, NounType] = {
    "light": _type("light", any_of="light"),
    "fan": _type("fan"),
    "air purifier": _type("fan,switch"),
    "heater": _type("climate,switch", any_of="climate"),
    "air conditioner": _type("climate,switch"),
    "thermostat": _type("climate", any_of="climate"),
    "tv": _type("media_player", classes="tv"),
    "speaker": _type("media_player", classes="speaker"),
    "curtains": _type("cover", classes="curtain"),
    "blinds": _type("cover", classes="blind"),
    "shades": _type("cover", classes="shade"),
    "shutters": _type("cover", classes="shutter"),
    "garage door": _type("cover", classes="garage"),
    "gate": _type("cover", classes="gate"),
    "vacuum": _type("vacuum", any_of="vacuum"),
    "sprinklers": _type("valve"),
    "humidifier": _type("humidifier", classes="humidifier"),
    "dehumidifier": _type("humidifier", classes="dehumidifier"),
    "water heater": _type("water_heater", any_of="water_heater"),
    "plug": _type("switch", classes="outlet"),
    "coffee maker": _type("switch"),
    "lock": _type("lock", any_of="lock"),
}
# Lists people name by what they hold ("add milk to my tasks"): matched on the to-do list's name words.
LIST_TYPES: dict[str, NounType] = {"shopping list": _type("todo"), "tasks": _type("todo")}


def _nouns(lang: Language, key: str, types: dict[str, NounType]) -> dict[str, Noun]:
    out = {}
    for noun_id, said in lang.words[key].items():
        if noun_id not in types:
            raise ExportError(str(lang.folder / "words.yaml"), f"{key}/{noun_id}", f"is not a device type (known: {', '.join(types)})")
        kind = types[noun_id]
        out[noun_id] = Noun(tuple(said["spoken"]), kind.domains, kind.classes, tuple(said.get("words", ())), kind.any_of)
    return out


@cache
def device_nouns(lang: Language) -> dict[str, Noun]:
    """The device types ``lang`` has words for, by id."""
    return _nouns(lang, "device_nouns", NOUN_TYPES)


@cache
def list_nouns(lang: Language) -> dict[str, Noun]:
    """The list types ``lang`` has words for, by id."""
    return _nouns(lang, "list_nouns", LIST_TYPES)


def noun_say(noun_id: str | None, lang: Language) -> str | None:
    """A device or list type as a reply names it in ``lang`` ("There is no {it} in the kitchen"); ``None`` for no type."""
    if noun_id is None:
        return None
    said = lang.words["device_nouns"].get(noun_id) or lang.words["list_nouns"].get(noun_id)
    if said is None:
        return noun_id
    if "say" in said:
        return str(said["say"])
    from hassil.parse_expression import parse_sentence
    from hassil.sample import sample_expression

    return next(iter(sample_expression(parse_sentence(said["spoken"][0]).expression)))


def kind_say(device_class: str | tuple[str, ...] | None, domains: tuple[str, ...], lang: Language) -> str | None:
    """A device class ("garage"), else the one domain a sentence allows, as a reply names it in ``lang``.

    ``words.yaml``'s ``class_words`` / ``domain_words``, else the device type of that class or domain; ``None``
    when the language has no word for it (the reply then says "a device that can do that").
    """
    nouns = lang.words["device_nouns"]
    if device_class:
        classes = [device_class] if isinstance(device_class, str) else list(device_class)
        said = [lang.words.get("class_words", {}).get(c)
                or next((noun_say(k, lang) for k, t in NOUN_TYPES.items() if c in t.classes and k in nouns), None) for c in classes]
        return lang.join_or([w for w in said if w]) if all(said) else None
    if len(domains) == 1:
        return lang.words.get("domain_words", {}).get(domains[0]) or next(
            (noun_say(k, lang) for k, t in NOUN_TYPES.items() if t.any_of == {domains[0]} and k in nouns), None)
    return None


def language_of(intent: Intent) -> Language:
    """The language the intent was said in (its mention's words are that language's)."""
    return language(intent.language)


OK, UNKNOWN, AMBIGUOUS, NOT_PRESENT = "ok", "unknown_entity", "ambiguous", "not_present"
# How a target can be named other than by its own name (the plan's "same entity, different names").
OTHER_NAMES = frozenset({"alias", "area_alias", "noun", "area_type", "implied", "partial"})


def _kind_specs(kind: str) -> list[ToolSpec]:
    """The tools a kind acts through, in registry order."""
    via = acts_through(kind)
    tools = load_tools()
    if via in tools:
        return [tools[via]]
    return [s for s in tools.values() if (s.intent or {}).get("kind") == via]


def kinds() -> dict[str, frozenset[str]]:
    """Every intent kind -> the domains it applies to (from the tool registry), ``out_of_scope`` included."""
    return _kinds(id(load_tools()))


@cache
def _kinds(_registry: int) -> dict[str, frozenset[str]]:
    """:func:`kinds` for one registry (the key: a temporary registry of a test gets its own)."""
    absolute = sorted({(s.intent or {}).get("kind") for s in load_tools().values()} - {None})
    out = {k: frozenset().union(*(s.domains for s in _kind_specs(k))) for k in absolute}
    out.update({k: frozenset().union(*(s.domains for s in _kind_specs(k))) for k in STATEFUL})
    out[OUT_OF_SCOPE] = frozenset()
    return out


def kind_tool(kind: str, domain: str) -> ToolSpec | None:
    """The tool that does ``kind`` on a ``domain`` entity (``None`` when none does)."""
    via = acts_through(kind)
    tools = load_tools()
    if via in tools:
        return tools[via] if domain in tools[via].domains else None
    found = tools_for(via, domain)
    return found[0] if found else None


@dataclass(frozen=True)
class Intent:
    """What a command asks for (see module docstring)."""

    kind: str
    value: Any = None
    mention: str | None = None
    area: str | None = None
    floor: str | None = None
    noun: str | None = None
    device_class: str | tuple[str, ...] | None = None  # several when the words name several classes (French "stores": blind or shade)
    domains: tuple[str, ...] | None = None  # the domains the sentence itself allows (its template's)
    amount: float | None = None  # a relative change said with its size: "by 4 degrees"
    also: str | None = None  # a second name in the same request ("the desk lamp and the sauna")
    topic: str = ""
    every: bool = False  # "every lock", "all the lights": every such device of the home, not the only one
    then: tuple[Intent, ...] = ()  # the steps said after this one, each read on its own ("..., then lock the back door")
    language: str = "en"  # the language the sentence was said in: its mention is words of that language

    def __post_init__(self) -> None:
        """JSON round trips give lists: keep ``domains`` a sorted tuple and ``then`` a tuple of intents."""
        if self.domains is not None and not isinstance(self.domains, tuple):
            object.__setattr__(self, "domains", tuple(sorted(self.domains)))
        if isinstance(self.device_class, list | tuple):
            classes = tuple(sorted(set(self.device_class)))
            object.__setattr__(self, "device_class", classes[0] if len(classes) == 1 else classes)
        if not isinstance(self.then, tuple) or any(isinstance(step, dict) for step in self.then):
            object.__setattr__(self, "then", tuple(Intent(**step) if isinstance(step, dict) else step for step in self.then))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``None`` and empty fields left out; the steps after this one as a list of their own forms)."""
        out = {k: v for k, v in asdict(self).items() if v not in (None, "") and k not in ("then", "every", "language")}
        if self.language != "en":
            out["language"] = self.language
        if self.every:
            out["every"] = True
        if "domains" in out:
            out["domains"] = list(out["domains"])
        if isinstance(self.device_class, tuple):
            out["device_class"] = list(self.device_class)
        if self.then:
            out["then"] = [step.as_dict() for step in self.then]
        return out

    @property
    def steps(self) -> tuple[Intent, ...]:
        """The request step by step, in the order said: this one (without its followers), then each of ``then``."""
        return (replace(self, then=()), *self.then)

    @property
    def needs_state(self) -> bool:
        """True when no plan can be made without the targets' current state."""
        return self.kind in STATEFUL


@dataclass(frozen=True)
class Resolution:
    """Target entity ids (sorted) or why there are none; ``via``: how the target was named."""

    status: str
    ids: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    via: str = "name"

    @property
    def via_alias(self) -> bool:
        """True when the target was named by another name than its own (an alias, an area alias, a device type, ...)."""
        return self.via in OTHER_NAMES


def norm(text: str, lang: Language | None = None) -> str:
    """Case-folded, single-spaced, without punctuation or (given ``lang``) a leading article of that language."""
    words = re.sub(r"[^\w\s'-]", " ", text.casefold()).split()
    articles = lang.word_set("leading_articles") if lang is not None else frozenset()
    while words and words[0] in articles:
        words = words[1:]
    return " ".join(words)


@cache
def spoken_forms(spoken: tuple[str, ...], lang: Language) -> frozenset[str]:
    """Every text a noun's hassil templates expand to (normalised)."""
    from hassil.parse_expression import parse_sentence
    from hassil.sample import sample_expression

    return frozenset(norm(text, lang) for form in spoken for text in sample_expression(parse_sentence(form).expression))


def noun_of(mention: str, lang: Language, lists: bool = False) -> str | None:
    """The noun key a mention says ("the lamps" -> ``light``; ``lists``: a list noun), or ``None``."""
    wanted = norm(mention, lang)
    table = list_nouns(lang) if lists else device_nouns(lang)
    return next((key for key, noun in table.items() if wanted in spoken_forms(noun.spoken, lang)), None)


def _words(text: str) -> str:
    return f" {norm(text)} "


def noun_matches(noun: Noun, entity: dict[str, Any]) -> bool:
    """True when ``entity`` is that kind of device."""
    if entity["domain"] not in noun.domains:
        return False
    if entity["domain"] in noun.any_of or (entity.get("device_class") and entity["device_class"] in noun.classes):
        return True
    names = [entity["name"], *entity.get("aliases", [])]
    return any(f" {norm(word)} " in _words(name) for word in noun.words for name in names)


# Classes a spoken class also names: a garage door and a gate are doors to the people using them.
CLASS_FAMILY: dict[str, tuple[str, ...]] = {"door": ("garage", "gate")}


def class_matches(entity: dict[str, Any], device_class: str | tuple[str, ...] | None, lang: Language) -> bool:
    """True when ``entity`` is of ``device_class`` (or no class is asked): by its own class, or as people name it.

    "Close the blinds" asks for the blind class; a window cover named "Lounge Blinds" is one
    to the speaker, as the device-type noun of that class says.
    """
    if isinstance(device_class, tuple):
        return any(class_matches(entity, one, lang) for one in device_class)
    if device_class is None or entity.get("device_class") == device_class or entity.get("device_class") in CLASS_FAMILY.get(device_class, ()):
        return True
    return any(device_class in noun.classes and noun_matches(noun, entity) for noun in device_nouns(lang).values())


_INDEX: dict[tuple[int, int], tuple[Ontology, dict[str, list[str]], dict[str, list[str]]]] = {}


def _names(ontology: Ontology, lang: Language) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(normalised name -> ids, normalised alias -> ids), built once per ontology object and language."""
    cached = _INDEX.get((id(ontology), id(lang)))
    if cached is None or cached[0] is not ontology:
        names: dict[str, list[str]] = {}
        aliases: dict[str, list[str]] = {}
        for eid, e in ontology.entities.items():
            names.setdefault(norm(e["name"], lang), []).append(eid)
            for alias in e["aliases"]:
                aliases.setdefault(norm(alias, lang), []).append(eid)
        if len(_INDEX) > 64:
            _INDEX.clear()
        cached = _INDEX[(id(ontology), id(lang))] = (ontology, names, aliases)
    return cached[1], cached[2]


def _present(ontology: Ontology, eid: str) -> bool:
    return bool(ontology.entities[eid].get("present", True))


def target_domains(intent: Intent) -> frozenset[str]:
    """The domains the intent can act on: its kind's, narrowed by the sentence's own."""
    domains = kinds().get(intent.kind, frozenset())
    return domains & frozenset(intent.domains) if intent.domains is not None else domains


def _by_name(ontology: Ontology, mention: str, lang: Language) -> tuple[list[str], str]:
    wanted = norm(mention, lang)
    names, aliases = _names(ontology, lang)
    by_name = names.get(wanted, [])
    by_alias = [eid for eid in aliases.get(wanted, []) if eid not in by_name]
    return sorted(set(by_name + by_alias)), ("name" if by_name else "alias")


def _choose(ontology: Ontology, ids: list[str], via: str, single: bool) -> Resolution:
    """``ids`` named by the command: one target (``single``) or every present one of a scope."""
    ids = sorted(set(ids))
    if not ids:
        return Resolution(UNKNOWN, via=via)
    present = [eid for eid in ids if _present(ontology, eid)]
    if single:
        if len(present) > 1:
            return Resolution(AMBIGUOUS, candidates=tuple(present), via=via)
        if present:
            return Resolution(OK, tuple(present), tuple(present), via)
        return Resolution(NOT_PRESENT, tuple(ids), tuple(ids), via)
    if present:
        return Resolution(OK, tuple(present), tuple(present), via)
    return Resolution(NOT_PRESENT, tuple(ids), tuple(ids), via)


def _in_place(entity: dict[str, Any], key: str, place: str, lang: Language) -> bool:
    """True when the entity's area (or floor) is ``place`` by name or, for areas, by an alias."""
    if not entity.get(key):
        return False
    wanted = norm(place, lang)
    if norm(entity[key], lang) == wanted:
        return True
    return key == "area" and wanted in {norm(a, lang) for a in entity.get("area_aliases") or ()}


def _place_via(ontology: Ontology, key: str, place: str, lang: Language) -> str:
    named = any(e.get(key) and norm(e[key], lang) == norm(place, lang) for e in ontology.entities.values())
    return key if named else "area_alias"


def _area_and_noun(ontology: Ontology, mention: str, lang: Language) -> tuple[str, str] | None:
    """("Bedroom", "fan") for "the bedroom fan" or "the fan in the bedroom": an area followed by a device type."""
    said = norm(mention, lang)
    places = {norm(a, lang): a for e in ontology.entities.values() if e.get("area") for a in [e["area"], *(e.get("area_aliases") or [])]}
    for spoken, area in sorted(places.items(), key=lambda kv: -len(kv[0])):
        rests = [said.removeprefix(spoken + " ") if said.startswith(spoken + " ") else None]
        rests += [said.removesuffix(f" {prep} {spoken}") if said.endswith(f" {prep} {spoken}") else None for prep in lang.words["in_place"]]
        for rest in rests:
            if rest and (noun := noun_of(rest, lang)) is not None:
                return area, noun
    return None


def _part_of_names(ontology: Ontology, mention: str, domains: frozenset[str], lang: Language) -> list[str]:
    """Entities of ``domains`` a mention names by part of their name, maybe with their type or floor.

    "the dyson" and "the upstairs vacuum" for the vacuum "Dyson Upstairs", "the back door lock"
    for the lock "Back Door", "the coffee" for "Coffee Maker": every word said is a word of the
    entity's name or alias, of its floor or area, or a device-type noun that fits it, and at
    least one is a word of its name. Words of ``lang``'s ``mention_filler`` and ``generic`` name nothing.
    """
    filler = lang.word_set("mention_filler") | lang.word_set("generic")
    said = [w for w in norm(mention, lang).split() if w not in filler]
    nouns = device_nouns(lang).values()
    out = []
    for eid, e in ontology.entities.items():
        if e["domain"] not in domains:
            continue
        own = {w for n in [e["name"], *e.get("aliases", [])] for w in norm(n, lang).split()}
        place = {w for p in (e.get("area"), e.get("floor")) if p for w in norm(p, lang).split()}
        types = {w for noun in nouns if noun_matches(noun, e) for form in spoken_forms(noun.spoken, lang) for w in form.split()}
        if said and any(w in own for w in said) and all(w in own or w in place or w in types for w in said):
            out.append(eid)
    return out


def resolve(ontology: Ontology, intent: Intent, mention: str | None = None) -> Resolution:
    """Resolve the intent's target (its ``mention``, or ``mention`` when given, e.g. the second part of a request).

    Order: a name or alias within the intent's domains; a name of another domain (the
    capability check then refuses it); a partial name ("the kitchen lights" for the light
    "Kitchen"); a generic noun; an area and a type; part of a name (:func:`_part_of_names`);
    a device type (with an area or floor, or said with "every"/"all": every such device there); an area or floor (every device of the
    intent's domains there); nothing (the only capable device, else a clarification; with ``every``: every capable device).
    Words are read in the intent's language.
    """
    lang = language_of(intent)
    domains = target_domains(intent)
    entities = ontology.entities
    mention = mention if mention is not None else intent.mention
    if mention is not None:
        ids, via = _by_name(ontology, mention, lang)
        in_scope = [eid for eid in ids if entities[eid]["domain"] in domains]
        if in_scope:
            return _choose(ontology, in_scope, via, single=True)
        if ids:
            return _choose(ontology, ids, via, single=True)
        words = norm(mention, lang).split()
        if len(words) > 1 and words[-1] in lang.word_set("trailing_type_words"):
            ids, _ = _by_name(ontology, " ".join(words[:-1]), lang)
            partial = [eid for eid in ids if entities[eid]["domain"] in domains]
            if partial:
                return _choose(ontology, partial, "partial", single=True)
        plain = " ".join(w for w in norm(mention, lang).split() if w not in lang.word_set("generic"))
        noun = noun_of(plain, lang) or noun_of(plain, lang, lists=True)
        if noun is not None:
            return resolve(ontology, Intent(**{**asdict(intent), "mention": None, "noun": noun}))
        place_noun = _area_and_noun(ontology, mention, lang)
        if place_noun is not None:
            return resolve(ontology, Intent(**{**asdict(intent), "mention": None, "area": place_noun[0], "noun": place_noun[1]}))
        partial = _part_of_names(ontology, mention, domains, lang)
        if partial:
            return _choose(ontology, partial, "partial", single=True)
        return Resolution(UNKNOWN, via="name")
    if intent.noun is not None:
        lists = list_nouns(lang)
        noun = device_nouns(lang).get(intent.noun) or lists.get(intent.noun)
        if noun is None:
            return Resolution(UNKNOWN, via="noun")
        matching = [eid for eid, e in entities.items() if e["domain"] in domains and noun_matches(noun, e)]
        place = ("area", intent.area) if intent.area else ("floor", intent.floor) if intent.floor else None
        if place is not None:
            scoped = [eid for eid in matching if _in_place(entities[eid], *place, lang)]
            return _choose(ontology, scoped, "area_type", single=False)
        if not matching and intent.noun in lists:
            matching = [eid for eid, e in entities.items() if e["domain"] in domains]  # the only list, if there is one
        return _choose(ontology, matching, "noun", single=not intent.every)
    if intent.area is not None or intent.floor is not None:
        key, place = ("area", intent.area) if intent.area is not None else ("floor", intent.floor)
        scoped = [eid for eid, e in entities.items() if e["domain"] in domains and _in_place(e, key, place or "", lang)
                  and class_matches(e, intent.device_class, lang)]
        return _choose(ontology, scoped, _place_via(ontology, key, place or "", lang), single=False)
    capable = [eid for eid, e in entities.items() if e["domain"] in domains
               and class_matches(e, intent.device_class, lang)]
    return _choose(ontology, capable, "noun" if intent.every else "implied", single=not intent.every)


def capability_gap(entity: dict[str, Any], intent: Intent) -> str | None:
    """Why ``entity`` cannot do ``intent`` (the words after "can't", in the intent's language), or ``None`` when it can.

    The validator's own rule (:func:`statewise_protocol.capability_problem`) for the
    tool the intent acts through, with the value as that tool's argument.
    """
    lang = language_of(intent)
    spec = kind_tool(intent.kind, entity["domain"])
    if spec is None:
        return lang.tool_words(_kind_specs(intent.kind)[0].name, "cannot")
    arg = STATEFUL[intent.kind].value_arg if intent.needs_state else (spec.intent or {}).get("value")
    arguments = {arg: on_grid(intent.value, spec.arguments.get(arg, {}).get("multipleOf"))} if arg and intent.value is not None else {}
    problem = capability_problem(spec, entity["id"], entity, arguments)
    return lang.tool_words(spec.name, problem.say, problem.fields, arguments) if problem else None


def on_grid(value: Any, step: float | None) -> Any:
    """``value`` on the tool argument's grid (its schema's ``multipleOf``): 40.3 degrees is set as 40.5, as a thermostat's step rounds it."""
    if step is None or not isinstance(value, int | float) or isinstance(value, bool):
        return value
    snapped = math.floor(value / step + 0.5) * step
    return int(snapped) if float(snapped).is_integer() else round(snapped, 6)
