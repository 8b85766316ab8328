"""The ONTOLOGY JSON the model reads: the home grouped so nothing repeats, and its inverse.

Shape (``docs/CONTRACTS.md`` has an example)::

    [{"floor": F, "areas": [{"area": A, "aliases": [...], "entities": {ID: ENTITY, ...}}, ...]}, ...]

- floors sorted by name, then the group of areas without a floor (no ``"floor"`` key);
  areas sorted by name, then the entities without an area (no ``"area"`` key);
- ``ENTITY`` is ``{"names": [name, *aliases], "class": device_class, "can": "cap cap",
  <capability>: value, "present": false}``; keys without a value are left out;
- ``can`` names the capabilities that are on (true) or at Home Assistant's default for
  the domain (:data:`DEFAULT_RANGES`: a light with ``color_temp`` in ``can`` spans
  2000-6535 K); any other capability is its own key with its value (``"inputs": [...]``,
  ``"color_temp": [2700, 6500]``). False and empty capabilities are left out;
- ``present`` appears only as ``false``; the domain is the id's prefix.

Same information as the export's entities (ids, names, aliases, areas and their aliases,
floors, device class, capabilities, present:false): :func:`entities_from_prompt` gives
them back, validated against ``schemas/v0/prompt/ontology.schema.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .schema_validator import schema_validator

PROMPT_SCHEMA = Path(__file__).parent / "schemas" / "v0" / "prompt" / "ontology.schema.json"
EXPORT_SCHEMA = Path(__file__).parent / "schemas" / "v0" / "export" / "ontology.schema.json"
# Home Assistant's defaults where an integration sets none: said once here, left out of every prompt.
DEFAULT_RANGES: dict[tuple[str, str], list[float | int]] = {
    ("light", "color_temp"): [2000, 6535],  # light.DEFAULT_MIN_KELVIN, DEFAULT_MAX_KELVIN
    ("climate", "temp_range"): [7, 35],  # climate.DEFAULT_MIN_TEMP, DEFAULT_MAX_TEMP (Celsius)
    ("humidifier", "humidity_range"): [0, 100],  # humidifier.DEFAULT_MIN_HUMIDITY, DEFAULT_MAX_HUMIDITY
    ("water_heater", "temp_range"): [43.3, 60],  # water_heater 110-140 F as Home Assistant shows them in Celsius
}
ENTITY_KEYS = frozenset({"names", "class", "can", "present"})


def prompt_entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    """One entity's value under its id (see the module docstring)."""
    out: dict[str, Any] = {"names": [entity["name"], *(entity.get("aliases") or [])]}
    if entity.get("device_class"):
        out["class"] = entity["device_class"]
    caps = {k: v for k, v in (entity.get("capabilities") or {}).items() if v not in (False, None, [], {})}
    can = [k for k, v in caps.items() if v is True or DEFAULT_RANGES.get((entity["domain"], k)) == v]
    if can:
        out["can"] = " ".join(can)
    out.update((k, v) for k, v in caps.items() if k not in can)
    if not entity.get("present", True):
        out["present"] = False
    return out


def _area_key(entity: Mapping[str, Any]) -> tuple[bool, str, tuple[str, ...]]:
    return (entity.get("area") is None, entity.get("area") or "", tuple(entity.get("area_aliases") or ()))


def prompt_document(entities: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ONTOLOGY value for canonical entities (sorted by id, as :class:`~.export_format.Ontology` holds them)."""
    floors: dict[tuple[bool, str], dict[tuple[bool, str, tuple[str, ...]], dict[str, Any]]] = {}
    for ent in entities:
        areas = floors.setdefault((ent.get("floor") is None, ent.get("floor") or ""), {})
        key = _area_key(ent)
        if key not in areas:
            group: dict[str, Any] = {"area": ent["area"]} if ent.get("area") is not None else {}
            if ent.get("area_aliases"):
                group["aliases"] = list(ent["area_aliases"])
            areas[key] = group | {"entities": {}}
        areas[key]["entities"][ent["id"]] = prompt_entity(ent)
    out = []
    for (no_floor, floor), areas in sorted(floors.items()):
        group = {} if no_floor else {"floor": floor}
        out.append(group | {"areas": [areas[k] for k in sorted(areas)]})
    return out


@cache
def _validator() -> Draft202012Validator:
    return schema_validator(json.loads(PROMPT_SCHEMA.read_text(encoding="utf-8")))


@cache
def _flags() -> frozenset[str]:
    """Capabilities that are true or false (the export schema's booleans): what ``can`` may name besides default ranges."""
    caps = json.loads(EXPORT_SCHEMA.read_text(encoding="utf-8"))["$defs"]["capabilities"]["properties"]
    return frozenset(name for name, rule in caps.items() if rule.get("type") == "boolean")


def _path(parts: Iterable[Any]) -> str:
    """``ONTOLOGY[0].areas[1].entities.light.x``: where in the document."""
    return "ONTOLOGY" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def entities_from_prompt(document: Any) -> list[dict[str, Any]]:
    """The export entities an ONTOLOGY value describes (``ValueError`` naming the field when it is not one)."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        err = errors[0]
        raise ValueError(f"{_path(err.absolute_path)}: {err.message[:120]}")
    entities = []
    for i, floor_group in enumerate(document):
        for j, area_group in enumerate(floor_group["areas"]):
            for eid, value in area_group["entities"].items():
                domain = eid.split(".", 1)[0]
                caps = {k: v for k, v in value.items() if k not in ENTITY_KEYS}
                for name in value.get("can", "").split():
                    if (domain, name) not in DEFAULT_RANGES and name not in _flags():
                        raise ValueError(f"{_path([i, 'areas', j, 'entities', eid, 'can'])}: {name!r} is neither a capability flag nor a {domain} default")
                    caps[name] = list(DEFAULT_RANGES[(domain, name)]) if (domain, name) in DEFAULT_RANGES else True
                entities.append({
                    "id": eid,
                    "name": value["names"][0],
                    "aliases": value["names"][1:],
                    "area": area_group.get("area"),
                    "area_aliases": area_group.get("aliases", []),
                    "floor": floor_group.get("floor"),
                    "domain": domain,
                    "device_class": value.get("class"),
                    "capabilities": caps,
                    "present": value.get("present", True),
                })  # fmt: skip
    return entities
