"""The fine-tune plan's example lines are v0 outputs, verbatim."""

from __future__ import annotations

import json

from statewise_protocol import (
    KIND_ACTION,
    KIND_FETCH,
    ToolCall,
    check_output,
    load_tools,
    parse_output,
    render_answer,
    render_call,
)

# Copied byte for byte from shared/seeds/000_5dc089ce0fa7f59c.txt.
FETCH_LINE = '{"tool_call":{"name":"get_entity_state","arguments":{"entity_ids":["movie_room_tv"]}}}'
ACTION_LINES = [
    '{"tool_call":{"name":"tv_power","arguments":{"entity_id":"movie_room_tv","state":"on"}}}',
    '{"tool_call":{"name":"tv_input","arguments":{"entity_id":"movie_room_tv","input":"plex"}}}',
    '{"tool_call":{"name":"plex_play","arguments":{"title":"Terminator"}}}',
]


def test_each_line_validates_against_its_schema() -> None:
    tools = load_tools()
    for line in [FETCH_LINE, *ACTION_LINES]:
        obj = json.loads(line)
        spec = tools[obj["tool_call"]["name"]]
        assert list(spec.validator.iter_errors(obj)) == []


def test_fetch_line_parses_as_fetch() -> None:
    verdict = parse_output(FETCH_LINE)
    assert (verdict.kind, verdict.errors) == (KIND_FETCH, [])
    assert verdict.calls == [ToolCall("get_entity_state", {"entity_ids": ["movie_room_tv"]})]


def test_action_lines_parse_as_ordered_actions() -> None:
    verdict = parse_output("\n".join(ACTION_LINES))
    assert (verdict.kind, verdict.errors) == (KIND_ACTION, [])
    assert [c.name for c in verdict.calls] == ["tv_power", "tv_input", "plex_play"]
    assert verdict.calls[2].arguments == {"title": "Terminator"}


def test_render_call_reproduces_lines_byte_for_byte() -> None:
    for line in [FETCH_LINE, *ACTION_LINES]:
        call = json.loads(line)["tool_call"]
        assert render_call(call["name"], call["arguments"]) == line
        # Argument order in the input does not matter: schema order wins.
        assert render_call(call["name"], dict(reversed(call["arguments"].items()))) == line
    calls = parse_output("\n".join(ACTION_LINES)).calls
    assert render_answer(calls) == "\n".join(ACTION_LINES)


def test_plan_sequence_is_valid_on_demo_home_tv(ontology) -> None:
    lines = [line.replace("movie_room_tv", "media_player.lounge_room") for line in ACTION_LINES]
    verdict = check_output("\n".join(lines), ontology)
    assert (verdict.kind, verdict.errors) == (KIND_ACTION, [])
    # The demo home has no entity "movie_room_tv": the verbatim plan lines name an unknown entity.
    assert check_output(FETCH_LINE, ontology).error_codes() == ["unknown_entity"]
