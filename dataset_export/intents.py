"""Command intents and how they resolve against an ontology.

An :class:`Intent` is what a sentence asks for, independent of its wording:
a ``kind`` (see :func:`kinds`: a tool's ``intent``, or one of :data:`STATEFUL`), a value, and a target named by ``mention`` (a
name, alias or generic noun as spoken) or by ``area`` (a name or an area
alias) or ``floor``, plus ``domain``. :func:`resolve` maps the target to
entity ids; :func:`capability_gap` says why an entity cannot do the intent.
Pure functions, no randomness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from statewise_protocol import Ontology, ToolSpec, capability_problem, load_tools, tools_for

# Intents planned from STATE (row 8/9 of the policy): kind -> the tool it acts through, by name, or the
# absolute kind whose tools it uses (toggle switches power). Every other kind is a tool's ``intent``.
STATEFUL: dict[str, str] = {
    "toggle": "power",
    "brightness_step": "light_brightness",
    "climate_step": "climate_temperature",
    "volume_step": "media_volume",
    "media": "media_control",
    "tv_input": "tv_input",
    "play_title": "plex_play",
}
# The argument a stateful kind's value is checked as (its other values only steer the plan).
STATEFUL_VALUE_ARG = {"tv_input": "input"}
OUT_OF_SCOPE = "out_of_scope"
# Generic nouns a user may say instead of a name: noun -> (domain, device_class or None)
GENERIC_NOUNS: dict[str, tuple[str, str | None]] = {
    "light": ("light", None),
    "lamp": ("light", None),
    "fan": ("fan", None),
    "tv": ("media_player", "tv"),
    "television": ("media_player", "tv"),
    "speaker": ("media_player", "speaker"),
    "thermostat": ("climate", None),
    "heating": ("climate", None),
    "vacuum": ("vacuum", None),
    "robot vacuum": ("vacuum", None),
    "blinds": ("cover", "blind"),
    "sprinkler": ("valve", None),
}


def _kind_specs(kind: str) -> list[ToolSpec]:
    """The tools a kind acts through, in registry order."""
    via = STATEFUL.get(kind, kind)
    tools = load_tools()
    if via in tools:
        return [tools[via]]
    return [s for s in tools.values() if (s.intent or {}).get("kind") == via]


def kinds() -> dict[str, frozenset[str]]:
    """Every intent kind -> the domains it applies to (from the tool registry), ``out_of_scope`` included."""
    out = {k: frozenset().union(*(s.domains for s in _kind_specs(k))) for k in sorted({(s.intent or {}).get("kind") for s in load_tools().values()} - {None})}
    out.update({k: frozenset().union(*(s.domains for s in _kind_specs(k))) for k in STATEFUL})
    out[OUT_OF_SCOPE] = frozenset()
    return out


def kind_tool(kind: str, domain: str) -> ToolSpec | None:
    """The tool that does ``kind`` on a ``domain`` entity (``None`` when none does)."""
    via = STATEFUL.get(kind, kind)
    tools = load_tools()
    if via in tools:
        return tools[via] if domain in tools[via].domains else None
    found = tools_for(via, domain)
    return found[0] if found else None


OK, UNKNOWN, AMBIGUOUS, NOT_PRESENT = "ok", "unknown_entity", "ambiguous", "not_present"


@dataclass(frozen=True)
class Intent:
    """What a command asks for (see module docstring)."""

    kind: str
    value: Any = None
    mention: str | None = None
    area: str | None = None
    floor: str | None = None
    domain: str | None = None
    topic: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``None`` fields left out)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    @property
    def needs_state(self) -> bool:
        """True when no plan can be made without the targets' current state."""
        return self.kind in STATEFUL


@dataclass(frozen=True)
class Resolution:
    """Target entity ids (sorted) or why there are none."""

    status: str
    ids: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    via_alias: bool = False


def norm(text: str) -> str:
    """Case-folded, single-spaced, without a leading article."""
    words = text.casefold().split()
    while words and words[0] in ("the", "my", "our"):
        words = words[1:]
    return " ".join(words)


_INDEX: dict[int, tuple[Ontology, dict[str, list[str]], dict[str, list[str]]]] = {}


