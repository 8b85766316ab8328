"""Command intents and how they resolve against an ontology.

An :class:`Intent` is what a sentence asks for, independent of its wording:
a ``kind`` (see :data:`KINDS`), a value, and a target named by ``mention`` (a
name, alias or generic noun as spoken) or by ``area`` (a name or an area
alias) or ``floor``, plus ``domain``. :func:`resolve` maps the target to
entity ids; :func:`capability_gap` says why an entity cannot do the intent.
Pure functions, no randomness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from statewise_protocol import Ontology

# kind -> (domains it applies to, needs STATE to plan)
KINDS: dict[str, tuple[frozenset[str], bool]] = {
    "power": (frozenset({"light", "switch", "fan", "media_player"}), False),
    "toggle": (frozenset({"light", "switch", "fan", "media_player"}), True),
    "brightness": (frozenset({"light"}), False),
    "brightness_step": (frozenset({"light"}), True),
    "color": (frozenset({"light"}), False),
    "color_temp": (frozenset({"light"}), False),
    "cover": (frozenset({"cover"}), False),
    "cover_position": (frozenset({"cover"}), False),
    "climate_temp": (frozenset({"climate"}), False),
    "climate_step": (frozenset({"climate"}), True),
    "climate_mode": (frozenset({"climate"}), False),
    "fan_speed": (frozenset({"fan"}), False),
    "media": (frozenset({"media_player"}), True),
    "volume": (frozenset({"media_player"}), False),
    "volume_step": (frozenset({"media_player"}), True),
    "tv_input": (frozenset({"media_player"}), True),
    "play_title": (frozenset({"media_player"}), True),
    "lock": (frozenset({"lock"}), False),
    "valve": (frozenset({"valve"}), False),
    "vacuum": (frozenset({"vacuum"}), False),
    "scene": (frozenset({"scene"}), False),
    "script": (frozenset({"script"}), False),
    "todo_add": (frozenset({"todo"}), False),
    "out_of_scope": (frozenset(), False),
}
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
# What a kind does, for refusals on the wrong kind of device.
VERBS: dict[str, str] = {
    "power": "be switched on or off",
    "toggle": "be switched on or off",
    "brightness": "be dimmed",
    "brightness_step": "be dimmed",
    "color": "change colour",
    "color_temp": "change its white colour temperature",
    "cover": "open or close",
    "cover_position": "move to a set position",
    "climate_temp": "set a target temperature",
    "climate_step": "set a target temperature",
    "climate_mode": "change heating or cooling mode",
    "fan_speed": "change speed",
    "media": "control playback",
    "volume": "change its volume",
    "volume_step": "change its volume",
    "tv_input": "switch inputs",
    "play_title": "play titles from Plex",
    "lock": "lock or unlock",
    "valve": "open or close",
    "vacuum": "clean",
    "scene": "be activated as a scene",
    "script": "run as a script",
    "todo_add": "take list items",
}
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
        return KINDS[self.kind][1]


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
    """Why ``entity`` cannot do ``intent`` (a short phrase), or ``None`` when it can."""
    kind, value = intent.kind, intent.value
    domain, caps = entity["domain"], entity.get("capabilities") or {}
    if domain not in KINDS[kind][0]:
        return VERBS.get(kind, "do that")
    needs: dict[str, tuple[bool, str]] = {
        "power": (domain != "media_player" or bool(caps.get("power")), "be switched on or off"),
        "toggle": (domain != "media_player" or bool(caps.get("power")), "be switched on or off"),
        "brightness": (bool(caps.get("brightness")), "be dimmed"),
        "brightness_step": (bool(caps.get("brightness")), "be dimmed"),
        "color": (bool(caps.get("color")), "change colour"),
        "cover": (value != "stop" or bool(caps.get("stop")), "be stopped midway"),
        "cover_position": (bool(caps.get("position")), "move to a set position"),
        "climate_mode": (value in (caps.get("hvac_modes") or []), f"run in {str(value).replace('_', ' ')} mode"),
        "fan_speed": (bool(caps.get("speed")), "change speed"),
        "media": (bool(caps.get("playback")), "control playback"),
        "volume": (bool(caps.get("volume")), "change its volume"),
        "volume_step": (bool(caps.get("volume")), "change its volume"),
        "tv_input": (value in (caps.get("inputs") or []), f"switch to {str(value).replace('_', ' ')}"),
        "play_title": ("plex" in (caps.get("inputs") or []), "play titles from Plex"),
    }
    if kind == "color_temp":
        low_high = caps.get("color_temp")
        if not low_high:
            return "change its white colour temperature"
        if not low_high[0] <= value <= low_high[1]:
            return f"go to {value} kelvin, its range is {low_high[0]} to {low_high[1]}"
    if kind in ("climate_temp", "climate_step"):
        low_high = caps.get("temp_range")
        if not low_high:
            return "set a target temperature"
        if kind == "climate_temp" and not low_high[0] <= value <= low_high[1]:
            return f"be set to {value} degrees, its range is {low_high[0]} to {low_high[1]}"
    ok, why = needs.get(kind, (True, ""))
    return None if ok else why
