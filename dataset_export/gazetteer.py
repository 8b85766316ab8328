"""The second reader: Home Assistant's own fuzzy, constraint-driven matcher (``gazetteer-matcher``), English only.

hassil reads a sentence only when a template says it word for word. People say
devices by part of their name ("the dyson"), by name plus type ("the back door
lock"), by type or class ("close the garage door"), by floor ("the downstairs
lamps"), several at once ("the hallway and office lights"): Home Assistant 2026.x's
conversation component reads those with ``gazetteer-matcher``, which rejects what it
cannot place instead of guessing. This module gives it the home's ontology as its
gazetteer (entity ids, names, aliases, areas with aliases, floors, device classes) and
turns an accepted interpretation's frames into an :class:`~.intents.Intent` through the
tool registry's ``hass`` entries (:func:`~.templates.hass_meanings`), the same table
that maps hassil's templates, so there is no second table of intents.

The matcher needs ``home-assistant-intents`` >= 2026.8.24; with an older release (the
oldest-intents test leg) or without the package, :func:`version` is ``None`` and the
builder reads with hassil alone (the card says which readers read).
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import replace
from functools import cache
from typing import Any

from statewise_protocol import Ontology

from .intents import UNKNOWN, Intent, resolve, target_domains
from .language import Language
from .templates import hass_meanings

MIN_INTENTS = (2026, 8, 24)
# Home Assistant intents v0 does as another: v0 has no area cleaning, so cleaning a place starts the vacuum there
# (:meth:`GazetteerReader._widened`: the vacuum of that area, else of its floor, else the home's only one).
READ_AS = {"HassVacuumCleanArea": "HassVacuumStart"}
NAME = "gazetteer-matcher"


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


@cache
def version() -> str | None:
    """The matcher's version when it can run here, else ``None`` (missing, or intents older than it needs)."""
    try:
        intents = importlib.metadata.version("home-assistant-intents")
        found = importlib.metadata.version(NAME)
    except importlib.metadata.PackageNotFoundError:
        return None
    if _release(intents) < MIN_INTENTS:
        return None
    try:
        import gazetteer_matcher  # noqa: F401
    except ImportError:
        return None
    return found


# The languages the matcher reads (its vocabulary is English); other languages are read by hassil alone.
LANGUAGES = ("en",)


def readers() -> list[str]:
    """The readers a build reads with, with versions (the card and stats say them)."""
    found = [f"hassil {importlib.metadata.version('hassil')}"]
    if version():
        found.append(f"{NAME} {version()}")
    return [*found, f"home-assistant-intents {importlib.metadata.version('home-assistant-intents')}"]


def _slug(text: str) -> str:
    return re.sub(r"\W+", "_", text.casefold()).strip("_")


def gazetteer(ontology: Ontology) -> dict[str, Any]:
    """The matcher's ``home``: the ontology's floors, areas (with aliases) and entities, keyed by slug and entity id."""
    floors: dict[str, dict[str, Any]] = {}
    areas: dict[str, dict[str, Any]] = {}
    entities: dict[str, dict[str, Any]] = {}
    for eid, e in sorted(ontology.entities.items()):
        if e.get("floor"):
            floors.setdefault(_slug(e["floor"]), {"name": e["floor"], "aliases": []})
        if e.get("area"):
            area = areas.setdefault(_slug(e["area"]), {"name": e["area"], "aliases": [], "floor": _slug(e["floor"]) if e.get("floor") else None})
            area["aliases"] += [a for a in e.get("area_aliases") or () if a not in area["aliases"]]
        entity: dict[str, Any] = {"name": e["name"], "aliases": list(e.get("aliases") or ()), "domain": e["domain"],
                                  "area": _slug(e["area"]) if e.get("area") else None}
        if e.get("device_class"):
            entity["device_class"] = e["device_class"]
        entities[eid] = entity
    return {"areas": areas, "floors": floors, "entities": entities}


@cache
def _matcher() -> Any:
    from gazetteer_matcher import GazetteerMatcher

    return GazetteerMatcher(home={"areas": {}, "floors": {}, "entities": {}})


_HOME: list[int] = [0]  # id of the reader whose home the shared matcher holds (swapping a home rebuilds its tagger)