def _names(ontology: Ontology) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(normalised name -> ids, normalised alias -> ids), built once per ontology object."""
    cached = _INDEX.get(id(ontology))
    if cached is None or cached[0] is not ontology:
        names: dict[str, list[str]] = {}
        aliases: dict[str, list[str]] = {}
        for eid, e in ontology.entities.items():
            names.setdefault(norm(e["name"]), []).append(eid)
            for alias in e["aliases"]:
                aliases.setdefault(norm(alias), []).append(eid)
        if len(_INDEX) > 64:
            _INDEX.clear()
        cached = _INDEX[id(ontology)] = (ontology, names, aliases)
    return cached[1], cached[2]


def _match_names(ontology: Ontology, mention: str) -> tuple[list[str], bool]:
    wanted = norm(mention)
    names, aliases = _names(ontology)
    by_name = names.get(wanted, [])
    by_alias = [eid for eid in aliases.get(wanted, []) if eid not in by_name]
    return sorted(set(by_name + by_alias)), bool(by_alias) and not by_name


def _present(ontology: Ontology, eid: str) -> bool:
    return bool(ontology.entities[eid].get("present", True))


def resolve(ontology: Ontology, intent: Intent) -> Resolution:
    """Resolve the intent's target: names/aliases first, then generic nouns, or an area/floor scope."""
    if intent.mention is not None:
        ids, via_alias = _match_names(ontology, intent.mention)
        if len(ids) > 1:
            return Resolution(AMBIGUOUS, candidates=tuple(ids), via_alias=via_alias)
        if len(ids) == 1:
            status = OK if _present(ontology, ids[0]) else NOT_PRESENT
            return Resolution(status, tuple(ids), tuple(ids), via_alias)
        generic = GENERIC_NOUNS.get(norm(intent.mention))
        if generic is None:
            return Resolution(UNKNOWN)
        domain, device_class = generic
        all_ids = sorted(
            eid for eid, e in ontology.entities.items() if e["domain"] == domain and (device_class is None or e["device_class"] == device_class)
        )
        present = [eid for eid in all_ids if _present(ontology, eid)]
        if len(present) == 1:
            return Resolution(OK, tuple(present), tuple(present))
        if len(present) > 1:
            return Resolution(AMBIGUOUS, candidates=tuple(present))
        return Resolution(NOT_PRESENT if all_ids else UNKNOWN, tuple(all_ids), tuple(all_ids))
    if intent.area is None and intent.floor is None:
        return Resolution(UNKNOWN)
    key, place = ("area", intent.area) if intent.area is not None else ("floor", intent.floor)
    wanted = norm(place or "")
    by_name: list[str] = []
    by_alias: list[str] = []  # an area alias names its area exactly like the area's name
    for eid, e in sorted(ontology.entities.items()):
        if e["domain"] != intent.domain or not e.get(key):
            continue
        if norm(e[key]) == wanted:
            by_name.append(eid)
        elif key == "area" and wanted in {norm(a) for a in e.get("area_aliases") or ()}:
            by_alias.append(eid)
    scoped = sorted(by_name + by_alias)
    via_alias = bool(by_alias) and not by_name
    present = [eid for eid in scoped if _present(ontology, eid)]
    if present:
        return Resolution(OK, tuple(present), tuple(present), via_alias)
    return Resolution(NOT_PRESENT if scoped else UNKNOWN, tuple(scoped), tuple(scoped), via_alias)


def capability_gap(entity: dict[str, Any], intent: Intent) -> str | None:
    """Why ``entity`` cannot do ``intent`` (the words after "can't"), or ``None`` when it can.

    The validator's own rule (:func:`statewise_protocol.capability_problem`) for the
    tool the intent acts through, with the value as that tool's argument.
    """
    spec = kind_tool(intent.kind, entity["domain"])
    if spec is None:
        return _kind_specs(intent.kind)[0].said("cannot", {}) or "do that"
    arg = STATEFUL_VALUE_ARG.get(intent.kind) if intent.needs_state else (spec.intent or {}).get("value")
    arguments = {arg: intent.value} if arg and intent.value is not None else {}
    problem = capability_problem(spec, entity["id"], entity, arguments)
    return problem.words if problem else None
