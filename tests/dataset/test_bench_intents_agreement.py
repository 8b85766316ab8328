"""bench/intents_agreement.py on a tiny clone written here, in the OHF-Voice/intents test layout."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parents[2] / "bench" / "intents_agreement.py"

FIXTURES = {
    "language": "en",
    "floors": [{"name": "Upstairs", "id": "upstairs_id"}],
    "areas": [{"name": "Kitchen", "id": "kitchen_id", "floor": "upstairs_id"}, {"name": "Bedroom", "id": "bedroom_id"}],
    "entities": [
        {"name": "Kitchen Light", "id": "light.kitchen", "area": "kitchen_id", "state": "off"},
        {"name": "Bedroom Lamp", "id": "light.bedroom_lamp", "area": "bedroom_id", "state": "on"},
        {"name": "Front Door", "id": "lock.front_door", "state": "unlocked"},
    ],
}


def _bench():
    spec = importlib.util.spec_from_file_location("bench_intents_agreement", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clone(tmp_path: Path, turn_on_slots: dict) -> Path:
    tests = tmp_path / "intents" / "tests" / "en"
    (tests / "HassTurnOn").mkdir(parents=True)
    (tests / "HassGetWeather").mkdir()
    (tests / "_fixtures.yaml").write_text(yaml.safe_dump(FIXTURES))
    turn_on = {"language": "en", "tests": [
        {"sentences": ["turn on the kitchen light", "please switch on kitchen light"], "slots": turn_on_slots},
        {"sentences": ["lock the front door"], "slots": {"name": "Front Door", "domain": "lock"}},
        {"sentences": ["turn on the lights here"], "slots": {"domain": "light"}, "context": {"area": "Kitchen"}},
    ]}  # fmt: skip
    (tests / "HassTurnOn" / "name.yaml").write_text(yaml.safe_dump(turn_on))
    # An intent no v0 tool performs: not counted at all.
    (tests / "HassGetWeather" / "weather.yaml").write_text(yaml.safe_dump({"tests": [{"sentences": ["what's the weather"], "slots": {}}]}))
    return tmp_path / "intents"


def test_counts_on_a_tiny_clone(tmp_path):
    bench = _bench()
    report = bench.measure(_clone(tmp_path, {"name": "Kitchen Light"}))
    assert set(report["intents"]) == {"HassTurnOn"}
    row = report["intents"]["HassTurnOn"]
    assert row["sentences"] == 3 and row["needs_speaker_area"] == 1
    assert row["recognised"] == 3 and row["teacher_agrees"] == row["teacher_cases"] == 3
    table = bench.format_report(report)
    assert "| HassTurnOn | 3 | " in table and "3 of 3 (100.0%)" in table


def test_a_wrong_expectation_is_counted_against(tmp_path):
    """The test file expects the bedroom lamp for "kitchen light" sentences: recognition disagrees."""
    report = _bench().measure(_clone(tmp_path, {"name": "Bedroom Lamp"}))
    row = report["intents"]["HassTurnOn"]
    assert row["recognised"] == 1  # only "lock the front door" is read as its test expects
    assert any("kitchen light" in m and "Bedroom Lamp" in m for m in report["misses"]["HassTurnOn"])


def test_a_teacher_acting_on_the_wrong_device_is_counted_against(tmp_path, monkeypatch):
    bench = _bench()
    real = bench.decide
    monkeypatch.setattr(bench, "decide", lambda o, s, intent: real(o, s, replace(intent, mention="Bedroom Lamp", domains=None)))
    row = bench.measure(_clone(tmp_path, {"name": "Kitchen Light"}))["intents"]["HassTurnOn"]
    assert row["teacher_cases"] == 3 and row["teacher_agrees"] == 0


def test_a_floor_a_test_file_lists_without_areas_is_known(tmp_path):
    """Home Assistant's harness knows the floors a test file lists; so does the bench's home (no device of the type there)."""
    clone = _clone(tmp_path, {"name": "Kitchen Light"})
    doc = {"language": "en", "floors": [{"name": "Basement"}],
           "tests": [{"sentences": ["turn on the lights in the basement"], "slots": {"floor": "Basement", "domain": "light"}}]}
    (clone / "tests" / "en" / "HassTurnOn" / "floor.yaml").write_text(yaml.safe_dump(doc))
    report = _bench().measure(clone)
    assert report["intents"]["HassTurnOn"]["recognised"] == 4, report["misses"]


def test_missing_clone_is_a_clear_error(tmp_path, capsys):
    assert _bench().main(["--repo", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "OHF-Voice/intents" in err and err[-1] == "\n" and err.count("\n") == 1


def test_a_per_file_home_with_floors_alone_and_slots_that_take_several_values(tmp_path):
    """Home Assistant's harness knows a floor a file lists with no area on it, takes any value of a slot given as a list,
    and checks only the slots a test names (no domain, nothing in the area: any meaning of the intent)."""
    tests = tmp_path / "tests" / "en"
    (tests / "HassTurnOff").mkdir(parents=True)
    (tests / "HassSetPosition").mkdir()
    home = {"language": "en", "floors": [{"name": "Upstairs"}], "areas": [{"name": "Kitchen"}]}
    (tests / "HassTurnOff" / "floor.yaml").write_text(yaml.safe_dump(home | {"tests": [
        {"sentences": ["turn off the lights upstairs", "turn off the upstairs lights"], "slots": {"floor": "Upstairs"}},
        {"sentences": ["turn off the lights in the kitchen"], "slots": {"area": "Kitchen"}},
    ]}))  # fmt: skip
    (tests / "HassSetPosition" / "classes.yaml").write_text(yaml.safe_dump({"language": "en", "areas": [{"name": "Kitchen"}], "tests": [
        {"sentences": ["set the kitchen blinds to 50%", "set the kitchen shades to 40%", "set the kitchen curtains to 50%",
                       "set the kitchen blinds to 60%"],
         "slots": {"area": "Kitchen", "device_class": ["blind", "shade"], "position": [50, 40]}},
    ]}))  # fmt: skip
    report = _bench().measure(tmp_path, "en")
    assert report["intents"]["HassTurnOff"]["recognised"] == 3
    assert report["intents"]["HassSetPosition"]["recognised"] == 2
    misses = report["misses"]["HassSetPosition"]
    assert len(misses) == 2 and "curtains to 50%" in misses[0] and "blinds to 60%" in misses[1]
