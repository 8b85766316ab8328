"""Validator cases against examples/demo_home."""

from __future__ import annotations

import pytest
from statewise_protocol import KIND_ACTION, KIND_FETCH, ToolCall, check_output, render_call, resolve_target, validate_calls

TV = "media_player.lounge_room"


def _check(ontology, *calls: tuple[str, dict], state: dict | None = None) -> list[str]:
    return check_output("\n".join(render_call(n, a) for n, a in calls), ontology, state).error_codes()


@pytest.mark.parametrize(
    ("call", "codes"),
    [
        (("light_power", {"entity_id": "light.porch", "state": "on"}), ["unknown_entity"]),
        (("light_power", {"entity_id": "light.entrance_color_white_lights", "state": "on"}), ["entity_not_present"]),
        (("tv_power", {"entity_id": "media_player.bedroom", "state": "on"}), ["entity_not_present"]),
        (("get_entity_state", {"entity_ids": ["media_player.bedroom"]}), ["entity_not_present"]),
        (("light_power", {"entity_id": "fan.ceiling_fan", "state": "on"}), ["wrong_domain"]),
        (("lock_control", {"entity_id": "cover.garage_door", "command": "lock"}), ["wrong_domain"]),
        (("cover_position", {"entity_id": "cover.garage_door", "position": 50}), ["missing_capability"]),
        (("cover_control", {"entity_id": "cover.garage_door", "command": "stop"}), ["missing_capability"]),
        (("light_color_temp", {"entity_id": "light.living_room_rgbww_lights", "kelvin": 3000}), ["missing_capability"]),
        (("tv_input", {"entity_id": "media_player.kitchen", "input": "plex"}), ["missing_capability"]),
        (("tv_input", {"entity_id": TV, "input": "hdmi_1"}), ["unsupported_value"]),
        (("tv_input", {"entity_id": TV, "input": "netflix"}), ["unsupported_value"]),
        (("climate_mode", {"entity_id": "climate.heatpump", "hvac_mode": "cool"}), ["unsupported_value"]),
        (("climate_temperature", {"entity_id": "climate.hvac", "temperature": 40}), ["unsupported_value"]),
        (("light_color_temp", {"entity_id": "light.bed_light", "kelvin": 1999}), ["unsupported_value"]),
        (("light_color_temp", {"entity_id": "light.bed_light", "kelvin": 6536}), ["unsupported_value"]),
        (("light_color_temp", {"entity_id": "light.bed_light", "kelvin": 2000}), []),
        (("light_color_temp", {"entity_id": "light.bed_light", "kelvin": 6535}), []),
        (("tv_input", {"entity_id": TV, "input": "youtube"}), []),
        (("cover_control", {"entity_id": "cover.garage_door", "command": "open"}), []),
        (("cover_control", {"entity_id": "cover.kitchen_window", "command": "stop"}), []),
        (("climate_temperature", {"entity_id": "climate.hvac", "temperature": 21.5}), []),
    ],
    ids=lambda v: v[0] if isinstance(v, tuple) else None,
)
def test_single_call(ontology, call: tuple[str, dict], codes: list[str]) -> None:
    assert _check(ontology, call) == codes


def test_errors_of_every_call_are_reported_with_positions(ontology) -> None:
    calls = [
        ToolCall("light_power", {"entity_id": "light.bed_light", "state": "on"}),
        ToolCall("light_power", {"entity_id": "light.porch", "state": "on"}),
        ToolCall("switch_power", {"entity_id": "light.bed_light", "state": "on"}),
    ]
    assert [(str(e.code), e.line) for e in validate_calls(calls, ontology)] == [("unknown_entity", 2), ("wrong_domain", 3)]


def test_fetch_with_partial_state_is_fine(ontology) -> None:
    fetch = ("get_entity_state", {"entity_ids": ["light.bed_light", "light.kitchen_lights"]})
    assert _check(ontology, fetch, state={"light.bed_light": {"state": "off"}}) == []
    assert _check(ontology, fetch, state={"light.bed_light": {"state": "off"}, "light.kitchen_lights": {"state": "on"}}) == ["state_already_given"]
    assert check_output(render_call(*fetch), ontology).kind == KIND_FETCH


class TestPlexPlay:
    PLEX = ("plex_play", {"title": "Terminator"})

    def test_via_preceding_tv_input(self, ontology, edited_ontology) -> None:
        two = edited_ontology(lambda by_id: by_id["media_player.kitchen"]["capabilities"].update(inputs=["plex"]))
        plan = [("tv_input", {"entity_id": "media_player.kitchen", "input": "plex"}), self.PLEX]
        assert _check(two, *plan) == []
        calls = [ToolCall(n, a) for n, a in plan]
        assert resolve_target(calls, 1, two.entities) == ("media_player.kitchen", ["media_player.kitchen"])
        assert check_output("\n".join(render_call(n, a) for n, a in plan), two).kind == KIND_ACTION

    def test_via_single_plex_capable_player(self, ontology) -> None:
        assert _check(ontology, self.PLEX) == []
        assert resolve_target([ToolCall(*self.PLEX)], 0, ontology.entities) == (TV, [TV])
        # A preceding tv_input to another input does not pick the target.
        assert _check(ontology, ("tv_input", {"entity_id": TV, "input": "dvd"}), self.PLEX) == []

    def test_ambiguous_when_two(self, edited_ontology) -> None:
        two = edited_ontology(lambda by_id: by_id["media_player.kitchen"]["capabilities"].update(inputs=["plex"]))
        assert _check(two, self.PLEX) == ["target_ambiguous"]
        assert resolve_target([ToolCall(*self.PLEX)], 0, two.entities) == (None, ["media_player.kitchen", TV])

    def test_none(self, edited_ontology) -> None:
        gone = edited_ontology(lambda by_id: by_id[TV].update(present=False))
        assert _check(gone, self.PLEX) == ["no_target"]
        assert resolve_target([ToolCall(*self.PLEX)], 0, gone.entities) == (None, [])

    def test_preceding_target_must_be_valid(self, ontology) -> None:
        plan = [("tv_input", {"entity_id": "media_player.kitchen", "input": "plex"}), self.PLEX]
        assert _check(ontology, *plan) == ["missing_capability", "missing_capability"]
