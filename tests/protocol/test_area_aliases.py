"""The optional ``area_aliases`` entity field: schema, canonical and prompt forms, round trip, old exports unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from statewise_protocol import ExportError, Ontology, load_export, parse_ontology, parse_system_text, prompt_entity, system_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _entity(eid: str = "light.desk", **extra: Any) -> dict[str, Any]:
    return {"id": eid, "name": "Desk", "aliases": ["work lamp"], "area": "Office", "floor": None, "domain": eid.split(".")[0],
            "device_class": None, "capabilities": {}, "present": True, **extra}


def _doc(*entities: dict[str, Any]) -> dict[str, Any]:
    return {"format": "statewise.ontology", "version": 0, "entities": list(entities)}


def test_schema_accepts_area_aliases_and_rejects_bad_ones() -> None:
    assert parse_ontology(_doc(_entity(area_aliases=["study", "den"]))).entities["light.desk"]["area_aliases"] == ["den", "study"]
    for bad, message in (([""], "non-empty"), (["study", "study"], "non-unique"), ([3], "not of type 'string'"), ("study", "not of type 'array'")):
        with pytest.raises(ExportError, match=message) as err:
            parse_ontology(_doc(_entity(area_aliases=bad)))
        assert err.value.field.startswith("$.entities[0].area_aliases")


def test_canonical_form_only_when_non_empty_after_area_sorted() -> None:
    with_aliases = Ontology.from_entities([_entity(area_aliases=["study", "den", "study"])])
    ent = with_aliases.entities["light.desk"]
    assert list(ent) == ["id", "name", "aliases", "area", "area_aliases", "floor", "domain", "device_class", "capabilities", "present"]
    assert ent["area_aliases"] == ["den", "study"]
    assert '"area":"Office","area_aliases":["den","study"],"floor":null' in with_aliases.file_json()
    # Empty or missing: the key is left out, the bytes and hash are those of an entity without it.
    plain = Ontology.from_entities([_entity()])
    assert "area_aliases" not in plain.file_json()
    for empty in ([], None):
        other = Ontology.from_entities([_entity(area_aliases=empty)])
        assert other.file_json() == plain.file_json() and other.hash() == plain.hash()
    assert with_aliases.hash() != plain.hash()


def test_prompt_form_says_area_aliases_once_per_area() -> None:
    ontology = Ontology.from_entities([_entity(area_aliases=["study", "den"]), _entity("switch.desk_fan", area_aliases=["den", "study"])])
    [floor] = json.loads(ontology.prompt_json)
    assert floor == {"areas": [{"area": "Office", "aliases": ["den", "study"], "entities": {
        "light.desk": {"names": ["Desk", "work lamp"]}, "switch.desk_fan": {"names": ["Desk", "work lamp"]}}}]}  # fmt: skip
    assert ontology.prompt_json.count("study") == 1
    for empty in ([], None):
        [floor] = json.loads(Ontology.from_entities([_entity(area_aliases=empty)]).prompt_json)
        assert "aliases" not in floor["areas"][0]
    assert prompt_entity(_entity()) == {"names": ["Desk", "work lamp"]}


def test_parse_system_text_round_trips_area_aliases() -> None:
    ontology = Ontology.from_entities([_entity(area_aliases=["study", "den"]), _entity("switch.fan", area="Hall"), _entity("light.attic", area=None)])
    state = {"light.desk": {"state": "on"}}
    for given in (None, state):
        text = system_text(ontology, given)
        parsed, parsed_state = parse_system_text(text)
        assert parsed.file_json() == ontology.file_json() and parsed.hash() == ontology.hash()
        assert system_text(parsed, parsed_state) == text
    assert parse_system_text(system_text(ontology))[0].entities["light.desk"]["area_aliases"] == ["den", "study"]


@pytest.mark.parametrize("home", ["small_flat", "large_house"])
def test_exports_without_area_aliases_are_unchanged(home: str) -> None:
    """Old exports stay valid, byte-identical and keep their manifest hash (load_export recomputes it)."""
    export = load_export(EXAMPLES / home)
    text = (EXAMPLES / home / "ontology.json").read_text(encoding="utf-8")
    assert "area_aliases" not in text
    assert export.ontology.file_json() == text
    doc = copy.deepcopy(json.loads(text))
    for ent in doc["entities"]:
        ent["area_aliases"] = []
    assert parse_ontology(doc).file_json() == text, "an empty list is the same as no field"
