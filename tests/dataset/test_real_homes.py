"""The dataset meets real homes: homes named as Home Assistant names them, sentences as people say them, one answer per sentence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from statewise_protocol import check_output, load_export, parse_system_text

from dataset_export.build import InconsistentTeacher, check_teacher
from dataset_export.cli import main
from dataset_export.intents import Intent, resolve
from dataset_export.language import load_language
from dataset_export.policy import decide
from dataset_export.recognize import Recognizer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HA_HOMES = ("ha_apartment", "ha_family_home", "ha_big_house")


@pytest.fixture(scope="module")
def family():
    ontology = load_export(EXAMPLES / "ha_family_home").ontology
    return ontology, Recognizer(ontology, load_language("en"))


@pytest.fixture(scope="module")
def apartment():
    ontology = load_export(EXAMPLES / "ha_apartment").ontology
    return ontology, Recognizer(ontology, load_language("en"))


def _answer(home, text, state=None):
    ontology, recognizer = home
    intent = recognizer.intent(text)
    assert intent is not None, text
    return decide(ontology, state, intent)


def _call(decision):
    return [json.loads(line)["tool_call"] for line in decision.answer.splitlines()]


@pytest.mark.parametrize("name", HA_HOMES)
def test_ha_style_homes_are_named_as_home_assistant_names_things(name):
    ontology = load_export(EXAMPLES / name).ontology
    entities = list(ontology.entities.values())
    assert not any(e["aliases"] for e in entities) and all(e["present"] for e in entities)
    assert {"sensor", "binary_sensor"} <= {e["domain"] for e in entities}
    names = [e["name"] for e in entities]
    assert len(names) > len(set(names))  # entities of different domains share their device's name
    if name == "ha_big_house":
        assert len(entities) > 150
    if name == "ha_family_home":
        assert any(e["area"] and not e["floor"] for e in entities)


@pytest.mark.parametrize("name", HA_HOMES)
def test_ha_style_homes_build(name, tmp_path):
    out = tmp_path / "out"
    assert main(["build", str(EXAMPLES / name), "--out", str(out), "--size", "240", "--heldout-size", "40", "--max-length", "16384",
                 "--quiet"]) == 0  # fmt: skip
    stats = json.loads((out / "stats.json").read_text())
    for split in ("train", "heldout"):
        assert stats[split]["coverage_sources"]["not_present"]["home"] == 0  # nothing absent in the export: variants supply it
        assert stats[split]["ontology_variants"]["rows"] > 0
    card = (out / "dataset_card.md").read_text()
    assert "Ontology variants" in card and "How each rule was met" in card


@pytest.mark.parametrize("size", [24, 60])
def test_every_coverage_rule_is_met_even_in_a_small_build_of_a_home_without_aliases(size, tmp_path):
    """The forced families (one each first, ``other_name`` among them) supply every rule whatever the size."""
    out = tmp_path / "out"
    assert main(["build", str(EXAMPLES / "ha_big_house"), "--out", str(out), "--size", str(size), "--quiet"]) == 0
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    aliased = [r for r in rows if "alias" in r["tags"]]
    assert aliased and all(r["output_class"] in ("action", "text") for r in aliased)


def test_a_lock_command_never_considers_the_binary_sensor_of_the_same_name(apartment):
    decision = _answer(apartment, "lock the smart lock")
    assert _call(decision) == [{"name": "lock_control", "arguments": {"entity_id": "lock.smart_lock", "command": "lock"}}]
    assert resolve(apartment[0], Intent("lock", "unlock", mention="Smart Lock")).ids == ("lock.smart_lock",)


def test_the_garage_door_opener_opens_as_a_cover_and_switches_as_a_light(family):
    assert _call(_answer(family, "open the garage door opener"))[0]["arguments"]["entity_id"] == "cover.garage_door_opener"
    assert _call(_answer(family, "turn on the garage door opener"))[0]["arguments"]["entity_id"] == "light.garage_door_opener"


@pytest.mark.parametrize(
    ("text", "tool", "target"),
    [
        ("turn on the air purifier in the study", "fan_power", "fan.study_air_purifier"),  # area + device type: not the study's fan
        ("open the living room curtains", "cover_control", "cover.living_room_curtains"),
        ("start vacuuming", "vacuum_control", "vacuum.robot_vacuum"),  # the only vacuum
        ("add milk to my tasks", "todo_add", "todo.family_tasks"),  # a list noun
        ("add eggs to the shopping list", "todo_add", "todo.shopping_list"),
        ("heat the water to 55 degrees", "water_heater_temperature", "water_heater.water_heater"),
        ("set the sprinklers to 50%", "valve_position", "valve.sprinklers"),
        ("mute the kitchen speaker", "media_mute", "media_player.kitchen_speaker"),
    ],
)
def test_commands_people_say_resolve_as_home_assistant_would(family, text, tool, target):
    calls = _call(_answer(family, text))
    assert calls[0]["name"] == tool and calls[0]["arguments"]["entity_id"] == target


def test_an_implied_target_with_several_candidates_asks_which(family):
    decision = _answer(family, "set the volume to 50%")
    assert decision.output_class == "text" and decision.reason == "ambiguous" and "Kitchen Speaker" in decision.text


def test_values_as_people_say_them(family):
    # 0 % brightness is off (here on a light that is a relay: the power call of its own domain)
    assert _call(_answer(family, "set the brightness of the kitchen ceiling to 0")) == [
        {"name": "light_power", "arguments": {"entity_id": "light.kitchen_ceiling", "state": "off"}}]
    # "by N degrees" steps by N
    state = {"climate.living_room_thermostat": {"state": "heat", "temperature": 19}}
    calls = _call(_answer(family, "raise the living room thermostat by 4 degrees", state))
    assert calls == [{"name": "climate_temperature", "arguments": {"entity_id": "climate.living_room_thermostat", "temperature": 23}}]
    # numbers as words, polite words, speech-to-text text
    assert _call(_answer(family, "could you set the kitchen ceiling brightness to forty percent please"))[0]["arguments"]["brightness"] == 40
    # play on an idle player plays
    idle = {"media_player.kitchen_speaker": {"state": "idle"}}
    assert _call(_answer(family, "resume the kitchen speaker", idle)) == [
        {"name": "media_control", "arguments": {"entity_id": "media_player.kitchen_speaker", "command": "play"}}]


def test_a_request_with_an_impossible_part_runs_nothing_and_says_which_part(family):
    decision = _answer(family, "turn on the kitchen ceiling and the sauna")
    assert decision.output_class == "text" and decision.reason == "partly_impossible" and "sauna" in decision.text
    both = _answer(family, "turn on the kitchen ceiling and the hallway light")
    assert [c["arguments"]["entity_id"] for c in _call(both)] == ["light.kitchen_ceiling", "light.hallway_light"]


def test_a_wrong_kind_of_device_is_a_capability_refusal_not_another_intent(family):
    decision = _answer(family, "dim the study fan")
    assert decision.reason == "missing_capability" and "Study Fan" in decision.text


def test_the_label_consistency_check_catches_a_planted_contradiction(tmp_path):
    out = tmp_path / "out"
    assert main(["build", str(EXAMPLES / "demo_home"), "--out", str(out), "--size", "120", "--heldout-size", "20", "--quiet"]) == 0
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    for r in rows:
        r["_ontology"], shown = parse_system_text(r["messages"][0]["content"])
        r["_shown"], r["_followup_state"] = shown or {}, {}
        r["followup"] = ""
    check_teacher(rows)  # the built set is consistent
    planted = json.loads(json.dumps({k: v for k, v in rows[0].items() if not k.startswith("_")}))
    planted.update(_ontology=rows[0]["_ontology"], _shown=rows[0]["_shown"], _followup_state={})
    planted["messages"][2]["content"] = "Something else entirely."
    with pytest.raises(InconsistentTeacher, match="two answers"):
        check_teacher([*rows, planted])


def test_every_variant_rows_target_is_valid_against_its_own_ontology(tmp_path):
    out = tmp_path / "out"
    assert main(["build", str(EXAMPLES / "small_flat"), "--out", str(out), "--size", "300", "--heldout-size", "40", "--quiet"]) == 0
    variant_rows = 0
    base = load_export(EXAMPLES / "small_flat").ontology
    for file in ("train.jsonl", "heldout.jsonl"):
        for line in (out / file).read_text().splitlines():
            row = json.loads(line)
            ontology, state = parse_system_text(row["messages"][0]["content"])
            assert check_output(row["messages"][2]["content"], ontology, state).ok
            if row["variant"]:
                variant_rows += 1
                change, eid = row["variant"].split(":", 1)
                assert ontology.prompt_json != base.prompt_json
                if change == "removed":
                    assert eid not in ontology.entities and eid in base.entities
                if change == "added":
                    assert eid in ontology.entities and eid not in base.entities
                if change == "absent":
                    assert ontology.entities[eid]["present"] is False
    assert variant_rows > 40


def test_the_oldest_supported_intents_release_builds_too(tmp_path):
    old = ROOT / ".venv" / "intents-oldest"
    if not (old / "home_assistant_intents").is_dir():
        pytest.fail(f"{old} is missing: scripts/setup.sh installs it")
    code = subprocess.run([sys.executable, "-m", "dataset_export", "build", str(EXAMPLES / "demo_home"), "--out", str(tmp_path / "out"),
                           "--size", "120", "--heldout-size", "20", "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": f"{old}{os.pathsep}{ROOT}"})  # fmt: skip
    assert code.returncode == 0, code.stderr[-2000:]
    readers = json.loads((tmp_path / "out" / "stats.json").read_text(encoding="utf-8"))["readers"]
    assert readers[0].startswith("hassil 3.5") and not any(r.startswith("gazetteer-matcher") for r in readers), readers
    version = subprocess.run([sys.executable, "-c", "import home_assistant_intents, importlib.metadata as m; print(m.version('home-assistant-intents'))"],
                             cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(old)}).stdout.strip()  # fmt: skip
    assert version == "2026.1.28"
