"""Ontology variants: the home with one small, realistic change, so the model reads the ONTOLOGY.

A model trained on one fixed ontology can answer from memory ("If the model
remembers something, that is a bug"), and breaks the day a lamp is added. A share
of every split's rows (:data:`VARIANT_SHARE`) is drawn in a variant of the home:

- ``removed``: one device is gone from the ontology (and from STATE);
- ``added``: a common device from :data:`CATALOGUE`, named as Home Assistant names
  devices (its area and what it is), in one of the home's areas;
- ``renamed``: a device has another name;
- ``aliased``: a device has an alias;
- ``absent``: a device is ``present: false`` (its STATE ``unavailable``).

Labels follow the variant: the teacher decides against the variant's ontology.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from statewise_protocol import Ontology, load_tools, slugify

VARIANT_SHARE = 0.25
CHANGES = ("removed", "added", "renamed", "aliased", "absent")

# domain, the device's key in each language's ``variant_devices`` (words.yaml: what it is, as the name says it), device class,
# capabilities
CATALOGUE: tuple[tuple[str, str, str | None, dict[str, Any]], ...] = (
    ("light", "reading lamp", None, {"brightness": True, "color_temp": [2200, 6500]}),
    ("light", "ceiling light", None, {"brightness": True}),
    ("light", "strip light", None, {"brightness": True, "color": True}),
    ("light", "floor lamp", None, {"brightness": True}),
    ("switch", "coffee machine", "outlet", {}),
    ("switch", "smart plug", "outlet", {}),
    ("switch", "heater", None, {}),
    ("fan", "fan", None, {"speed": True}),
    ("fan", "air purifier", None, {"speed": True}),
    ("media_player", "speaker", "speaker", {"power": True, "volume": True, "playback": True, "mute": True}),
    ("media_player", "tv", "tv", {"power": True, "volume": True, "playback": True, "inputs": ["hdmi_1", "hdmi_2", "netflix"]}),
    ("cover", "blinds", "blind", {"position": True, "stop": True}),
    ("cover", "curtains", "curtain", {"position": True}),
    ("climate", "thermostat", None, {"hvac_modes": ["heat", "off"], "temp_range": [5, 30]}),
    ("lock", "door lock", None, {}),
    ("vacuum", "robot vacuum", None, {}),
    ("humidifier", "dehumidifier", "dehumidifier", {"humidity_range": [30, 80]}),
    ("valve", "sprinkler", "water", {}),
)
# The names are the household's language's (words.yaml): ``variant_added`` ("{area} {device}"), ``variant_devices``
# (one per catalogue key), ``variant_renames`` ("Nook {name}") and ``variant_aliases`` ("big {noun}": the name's last word).
VARIANT_WORDS = ("variant_added", "variant_devices", "variant_renames", "variant_aliases")


@dataclass(frozen=True)
class Variant:
    """A changed home: its ontology, what changed (``label`` names it, empty for the export's own home)."""

    ontology: Ontology
    change: str = ""
    entity_id: str = ""

    @property
    def label(self) -> str:
        """``added:light.study_reading_lamp``-style description (empty for the home itself)."""
        return f"{self.change}:{self.entity_id}" if self.change else ""

    def states(self, home: dict[str, dict[str, Any]], rng: random.Random) -> dict[str, dict[str, Any]]:
        """The home's STATE as the variant has it: a removed device gone, an absent one unavailable, an added one drawn."""
        from .states import random_entry

        out = {eid: dict(entry) for eid, entry in home.items() if eid in self.ontology.entities}
        if self.change == "absent":
            out[self.entity_id] = {"state": "unavailable"}
        if self.change == "added":
            out[self.entity_id] = random_entry(self.ontology.entities[self.entity_id], rng)
        return out


def _entities(ontology: Ontology) -> list[dict[str, Any]]:
    return [dict(e) for e in ontology.entities.values()]


def make_variant(ontology: Ontology, change: str, rng: random.Random, words: Mapping[str, Any]) -> Variant | None:
    """One variant of ``ontology`` (``None`` when the home cannot have that change); names in ``words`` (a language's words.yaml)."""
    entities = _entities(ontology)
    present = [e for e in entities if e.get("present", True)]
    if change == "added":
        areas = sorted({(e["area"], e.get("floor") or "", tuple(e.get("area_aliases") or ())) for e in entities if e.get("area")}) or [("", "", ())]
        area, floor, area_aliases = rng.choice(areas)
        area, floor = area or None, floor or None
        domain, key, device_class, caps = rng.choice(CATALOGUE)
        what = words["variant_devices"][key]
        name = words["variant_added"].format(area=area, device=what) if area else what
        eid = f"{domain}.{slugify(name)}"
        if eid in ontology.entities:
            return None
        entities.append({"id": eid, "name": name, "aliases": [], "area": area, "area_aliases": list(area_aliases), "floor": floor,
                         "domain": domain, "device_class": device_class, "capabilities": dict(caps), "present": True})
        return Variant(Ontology.from_entities(entities), change, eid)
    if not present:
        return None
    # The changed device is one a command can reach (a v0 tool acts on its domain) where the home has one:
    # a renamed or absent temperature sensor teaches nothing about reading the ONTOLOGY.
    acting = {d for spec in load_tools().values() for d in spec.domains}
    target = rng.choice([e for e in present if e["domain"] in acting] or present)
    eid = target["id"]
    if change == "removed":
        return Variant(Ontology.from_entities([e for e in entities if e["id"] != eid]), change, eid)
    for e in entities:
        if e["id"] != eid:
            continue
        if change == "renamed":
            e["name"] = rng.choice(words["variant_renames"]).format(name=e["name"])
        elif change == "aliased":
            alias = rng.choice(words["variant_aliases"]).format(noun=e["name"].split()[-1].lower())
            if alias in e["aliases"]:
                return None
            e["aliases"] = [*e["aliases"], alias]
        elif change == "absent":
            e["present"] = False
    return Variant(Ontology.from_entities(entities), change, eid)
