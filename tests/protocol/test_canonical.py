"""Canonical serialisation is deterministic; the prompt has the plan's exact format."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

from statewise_protocol import (
    ONTOLOGY_PREFIX,
    STATE_PREFIX,
    ToolCall,
    content_hash,
    dumps,
    parse_ontology,
    parse_snapshots,
    render_answer,
    render_messages,
    state_json,
    system_text,
)

DEMO_DIR = Path(__file__).resolve().parents[2] / "examples" / "demo_home"
ONTOLOGY_DOC = json.loads((DEMO_DIR / "ontology.json").read_text(encoding="utf-8"))


def _shuffled(obj, rng: random.Random):
    """Same data, every dict's key order and every id/alias list shuffled."""
    if isinstance(obj, dict):
        items = [(k, _shuffled(v, rng)) for k, v in obj.items()]
        rng.shuffle(items)
        out = dict(items)
        for key in ("entities", "aliases", "area_aliases", "inputs", "hvac_modes"):
            if isinstance(out.get(key), list):
                rng.shuffle(out[key])
        return out
    if isinstance(obj, list):
        return [_shuffled(v, rng) for v in obj]
    return obj


def test_shuffled_home_gives_identical_bytes(ontology, live_state) -> None:
    snaps_doc = json.loads((DEMO_DIR / "snapshots.json").read_text(encoding="utf-8"))
    base_hash = content_hash(ontology, parse_snapshots(snaps_doc, ontology))
    for seed in range(5):
        rng = random.Random(seed)
        doc = _shuffled(copy.deepcopy(ONTOLOGY_DOC), rng)
        assert [e["id"] for e in doc["entities"]] != [e["id"] for e in ONTOLOGY_DOC["entities"]]
        other = parse_ontology(doc)
        assert other.file_json() == ontology.file_json()
        assert other.prompt_json == ontology.prompt_json
        assert other.hash() == ontology.hash()
        state = _shuffled(copy.deepcopy(live_state), rng)
        assert state_json(state) == state_json(live_state)
        assert system_text(other, state) == system_text(ontology, live_state)
        snaps = parse_snapshots(_shuffled(copy.deepcopy(snaps_doc), rng), other)
        assert content_hash(other, snaps) == base_hash


def test_example_files_are_canonical_and_hash_stable(demo_export) -> None:
    text = (DEMO_DIR / "ontology.json").read_text(encoding="utf-8")
    assert demo_export.ontology.file_json() == text
    assert content_hash(demo_export.ontology, demo_export.snapshots) == demo_export.manifest["content_hash"]
    assert demo_export.manifest["content_hash"] == "sha256:7931acfbeb0a06537bd3c1c11c2351f4bc688d64b9042289d24341fe1d17e159"


def test_prompt_json_is_compact_grouped_and_omits_defaults(ontology) -> None:
    text = ontology.prompt_json
    assert "\n" not in text and ", " not in text and ": " not in text
    floors = json.loads(text)
    assert [f.get("floor") for f in floors] == ["First Floor", "Ground Floor"]
    by_id = {eid: (floor.get("floor"), area.get("area"), ent) for floor in floors for area in floor["areas"] for eid, ent in area["entities"].items()}
    assert sorted(by_id) == sorted(ontology.entities) and len(by_id) == len(ontology.entities)
    for eid, (floor, area, ent) in by_id.items():
        assert (floor, area) == (ontology.entities[eid]["floor"], ontology.entities[eid]["area"])
        assert ent["names"] == [ontology.entities[eid]["name"], *ontology.entities[eid]["aliases"]]
    assert sorted(eid for eid, (_, _, e) in by_id.items() if "present" in e) == ["light.entrance_color_white_lights", "media_player.bedroom"]
    assert all(e["present"] is False for _, _, e in by_id.values() if "present" in e)
    # Home Assistant's default ranges are said by the capability's name alone; others keep their values.
    assert by_id["light.bed_light"][2] == {"names": ["Bed Light", "bedside lamp", "lamp"], "can": "brightness color color_temp"}
    assert by_id["media_player.lounge_room"][2]["inputs"] == ["dvd", "plex", "youtube"]
    # Each area's floor and aliases are said once.
    assert text.count('"Living Room"') == 1 and text.count('"lounge"') == 1


def test_system_text_without_state(ontology) -> None:
    text = system_text(ontology)
    assert text == ONTOLOGY_PREFIX + ontology.prompt_json
    assert text.startswith("ONTOLOGY: [") and "STATE" not in text


def test_system_text_with_state(ontology) -> None:
    state = {"light.bed_light": {"state": "on", "brightness": 40}, "cover.garage_door": {"state": "closed"}}
    expected = "ONTOLOGY: " + ontology.prompt_json + '\nSTATE: {"cover.garage_door":{"state":"closed"},"light.bed_light":{"state":"on","brightness":40}}'
    assert system_text(ontology, state) == expected
    assert STATE_PREFIX == "STATE: "
    # An empty fetched state is still shown: STATE is present iff state was fetched.
    assert system_text(ontology, {}) == ONTOLOGY_PREFIX + ontology.prompt_json + "\nSTATE: {}"


def test_render_messages(ontology) -> None:
    msgs = render_messages(ontology, "turn on the lamp")
    assert msgs == [{"role": "system", "content": system_text(ontology)}, {"role": "user", "content": "turn on the lamp"}]
    calls = [ToolCall("light_power", {"state": "on", "entity_id": "light.bed_light"})]
    answer = render_answer(calls)
    assert answer == '{"tool_call":{"name":"light_power","arguments":{"entity_id":"light.bed_light","state":"on"}}}'
    full = render_messages(ontology, "turn on the lamp", {"light.bed_light": {"state": "off"}}, answer=answer)
    assert [m["role"] for m in full] == ["system", "user", "assistant"]
    assert full[0]["content"].endswith('\nSTATE: {"light.bed_light":{"state":"off"}}')
    assert full[2]["content"] == answer
    assert render_answer("Which lamp?") == "Which lamp?"


def test_dumps_is_compact_sorted_and_keeps_unicode() -> None:
    assert dumps({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert dumps({"b": 1, "a": 2}, sort_keys=False) == '{"b":1,"a":2}'


def test_entity_state_writes_integral_numbers_once() -> None:
    from statewise_protocol import entity_state

    entry = entity_state("climate", "heat", {"temperature": 20.0, "current_temperature": 21.5})
    assert entry == {"state": "heat", "temperature": 20, "current_temperature": 21.5}
    assert state_json({"climate.a": entity_state("climate", "heat", {"temperature": 20.0})}) == state_json({"climate.a": {"state": "heat", "temperature": 20}})
