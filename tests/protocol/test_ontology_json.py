"""The compact ONTOLOGY JSON: lossless for any valid ontology, deterministic, and strict on what it reads."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st
from statewise_protocol import (
    DEFAULT_RANGES,
    Ontology,
    entities_from_prompt,
    parse_ontology,
    parse_system_text,
    system_text,
)
from statewise_protocol.export_format import export_validator
from statewise_protocol.ontology_json import ENTITY_KEYS

NAMES = st.text(alphabet="abcdefgh XYZ+-'é", min_size=1, max_size=12).filter(str.strip)
SLUGS = st.text(alphabet="abcxyz_0123", min_size=1, max_size=8)
RANGE = st.lists(st.sampled_from([0, 7, 35, 43.3, 60, 100, 2000, 6535, 2700, 21.5]), min_size=2, max_size=2).map(sorted)
DOMAINS = ["light", "climate", "media_player", "humidifier", "water_heater", "cover", "switch", "sensor"]
CAPABILITIES = {
    "brightness": st.booleans(), "color": st.booleans(), "power": st.booleans(), "volume": st.booleans(), "playback": st.booleans(),
    "speed": st.booleans(), "position": st.booleans(), "stop": st.booleans(), "mute": st.booleans(),
    "color_temp": st.one_of(RANGE, st.just([2000, 6535])), "temp_range": st.one_of(RANGE, st.just([7, 35]), st.just([43.3, 60])),
    "humidity_range": st.one_of(RANGE, st.just([0, 100])), "inputs": st.lists(SLUGS, max_size=3, unique=True),
    "hvac_modes": st.lists(st.sampled_from(["off", "heat", "cool", "auto", "fan_only"]), max_size=3, unique=True),
}  # fmt: skip


@st.composite
def entities(draw: st.DrawFn) -> dict:
    domain = draw(st.sampled_from(DOMAINS))
    area = draw(st.one_of(st.none(), st.sampled_from(["Kitchen", "Hall", "Attic"])))
    return {
        "id": f"{domain}.{draw(SLUGS)}",
        "name": draw(NAMES),
        "aliases": draw(st.lists(NAMES, max_size=2, unique=True)),
        "area": area,
        "area_aliases": draw(st.lists(NAMES, max_size=2, unique=True)) if area else [],
        "floor": draw(st.one_of(st.none(), st.sampled_from(["Ground", "Upstairs"]))),
        "domain": domain,
        "device_class": draw(st.one_of(st.none(), st.sampled_from(["tv", "window", "outlet"]))),
        "capabilities": draw(st.dictionaries(st.sampled_from(sorted(CAPABILITIES)), st.none()).flatmap(
            lambda keys: st.fixed_dictionaries({k: CAPABILITIES[k] for k in keys}))),
        "present": draw(st.booleans()),
    }  # fmt: skip


def _unique(ents: list[dict]) -> list[dict]:
    return list({e["id"]: e for e in ents}.values())


def _meaningful(ontology: Ontology) -> dict:
    """What a prompt must keep: every field, with false and empty capabilities dropped (they say nothing)."""
    return {eid: {**e, "capabilities": {k: v for k, v in e["capabilities"].items() if v not in (False, [], None)}}
            for eid, e in ontology.entities.items()}  # fmt: skip


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.lists(entities(), min_size=1, max_size=12).map(_unique))
def test_round_trip_keeps_every_field(ents: list[dict]) -> None:
    ontology = parse_ontology({"format": "statewise.ontology", "version": 0, "entities": ents})
    for state in (None, {ents[0]["id"]: {"state": "on"}}):
        text = system_text(ontology, state)
        parsed, parsed_state = parse_system_text(text)
        assert parsed_state == state
        assert _meaningful(parsed) == _meaningful(ontology)
        assert system_text(parsed, parsed_state) == text
        assert not list(export_validator("ontology").iter_errors(parsed.document()))


@settings(max_examples=100, derandomize=True, database=None, deadline=None)
@given(st.lists(entities(), min_size=1, max_size=12).map(_unique), st.randoms(use_true_random=False))
def test_same_home_same_bytes_in_any_order(ents: list[dict], rnd) -> None:
    shuffled = [dict(e, aliases=list(reversed(e["aliases"]))) for e in ents]
    rnd.shuffle(shuffled)
    assert Ontology.from_entities(shuffled).prompt_json == Ontology.from_entities(ents).prompt_json


def test_no_capability_name_can_be_mistaken_for_an_entity_key() -> None:
    capability_names = set(export_validator("ontology").schema["$defs"]["capabilities"]["properties"])
    assert not capability_names & ENTITY_KEYS
    assert {name for _, name in DEFAULT_RANGES} <= capability_names


@pytest.mark.parametrize(("document", "where"), [
    ({"areas": []}, "ONTOLOGY"),
    ([{"areas": [{"entities": {"Light": {"names": ["x"]}}}]}], "ONTOLOGY[0].areas[0].entities"),
    ([{"areas": [{"entities": {"light.x": {"names": []}}}]}], "ONTOLOGY[0].areas[0].entities.light.x.names"),
    ([{"areas": [{"entities": {"light.x": {"names": ["x"], "can": "Brightness!"}}}]}], "ONTOLOGY[0].areas[0].entities.light.x.can"),
    ([{"areas": [{"entities": {"light.x": {"names": ["x"], "present": True}}}]}], "ONTOLOGY[0].areas[0].entities.light.x.present"),
    ([{"floor": "Up", "rooms": []}], "ONTOLOGY[0]"),
])  # fmt: skip
def test_bad_documents_name_the_field(document, where) -> None:
    with pytest.raises(ValueError) as err:
        entities_from_prompt(document)
    assert str(err.value).startswith(where + ":") and "\n" not in str(err.value) and len(str(err.value)) < 200


def test_an_unknown_default_capability_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="color_temp"):
        entities_from_prompt([{"areas": [{"entities": {"switch.x": {"names": ["x"], "can": "color_temp"}}}]}])
    # A boolean capability is fine in any domain (the export schema rules which belong where).
    assert entities_from_prompt(json.loads('[{"areas":[{"entities":{"switch.x":{"names":["x"],"can":"power"}}}]}]'))[0]["capabilities"] == {"power": True}