class GazetteerReader:
    """Reads sentences of one home with ``gazetteer-matcher`` (one matcher per process, its home swapped per reader)."""

    def __init__(self, ontology: Ontology, lang: Language) -> None:
        """The home's gazetteer (the matcher is built once and shared); ``lang`` must be one of :data:`LANGUAGES`."""
        if lang.code not in LANGUAGES:
            raise ValueError(f"{NAME} reads {', '.join(LANGUAGES)}, not {lang.code}")
        self.ontology = ontology
        self.lang = lang
        self.home = gazetteer(ontology)
        self.areas = {k: v["name"] for k, v in self.home["areas"].items()}
        self.floors = {k: v["name"] for k, v in self.home["floors"].items()}

    def frames(self, text: str) -> list[tuple[str, dict[str, Any]]]:
        """The accepted interpretation's frames as (Home Assistant intent, slots); empty when the matcher rejects the sentence."""
        matcher = _matcher()
        if _HOME[0] != id(self):
            matcher.set_home(self.home)
            _HOME[0] = id(self)
        result = matcher.interpret(text)
        if not result.accepted or result.ambiguous or any(f.unexplained_important_tokens for f in result.frames):
            return []  # a word it recognised and found no use for ("netflix" in "put the tv on netflix"): not read
        return [(f.intent, dict(f.slots)) for f in result.frames]

    def intent(self, text: str) -> Intent | None:
        """The v0 intent of ``text``, or ``None`` when the matcher rejects it or a frame is no v0 intent.

        Two frames asking the same thing of two named devices are one intent naming both
        ("turn off the desk lamp and the fan"); other frames are steps in the order said
        ("turn off the hallway and office lights": each area a step; "turn on X and turn off Y").
        """
        intents = [self._frame_intent(name, slots) for name, slots in self.frames(text)]
        if not intents or any(i is None for i in intents):
            return None
        steps = [i for i in intents if i is not None]
        if len(set(steps)) < len(steps):
            return None  # a step repeated: the matcher carried a target over words it could not place ("... and the sauna")
        first = steps[0]
        if len(steps) == 1:
            return first
        second = steps[1]
        if (len(steps) == 2 and first.mention and second.mention and first.area is None and second.area is None
                and (first.kind, first.value) == (second.kind, second.value) and first.mention != second.mention):
            return replace(first, also=second.mention, domains=None)
        return replace(first, then=tuple(steps[1:]))

    def _frame_intent(self, name: str, slots: dict[str, Any]) -> Intent | None:
        entities = self.ontology.entities
        eid = slots.get("name")
        if eid is not None and eid not in entities:
            return None
        target_domain = entities[eid]["domain"] if eid else slots.get("domain")
        for meaning in hass_meanings(READ_AS.get(name, name), {}, set(slots)):
            if target_domain is not None and meaning.domains and target_domain not in meaning.domains:
                continue
            if meaning.slot is not None and meaning.slot not in slots:
                continue
            value = slots[meaning.slot] if meaning.slot else meaning.value
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            domains = tuple(sorted(meaning.domains & {target_domain})) if target_domain and meaning.domains else None
            intent = Intent(meaning.kind, value, mention=entities[eid]["name"] if eid else None,
                            area=self.areas.get(str(slots.get("area"))) if "area" in slots else None,
                            floor=self.floors.get(str(slots.get("floor"))) if "floor" in slots else None,
                            device_class=slots.get("device_class"), domains=domains,
                            noun=meaning.name if meaning.name and eid is None else None)
            if target_domains(intent):
                return self._widened(intent) if name in READ_AS else intent
        return None

    def _widened(self, intent: Intent) -> Intent:
        """A place with no device for the intent read as the place around it: the area's floor, then the home ("clean the bedroom")."""
        if resolve(self.ontology, intent).status != UNKNOWN or intent.area is None:
            return intent
        floors = {e["floor"] for e in self.ontology.entities.values() if e.get("area") == intent.area and e.get("floor")}
        on_floor = replace(intent, area=None, floor=floors.pop()) if len(floors) == 1 else None
        if on_floor is not None and resolve(self.ontology, on_floor).status != UNKNOWN:
            return on_floor
        return replace(intent, area=None)
