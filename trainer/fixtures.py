"""A handful of hand-labelled rows in the CONTRACTS.md format, for tests, the benchmark and smoke runs.

Built from ``examples/demo_home`` (a few of its entities, to keep prompts short)
through ``statewise_protocol.render_messages``. Not a training set: the dataset
builder (``dataset_export``) makes those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import statewise_protocol as sp

DEMO_HOME = Path(__file__).resolve().parent.parent / "examples" / "demo_home"
SUBSET = ("light.kitchen_lights", "light.bed_light", "light.entrance_color_white_lights", "media_player.lounge_room", "switch.decorative_lights")


def _line(name: str, **arguments: Any) -> str:
    return sp.render_call(name, arguments)


def demo_rows(entity_ids: tuple[str, ...] = SUBSET) -> list[dict[str, Any]]:
    """Eight rows covering fetch (with follow-up), single and multi-step action, text and a state group."""
    export = sp.load_export(DEMO_HOME)
    onto = sp.Ontology.from_entities([export.ontology.entities[e] for e in entity_ids])
    live = {e: s for e, s in export.snapshots[0].states.items() if e in entity_ids}
    off = {**live, "switch.decorative_lights": {"state": "off"}, "light.kitchen_lights": {"state": "off"}}
    on = {**live, "switch.decorative_lights": {"state": "on"}, "light.kitchen_lights": {"state": "on", "brightness": 40}}
    tv_on = {**live, "media_player.lounge_room": {"state": "on", "source": "youtube", "volume": 20}}
    tv_off = {**live, "media_player.lounge_room": {"state": "off"}}
    plex = [("tv_power", {"entity_id": "media_player.lounge_room", "state": "on"}), ("tv_input", {"entity_id": "media_player.lounge_room", "input": "plex"})]
    specs: list[dict[str, Any]] = [
        dict(cmd="turn on the kitchen lights", state=None, full=off, answer=_line("light_power", entity_id="light.kitchen_lights", state="on"),
             cls="action", n=1, tags=["absolute"], domain="light", intent="HassTurnOn"),
        dict(cmd="make the kitchen lights brighter", state=None, full=on, answer=_line("get_entity_state", entity_ids=["light.kitchen_lights"]),
             cls="fetch", n=1, tags=["missing_state"], domain="light", intent="brighter",
             followup=_line("light_brightness", entity_id="light.kitchen_lights", brightness=60)),
        dict(cmd="play Terminator on the movie room tv", state=None, full=tv_off, answer=_line("get_entity_state", entity_ids=["media_player.lounge_room"]),
             cls="fetch", n=1, tags=["missing_state", "alias"], domain="media_player", intent="play_title",
             followup="\n".join([*(_line(n, **a) for n, a in plex), _line("plex_play", title="Terminator")])),
        dict(cmd="play Alien on the tv", state=tv_off, full=tv_off, answer="\n".join([*(_line(n, **a) for n, a in plex), _line("plex_play", title="Alien")]),
             cls="action", n=3, tags=["multi_step", "alias"], domain="media_player", intent="play_title"),
        dict(cmd="switch on the porch light", state=None, full=off, answer="The porch light is not available right now.",
             cls="text", n=0, tags=["not_present", "alias"], domain="light", intent="HassTurnOn"),
        dict(cmd="what is the capital of France", state=None, full=None, answer="I can only control devices in this home.",
             cls="text", n=0, tags=["out_of_scope"], domain="", intent="out_of_scope"),
        dict(cmd="toggle the fairy lights", state=sp.state_subset(off, ["switch.decorative_lights"]), full=off,
             answer=_line("switch_power", entity_id="switch.decorative_lights", state="on"),
             cls="action", n=1, tags=["state_sensitive", "alias"], domain="switch", intent="toggle", group="g-toggle-fairy"),
        dict(cmd="toggle the fairy lights", state=sp.state_subset(on, ["switch.decorative_lights"]), full=on,
             answer=_line("switch_power", entity_id="switch.decorative_lights", state="off"),
             cls="action", n=1, tags=["state_sensitive", "alias"], domain="switch", intent="toggle", group="g-toggle-fairy"),
        dict(cmd="turn on the tv", state=sp.state_subset(tv_on, ["media_player.lounge_room"]), full=tv_on, answer="The TV is already on.",
             cls="text", n=0, tags=["already_satisfied", "alias"], domain="media_player", intent="HassTurnOn"),
    ]
    rows = []
    for i, s in enumerate(specs):
        rows.append({
            "id": f"demo-{i:03d}",
            "messages": sp.render_messages(onto, s["cmd"], s["state"], answer=s["answer"]),
            "output_class": s["cls"],
            "num_calls": s["n"],
            "tags": s["tags"],
            "group": s.get("group", ""),
            "snapshot": "live",
            "state": sp.state_json(s["full"]) if s["full"] is not None else "",
            "followup": s.get("followup", ""),
            "intent": s["intent"],
            "template": f"demo-{i}",
            "domain": s["domain"],
        })  # fmt: skip
    return rows
