"""One classification case (at least) for every ErrorCode."""

from __future__ import annotations

import pytest
from statewise_protocol import KIND_ACTION, KIND_FETCH, KIND_INVALID, KIND_TEXT, ErrorCode, check_output, parse_output, render_call

BED_ON = render_call("light_power", {"entity_id": "light.bed_light", "state": "on"})
FETCH_BED = render_call("get_entity_state", {"entity_ids": ["light.bed_light"]})
FETCH_KITCHEN = render_call("get_entity_state", {"entity_ids": ["light.kitchen_lights"]})
TV_PLEX = render_call("tv_input", {"entity_id": "media_player.lounge_room", "input": "plex"})
PLEX = render_call("plex_play", {"title": "Terminator"})
HUGE_TEMPERATURE = '{"tool_call":{"name":"climate_temperature","arguments":{"entity_id":"climate.hvac","temperature":1' + "0" * 400 + "}}}"
BED_REORDERED = '{"tool_call":{"arguments":{"state":"on","entity_id":"light.bed_light"},"name":"light_power"}}'
SEVENTEEN = "\n".join(render_call("light_brightness", {"entity_id": "light.bed_light", "brightness": i}) for i in range(1, 18))


def _line(name: str, **arguments: object) -> str:
    return render_call(name, arguments)


def _two_plex_players(by_id: dict) -> None:
    by_id["media_player.kitchen"]["capabilities"]["inputs"] = ["plex", "radio"]


def _no_plex_player(by_id: dict) -> None:
    by_id["media_player.lounge_room"]["capabilities"]["inputs"] = ["dvd", "youtube"]


# (case id, output, STATE or None, ontology edit or None, expected codes)
CASES: list[tuple[str, object, dict | None, object, list[ErrorCode]]] = [
    ("empty", "", None, None, [ErrorCode.EMPTY_OUTPUT]),
    ("blank_lines", " \n\t\n", None, None, [ErrorCode.EMPTY_OUTPUT]),
    ("non_utf8_bytes", b"\xff\xfe{}", None, None, [ErrorCode.NOT_TEXT]),
    ("none", None, None, None, [ErrorCode.NOT_TEXT]),
    ("int", 42, None, None, [ErrorCode.NOT_TEXT]),
    ("list", [BED_ON], None, None, [ErrorCode.NOT_TEXT]),
    ("think_block", "<think>\nthe lamp is off\n</think>\n" + BED_ON, None, None, [ErrorCode.THINKING_PRESENT]),
    ("empty_think", "<think>\n\n</think>\n\nWhich lamp?", None, None, [ErrorCode.THINKING_PRESENT]),
    ("text_then_json", "Sure, turning it on:\n" + BED_ON, None, None, [ErrorCode.MIXED_TEXT_AND_JSON]),
    ("json_then_text", BED_ON + "\nDone!", None, None, [ErrorCode.MIXED_TEXT_AND_JSON]),
    ("text_after_json_same_line", BED_ON + " ok", None, None, [ErrorCode.MIXED_TEXT_AND_JSON]),
    ("two_calls_one_line", BED_ON + BED_ON.replace("on", "off"), None, None, [ErrorCode.MULTIPLE_CALLS_PER_LINE]),
    ("two_calls_space", FETCH_BED + " " + FETCH_KITCHEN, None, None, [ErrorCode.MULTIPLE_CALLS_PER_LINE]),
    ("braces_in_text", "Do you mean {the lamp}?", None, None, [ErrorCode.JSON_LIKE_TEXT]),
    ("brackets_in_text", "Which one: [bed light, desk lamp]?", None, None, [ErrorCode.JSON_LIKE_TEXT]),
    ("tool_call_word", "I would emit a tool_call here.", None, None, [ErrorCode.JSON_LIKE_TEXT]),
    ("json_string_text", '"Done."', None, None, [ErrorCode.JSON_LIKE_TEXT]),
    ("json_null_text", "null", None, None, [ErrorCode.JSON_LIKE_TEXT]),
    ("json_number_text", " 42 ", None, None, [ErrorCode.JSON_LIKE_TEXT]),
    ("json_member_text", '"name": "light_power", "entity_id": "light.bed_light"', None, None, [ErrorCode.JSON_LIKE_TEXT]),
    ("truncated_json", BED_ON[:-2], None, None, [ErrorCode.MALFORMED_JSON]),
    ("single_quotes", BED_ON.replace('"', "'"), None, None, [ErrorCode.MALFORMED_JSON]),
    ("nan", _line("climate_temperature", entity_id="climate.hvac", temperature=21).replace("21", "NaN"), None, None, [ErrorCode.MALFORMED_JSON]),
    ("duplicate_key", BED_ON.replace('"state":"on"', '"state":"on","state":"off"'), None, None, [ErrorCode.MALFORMED_JSON]),
    ("bare_object", '{"name":"light_power","arguments":{"entity_id":"light.bed_light","state":"on"}}', None, None, [ErrorCode.NOT_A_TOOL_CALL]),
    ("array_line", "[" + BED_ON + "]", None, None, [ErrorCode.NOT_A_TOOL_CALL]),
    ("extra_top_key", BED_ON[:-1] + ',"id":1}', None, None, [ErrorCode.NOT_A_TOOL_CALL]),
    ("unknown_tool", _line("launch_rocket", entity_id="light.bed_light"), None, None, [ErrorCode.UNKNOWN_TOOL]),
    ("name_not_string", '{"tool_call":{"name":7,"arguments":{}}}', None, None, [ErrorCode.UNKNOWN_TOOL]),
    ("bad_enum", _line("light_power", entity_id="light.bed_light", state="dim"), None, None, [ErrorCode.SCHEMA_VIOLATION]),
    ("extra_argument", _line("light_power", entity_id="light.bed_light", state="on", brightness=5), None, None, [ErrorCode.SCHEMA_VIOLATION]),
    ("missing_argument", _line("light_power", entity_id="light.bed_light"), None, None, [ErrorCode.SCHEMA_VIOLATION]),
    ("wrong_type", _line("light_brightness", entity_id="light.bed_light", brightness="80"), None, None, [ErrorCode.SCHEMA_VIOLATION]),
    ("huge_int_multiple_of", HUGE_TEMPERATURE, None, None, [ErrorCode.SCHEMA_VIOLATION]),
    ("infinite_float", HUGE_TEMPERATURE.replace("1" + "0" * 400, "1e999"), None, None, [ErrorCode.SCHEMA_VIOLATION]),
    ("bool_for_int", _line("light_brightness", entity_id="light.bed_light", brightness=True), None, None, [ErrorCode.SCHEMA_VIOLATION]),
    ("fetch_then_action", FETCH_BED + "\n" + BED_ON, None, None, [ErrorCode.FETCH_WITH_ACTIONS]),
    ("action_then_fetch", BED_ON + "\n" + FETCH_BED, None, None, [ErrorCode.FETCH_WITH_ACTIONS]),
    ("two_fetches", FETCH_BED + "\n" + FETCH_KITCHEN, None, None, [ErrorCode.MULTIPLE_FETCHES]),
    ("duplicate_call", BED_ON + "\n" + BED_ON, None, None, [ErrorCode.DUPLICATE_CALL]),
    ("duplicate_reordered", BED_ON + "\n" + BED_REORDERED, None, None, [ErrorCode.DUPLICATE_CALL]),
    ("duplicate_float_spelling", _line("climate_temperature", entity_id="climate.hvac", temperature=21) + "\n"
     + _line("climate_temperature", entity_id="climate.hvac", temperature=21.0), None, None, [ErrorCode.DUPLICATE_CALL]),
    ("seventeen_calls", SEVENTEEN, None, None, [ErrorCode.TOO_MANY_CALLS]),
    ("over_length", "a" * 20_001, None, None, [ErrorCode.OUTPUT_TOO_LONG]),
    ("fetch_known_state", FETCH_BED, {"light.bed_light": {"state": "off"}}, None, [ErrorCode.STATE_ALREADY_GIVEN]),
    ("unknown_entity", _line("light_power", entity_id="light.garden", state="on"), None, None, [ErrorCode.UNKNOWN_ENTITY]),
    ("fetch_unknown_entity", _line("get_entity_state", entity_ids=["light.garden"]), None, None, [ErrorCode.UNKNOWN_ENTITY]),
    ("not_present", _line("light_power", entity_id="light.entrance_color_white_lights", state="on"), None, None, [ErrorCode.ENTITY_NOT_PRESENT]),
    ("wrong_domain", _line("light_power", entity_id="switch.ac", state="on"), None, None, [ErrorCode.WRONG_DOMAIN]),
    ("missing_capability", _line("tv_input", entity_id="media_player.kitchen", input="plex"), None, None, [ErrorCode.MISSING_CAPABILITY]),
    ("unsupported_value", _line("tv_input", entity_id="media_player.lounge_room", input="hdmi_1"), None, None, [ErrorCode.UNSUPPORTED_VALUE]),
    ("plex_ambiguous", PLEX, None, _two_plex_players, [ErrorCode.TARGET_AMBIGUOUS]),
    ("plex_no_target", PLEX, None, _no_plex_player, [ErrorCode.NO_TARGET]),
]


