"""Deterministic effects of v0 actions on a state snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from statewise_protocol import ToolCall, load_export
from statewise_protocol.simulate import apply_calls

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo_home"


@pytest.fixture(scope="module")
def home():
    return load_export(DEMO).ontology


def call(name, **args):
    return ToolCall(name, args)


@pytest.mark.parametrize(
    ("start", "calls", "eid", "expected"),
    [
        ({"light.bed_light": {"state": "on", "brightness": 40}}, [call("light_power", entity_id="light.bed_light", state="off")],
         "light.bed_light", {"state": "off"}),
        ({"light.bed_light": {"state": "off"}}, [call("light_brightness", entity_id="light.bed_light", brightness=30)],
         "light.bed_light", {"state": "on", "brightness": 30}),
        ({"light.bed_light": {"state": "off"}}, [call("light_color_temp", entity_id="light.bed_light", kelvin=3000)],
         "light.bed_light", {"state": "on", "brightness": 100, "color_temp_kelvin": 3000}),
        ({"fan.ceiling_fan": {"state": "on", "percentage": 50}}, [call("fan_power", entity_id="fan.ceiling_fan", state="off")],
         "fan.ceiling_fan", {"state": "off", "percentage": 0}),
        ({"fan.ceiling_fan": {"state": "off", "percentage": 0}}, [call("fan_speed", entity_id="fan.ceiling_fan", percentage=40)],
         "fan.ceiling_fan", {"state": "on", "percentage": 40}),
        ({"cover.kitchen_window": {"state": "closed", "position": 0}}, [call("cover_control", entity_id="cover.kitchen_window", command="open")],
         "cover.kitchen_window", {"state": "open", "position": 100}),
        ({"cover.kitchen_window": {"state": "open", "position": 100}}, [call("cover_position", entity_id="cover.kitchen_window", position=0)],
         "cover.kitchen_window", {"state": "closed", "position": 0}),
        ({"lock.front_door": {"state": "locked"}}, [call("lock_control", entity_id="lock.front_door", command="unlock")],
         "lock.front_door", {"state": "unlocked"}),
        ({"climate.hvac": {"state": "cool", "temperature": 21}}, [call("climate_mode", entity_id="climate.hvac", hvac_mode="heat"),
                                                                  call("climate_temperature", entity_id="climate.hvac", temperature=22.5)],
         "climate.hvac", {"state": "heat", "temperature": 22.5}),
        ({"media_player.kitchen": {"state": "playing", "volume": 50}}, [call("media_control", entity_id="media_player.kitchen", command="pause"),
                                                                        call("media_volume", entity_id="media_player.kitchen", volume=20)],
         "media_player.kitchen", {"state": "paused", "volume": 20}),
        ({"valve.front_garden": {"state": "open", "position": 100}}, [call("valve_control", entity_id="valve.front_garden", command="close")],
         "valve.front_garden", {"state": "closed", "position": 0}),
        ({"switch.ac": {"state": "off"}}, [call("get_entity_state", entity_ids=["switch.ac"])], "switch.ac", {"state": "off"}),
    ],
)
def test_effects(home, start, calls, eid, expected):
    assert apply_calls(start, calls, home)[eid] == expected


def test_plex_sequence_and_input_untouched(home):
    tv = "media_player.lounge_room"
    start = {tv: {"state": "off"}}
    calls = [call("tv_power", entity_id=tv, state="on"), call("tv_input", entity_id=tv, input="plex"), call("plex_play", title="Alien")]
    after = apply_calls(start, calls, home)
    assert after[tv] == {"state": "playing", "source": "plex"}  # STATE carries no media titles (docs/SECURITY.md)
    assert start == {tv: {"state": "off"}}  # not modified
    off = apply_calls(after, [call("tv_power", entity_id=tv, state="off")], home)
    assert off[tv] == {"state": "off"}
