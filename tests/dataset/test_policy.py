"""The labelling policy's decision table, row by row, on the demo home."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from statewise_protocol import check_output, load_export, parse_output
from statewise_protocol.simulate import apply_calls

from dataset_export.intents import Intent, resolve
from dataset_export.policy import decide
from dataset_export.states import random_entry

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo_home"


@pytest.fixture(scope="module")
def home():
    return load_export(DEMO).ontology


def lines(decision):
    return [c.to_line() for c in decision.calls]


def test_row1_out_of_scope_is_refusal_text(home):
    for topic in ("chit_chat", "world_knowledge", "memory", "unsupported"):
        d = decide(home, None, Intent("out_of_scope", topic=topic))
        assert (d.output_class, d.reason) == ("text", "out_of_scope")
        assert parse_output(d.answer).kind == "text"


def test_row2_unknown_entity_is_refusal(home):
    d = decide(home, None, Intent("power", "on", mention="hot tub"))
    assert (d.output_class, d.reason) == ("text", "unknown_entity")
    assert "hot tub" in d.answer


def test_row3_alias_of_several_entities_asks_which(home):
    d = decide(home, None, Intent("power", "on", mention="lamp"))
    assert (d.output_class, d.reason) == ("text", "ambiguous")
    assert "Bed Light" in d.text and "Office RGBW Lights" in d.text
    assert d.targets == ("light.bed_light", "light.office_rgbw_lights")


def test_row3_generic_noun_ambiguous_or_resolved(home):
    assert decide(home, None, Intent("power", "on", mention="fan")).reason == "ambiguous"
    # two TVs exist but only the lounge one is present: "tv" is not ambiguous (also an alias there)
    d = decide(home, None, Intent("power", "on", mention="television"))
    assert lines(d) == ['{"tool_call":{"name":"tv_power","arguments":{"entity_id":"media_player.lounge_room","state":"on"}}}']


def test_row4_present_false_is_refusal_with_or_without_state(home):
    for state in (None, {"light.entrance_color_white_lights": {"state": "unavailable"}}):
        d = decide(home, state, Intent("power", "on", mention="porch light"))
        assert (d.output_class, d.reason) == ("text", "not_present")
        assert "Entrance Color + White Lights" in d.text


@pytest.mark.parametrize(
    "intent",
    [
        Intent("color_temp", 3000, mention="mood lights"),  # no colour temperature
        Intent("color_temp", 9000, mention="Bed Light"),  # outside its range
        Intent("tv_input", "netflix", mention="tv"),  # input the TV lacks
        Intent("cover_position", 50, mention="Garage Door"),  # no position
        Intent("cover", "stop", mention="Garage Door"),  # no stop
        Intent("color", "red", mention="front lock"),  # wrong kind of device
        Intent("play_title", "Alien", mention="kitchen speaker"),  # no plex input
        Intent("climate_mode", "cool", mention="heat pump"),  # mode it lacks
        Intent("climate_temp", 40, mention="thermostat"),  # outside temp_range
    ],
)
def test_row5_missing_capability_is_refusal(home, intent):
    d = decide(home, None, intent)
    assert (d.output_class, d.reason) == ("text", "missing_capability")


def test_row6_unavailable_in_state_is_refusal(home):
    d = decide(home, {"light.kitchen_lights": {"state": "unavailable"}}, Intent("power", "on", mention="Kitchen Lights"))
    assert (d.output_class, d.reason) == ("text", "not_present")


@pytest.mark.parametrize(
    ("intent", "entry"),
    [
        (Intent("lock", "lock", mention="front lock"), {"state": "locked"}),
        (Intent("power", "off", mention="fairy lights"), {"state": "off"}),
        (Intent("brightness", 40, mention="big light"), {"state": "on", "brightness": 40}),
        (Intent("brightness_step", "up", mention="big light"), {"state": "on", "brightness": 100}),
        (Intent("volume_step", "down", mention="kitchen speaker"), {"state": "on", "volume": 0}),
        (Intent("media", "pause", mention="tv"), {"state": "paused"}),
        (Intent("tv_input", "youtube", mention="tv"), {"state": "on", "source": "youtube"}),
    ],
)
def test_row7_already_satisfied_is_noop_text(home, intent, entry):
    eid = resolve(home, intent).ids[0]
    d = decide(home, {eid: entry}, intent)
    assert (d.output_class, d.reason, d.calls) == ("text", "already_satisfied", ())
    assert "already" in d.text


def test_row8_minimal_ordered_plan_for_play_title(home):
    intent = Intent("play_title", "Terminator", mention="movie room tv")
    tv = "media_player.lounge_room"
    off = decide(home, {tv: {"state": "off"}}, intent)
    assert [c.name for c in off.calls] == ["tv_power", "tv_input", "plex_play"]
    on_dvd = decide(home, {tv: {"state": "playing", "source": "dvd"}}, intent)
    assert [c.name for c in on_dvd.calls] == ["tv_input", "plex_play"]
    on_plex = decide(home, {tv: {"state": "on", "source": "plex"}}, intent)
    assert lines(on_plex) == ['{"tool_call":{"name":"plex_play","arguments":{"title":"Terminator"}}}']
    for d, state in ((off, {"state": "off"}), (on_dvd, {"state": "playing", "source": "dvd"}), (on_plex, {"state": "on", "source": "plex"})):
        assert check_output(d.answer, home, {tv: state}).ok


def test_row8_same_command_different_states_different_plans(home):
    intent = Intent("toggle", mention="fairy lights")
    on = decide(home, {"switch.decorative_lights": {"state": "on"}}, intent)
    off = decide(home, {"switch.decorative_lights": {"state": "off"}}, intent)
    assert on.calls[0].arguments["state"] == "off" and off.calls[0].arguments["state"] == "on"


def test_row8_area_plan_skips_entities_already_in_goal(home):
    intent = Intent("power", "on", area="Living Room", domains=("light",))
    state = {"light.ceiling_lights": {"state": "on", "brightness": 50}, "light.living_room_rgbww_lights": {"state": "off"}}
    d = decide(home, state, intent)
    assert [c.arguments["entity_id"] for c in d.calls] == ["light.living_room_rgbww_lights"]


def test_area_alias_resolves_like_the_area_name(home):
    """"lounge" (an alias of Living Room) gives the same targets and plan as "Living Room", with or without STATE."""
    assert home.entities["light.ceiling_lights"]["area_aliases"] == ["lounge"]
    state = {"light.ceiling_lights": {"state": "on", "brightness": 50}, "light.living_room_rgbww_lights": {"state": "off"}}
    for kind, value, shown in (("power", "on", state), ("power", "off", None), ("toggle", None, None), ("toggle", None, state)):
        by_name = decide(home, shown, Intent(kind, value, area="Living Room", domains=("light",)))
        for spoken in ("lounge", "the Lounge"):
            by_alias = decide(home, shown, Intent(kind, value, area=spoken, domains=("light",)))
            assert by_alias.targets == by_name.targets == ("light.ceiling_lights", "light.living_room_rgbww_lights")
            assert (by_alias.output_class, by_alias.answer) == (by_name.output_class, by_name.answer)
            assert check_output(by_alias.answer, home, shown).ok
    assert resolve(home, Intent("power", "on", area="lounge", domains=("light",))).via_alias
    assert not resolve(home, Intent("power", "on", area="Living Room", domains=("light",))).via_alias
    # an alias scopes like its area: no lights in the garden ("yard"), and floors have no aliases
    assert decide(home, None, Intent("power", "on", area="yard", domains=("light",))).reason == "unknown_entity"
    assert resolve(home, Intent("valve", "open", area="yard", domains=("valve",))).ids == ("valve.front_garden",)
    assert resolve(home, Intent("power", "on", floor="lounge", domains=("light",))).status == "unknown_entity"


def test_row9_state_needed_and_missing_fetches_exactly_the_ids(home):
    d = decide(home, None, Intent("brightness_step", "up", mention="big light"))
    assert lines(d) == ['{"tool_call":{"name":"get_entity_state","arguments":{"entity_ids":["light.ceiling_lights"]}}}']
    assert (d.output_class, d.reason) == ("fetch", "missing_state")
    # STATE present but without the target: fetch it, and check_output accepts that
    other = {"switch.ac": {"state": "off"}}
    d2 = decide(home, other, Intent("media", "pause", mention="kitchen speaker"))
    assert d2.calls[0].arguments == {"entity_ids": ["media_player.kitchen"]}
    assert check_output(d2.answer, home, other).ok


def test_row10_absolute_command_without_state_acts_directly(home):
    d = decide(home, None, Intent("brightness", 40, mention="big light"))
    assert lines(d) == ['{"tool_call":{"name":"light_brightness","arguments":{"entity_id":"light.ceiling_lights","brightness":40}}}']
    d = decide(home, None, Intent("power", "off", area="Living Room", domains=("light",)))
    assert [c.arguments["entity_id"] for c in d.calls] == ["light.ceiling_lights", "light.living_room_rgbww_lights"]


def test_text_answers_never_resemble_json(home):
    intents = [Intent("power", "on", mention="x{y}[z] tool_call"), Intent("power", "on", mention="lamp"), Intent("out_of_scope", topic="memory"),
               Intent("color", "red", mention="front lock"), Intent("power", "on", mention="porch light")]
    for variant in range(8):
        for intent in intents:
            d = decide(home, None, intent, variant)
            assert d.output_class == "text"
            assert not set(d.text) & set("{}[]") and "tool_call" not in d.text
            assert parse_output(d.answer).kind == "text"


def test_plans_reach_their_goal_and_are_minimal(home):
    """Absolute commands: after applying the plan, the same command is a no-op; plans never repeat a call.

    Calls whose effect STATE cannot show (the tool's ``observable: false``, e.g. a thermostat switched on
    resumes a mode Home Assistant remembers) are not replayed.
    """
    rng = random.Random(5)
    absolute = [("power", "on"), ("power", "off"), ("brightness", 30), ("cover", "open"), ("cover_position", 40), ("climate_temp", 21),
                ("climate_mode", "heat"), ("fan_speed", 50), ("volume", 20), ("lock", "unlock"), ("valve", "close")]
    checked = 0
    for eid, entity in home.entities.items():
        if not entity["present"]:
            continue
        for kind, value in absolute:
            intent = Intent(kind, value, mention=entity["name"])
            if resolve(home, intent).ids != (eid,):
                continue
            for _ in range(4):
                state = {eid: random_entry(entity, rng)}
                d = decide(home, state, intent)
                if d.output_class != "action":
                    continue
                assert len({c.to_line() for c in d.calls}) == len(d.calls)
                if not all(c.spec.observable(c.arguments) for c in d.calls):
                    continue
                after = apply_calls(state, list(d.calls), home)
                assert decide(home, after, intent).reason == "already_satisfied", (eid, kind, state, after)
                checked += 1
    assert checked > 40


def test_row5b_floor_with_more_targets_than_one_answer_may_call_asks_to_narrow():
    large = load_export(DEMO.parent / "large_house").ontology
    d = decide(large, None, Intent("power", "off", floor="First Floor", domains=("light",)))
    assert (d.output_class, d.reason) == ("text", "too_many_targets")
    assert len(d.targets) > 16 and parse_output(d.answer).kind == "text"
    small = decide(large, None, Intent("power", "off", area="Kitchen", domains=("light",)))
    assert small.output_class == "action" and 1 < small.num_calls <= 16


def test_clarification_with_many_candidates_names_a_few_and_counts():
    large = load_export(DEMO.parent / "large_house").ontology
    d = decide(large, None, Intent("power", "on", mention="light"))
    assert d.reason == "ambiguous" and len(d.targets) > 20
    assert str(len(d.targets)) in d.text and d.text.count(" in the ") == 3 and len(d.text) < 300


@pytest.mark.parametrize(("entry", "value", "expected"), [
    ({"state": "off", "current_temperature": 20.7}, "up", 21.5),  # live readings are not on the 0.5 grid
    ({"state": "heat", "current_temperature": 19, "temperature": 20.3}, "down", 19.5),
    ({"state": "heat", "temperature": 21.5}, "up", 22.5),
    ({"state": "heat", "temperature": 20}, "down", 19),
    ({"state": "heat", "temperature": 40}, "down", 35),  # a reading above temp_range [7, 35] still gets an in-range target
])
def test_climate_step_targets_stay_on_the_schema_grid(home, entry, value, expected):
    state = {"climate.hvac": entry}
    d = decide(home, state, Intent("climate_step", value, mention="hvac"))
    assert d.calls[0].arguments["temperature"] == expected
    assert check_output(d.answer, home, state).ok, check_output(d.answer, home, state).as_dict()


def test_names_with_double_quotes_never_make_json_like_text(home):
    """'More than one device matches "Lamp B": ...' would read as a JSON member; the build would stop on it."""
    from statewise_protocol import Ontology

    entities = [dict(e) for e in home.entities.values()]
    for e in entities:
        if e["id"] in ("light.bed_light", "light.office_rgbw_lights"):
            e["aliases"] = ['Lamp "B"']
    onto = Ontology.from_entities(entities)
    for variant in range(8):
        d = decide(onto, None, Intent("power", "on", mention='Lamp "B"'), variant)
        assert d.reason == "ambiguous"
        assert check_output(d.answer, onto).kind == "text", d.answer


@pytest.mark.parametrize(("eid", "entry", "intent"), [
    ("light.kitchen_lights", {"state": "on"}, Intent("brightness_step", "up", mention="kitchen lights")),
    ("light.kitchen_lights", {"state": "on"}, Intent("brightness_step", "down", mention="kitchen lights")),
    ("media_player.kitchen", {"state": "playing"}, Intent("volume_step", "up", mention="kitchen speaker")),
    ("climate.hvac", {"state": "heat"}, Intent("climate_step", "down", mention="hvac")),
])
def test_relative_change_without_a_level_in_state_asks_instead_of_guessing(home, eid, entry, intent):
    """Recorder snapshots hold {"state":"on"} without brightness: "already at full brightness" would be invented."""
    d = decide(home, {eid: entry}, intent)
    assert (d.output_class, d.reason) == ("text", "unknown_level")
    assert "already" not in d.text
    assert check_output(d.answer, home, {eid: entry}).kind == "text"