@pytest.mark.parametrize(("output", "state", "edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case(ontology, edited_ontology, output: object, state: dict | None, edit: object, expected: list[ErrorCode]) -> None:
    onto = edited_ontology(edit) if edit else ontology
    verdict = check_output(output, onto, state)
    assert verdict.kind == KIND_INVALID
    assert verdict.error_codes() == [str(c) for c in expected]
    assert all(e.message for e in verdict.errors)


def test_table_covers_every_error_code() -> None:
    covered = {code for *_, codes in CASES for code in codes}
    assert covered == set(ErrorCode)


def test_error_lines_point_at_the_culprit() -> None:
    verdict = parse_output(BED_ON + "\n\n" + _line("light_power", entity_id="light.bed_light", state="dim"))
    assert [(e.code, e.line) for e in verdict.errors] == [(ErrorCode.SCHEMA_VIOLATION, 3)]
    assert parse_output("Hi\n" + BED_ON).errors[0].line == 1
    # Lines are numbered as in the raw output, leading blank lines included.
    assert parse_output("\n\n" + BED_ON + "\nDone").errors[0].line == 4


VALID = [
    ("plain_text", "Which lamp do you mean, the bed light or the desk lamp?", KIND_TEXT),
    ("text_with_quotes", 'The "lamp" is already on.', KIND_TEXT),
    ("fetch", FETCH_BED, KIND_FETCH),
    ("one_action", BED_ON, KIND_ACTION),
    ("plex_sequence", TV_PLEX + "\n" + PLEX, KIND_ACTION),
    ("crlf_and_padding", "\r\n  " + BED_ON + "  \r\n", KIND_ACTION),
    ("utf8_bytes", ("Il fait déjà chaud, rien à faire.").encode(), KIND_TEXT),
]


@pytest.mark.parametrize(("output", "kind"), [v[1:] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_outputs(ontology, output: object, kind: str) -> None:
    verdict = check_output(output, ontology)
    assert (verdict.kind, verdict.errors) == (kind, [])
    assert verdict.as_dict()["class"] == kind and verdict.as_dict()["valid"] is True
