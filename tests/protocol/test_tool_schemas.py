"""Every v0 tool schema is valid draft 2020-12 and its Home Assistant mapping is complete."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from statewise_protocol import ToolCall, action_data, load_tools, service_for
from statewise_protocol.tools import TOOLS_DIR

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
REQUIRED_TOOLS = {"get_entity_state", "tv_power", "tv_input", "plex_play"}
# The coverage list: HA domain -> tools that must act on it.
COVERAGE = {
    "light": {"light_power", "light_brightness", "light_color_temp", "light_color"},
    "switch": {"switch_power"},
    "fan": {"fan_power", "fan_speed"},
    "cover": {"cover_control", "cover_position"},
    "valve": {"valve_control"},
    "lock": {"lock_control"},
    "climate": {"climate_mode", "climate_temperature"},
    "media_player": {"tv_power", "tv_input", "media_volume", "media_control"},
    "scene": {"scene_activate"},
    "script": {"script_run"},
    "vacuum": {"vacuum_control"},
    "todo": {"todo_add"},
}
DATA_RULES = {"arg", "const", "source_of", "plex_title"}
TOOLS = sorted(load_tools())


def _arguments_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["properties"]["tool_call"]["properties"]["arguments"]


def _sample_values(prop: dict[str, Any]) -> list[Any]:
    """A few schema-valid values for one argument (every enum value)."""
    if "enum" in prop:
        return list(prop["enum"])
    if prop.get("type") == "boolean":
        return [True, False]
    if prop.get("type") == "array":
        return [["light.bed_light"]]
    if prop.get("type") in ("integer", "number"):
        return [prop.get("minimum", 0), prop.get("maximum", 0)]
    if prop.get("description") == "an entity id from ONTOLOGY":
        return ["light.bed_light"]
    return ["heat"] if "maxLength" in prop and prop["maxLength"] <= 32 else ["plex"]


def _sample_calls(name: str) -> list[ToolCall]:
    props = _arguments_schema(load_tools()[name].schema)["properties"]
    keys = list(props)
    return [ToolCall(name, dict(zip(keys, combo, strict=True))) for combo in itertools.product(*(_sample_values(props[k]) for k in keys))]


def test_required_and_covered_tools_exist() -> None:
    assert set(TOOLS) >= REQUIRED_TOOLS
    for domain, tools in COVERAGE.items():
        assert tools <= set(TOOLS), domain
        for tool in tools:
            assert domain in load_tools()[tool].mapping["domains"]


@pytest.mark.parametrize("name", TOOLS)
def test_schema_is_draft_2020_12(name: str) -> None:
    raw = json.loads((TOOLS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert raw["$schema"] == DRAFT_2020_12
    Draft202012Validator.check_schema(raw)
    assert raw["title"] == name
    call = raw["properties"]["tool_call"]
    assert raw["additionalProperties"] is False and raw["required"] == ["tool_call"]
    assert call["additionalProperties"] is False and call["required"] == ["name", "arguments"]
    assert call["properties"]["name"] == {"const": name}
    args = _arguments_schema(raw)
    assert args["additionalProperties"] is False
    assert set(args["required"]) == set(args["properties"]), "every v0 argument is required"


@pytest.mark.parametrize("name", TOOLS)
def test_mapping_is_complete(name: str) -> None:
    spec = load_tools()[name]
    mapping, props = spec.mapping, _arguments_schema(spec.schema)["properties"]
    if mapping["kind"] == "fetch":
        assert name == "get_entity_state" and mapping["target"] == "entity_ids" in props
        return
    assert mapping["kind"] == "action"
    assert mapping["domains"] and all(isinstance(d, str) for d in mapping["domains"])
    assert mapping["target"] == "entity_id" or mapping["target"] == {"via_input": "plex"}
    assert spec.via_input == "plex" or mapping["target"] in props
    service = mapping["service"]
    services = [service] if isinstance(service, str) else list(service["map"].values())
    for svc in services:
        domain, _, action = svc.partition(".")
        assert action and domain in mapping["domains"], svc
    if not isinstance(service, str):
        # A by-argument service covers exactly the argument's enum: one action per call.
        assert set(service["map"]) == set(props[service["by"]]["enum"])
    for key, rule in mapping["data"].items():
        assert isinstance(key, str)
        assert len(set(rule) & DATA_RULES) == 1, rule
        for kind in ("arg", "source_of", "plex_title"):
            if kind in rule:
                assert rule[kind] in props
    for arg, by_value in mapping.get("requires_when", {}).items():
        assert set(by_value) <= set(props[arg]["enum"])
    for arg in [*mapping.get("member_of", {}), *mapping.get("within", {})]:
        assert arg in props
    for arg in mapping.get("within", {}):
        assert props[arg]["type"] in ("integer", "number")
    if "sensitive" in mapping:
        rule = mapping["sensitive"]
        assert rule["arg"] in props
        assert set(rule.get("values", [])) <= set(props[rule["arg"]].get("enum", rule.get("values", [])))


@pytest.mark.parametrize("name", [t for t in TOOLS if not load_tools()[t].is_fetch])
def test_every_valid_call_maps_to_one_action(name: str) -> None:
    spec = load_tools()[name]
    calls = _sample_calls(name)
    assert calls
    for call in calls:
        assert list(spec.validator.iter_errors({"tool_call": call.as_dict()})) == []
        svc = service_for(call)
        assert isinstance(svc, str) and svc.split(".", 1)[0] in spec.mapping["domains"]
        data = action_data(call, source_list=["HDMI 1", "Plex"])
        assert set(data) == set(spec.mapping["data"])


def test_documented_mappings() -> None:
    assert service_for(ToolCall("tv_power", {"entity_id": "media_player.x", "state": "off"})) == "media_player.turn_off"
    assert service_for(ToolCall("vacuum_control", {"entity_id": "vacuum.x", "command": "return_home"})) == "vacuum.return_to_base"
    assert action_data(ToolCall("tv_input", {"entity_id": "media_player.x", "input": "hdmi_1"}), ["HDMI 1", "Plex"]) == {"source": "HDMI 1"}
    assert action_data(ToolCall("media_volume", {"entity_id": "media_player.x", "volume": 35}), []) == {"volume_level": 0.35}
    assert action_data(ToolCall("light_brightness", {"entity_id": "light.x", "brightness": 80}), []) == {"brightness_pct": 80}
    plex = action_data(ToolCall("plex_play", {"title": "Terminator"}), [])
    assert plex == {"media_content_type": "movie", "media_content_id": 'plex://{"title":"Terminator"}'}
