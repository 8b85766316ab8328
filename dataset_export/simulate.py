"""Deterministic effects of v0 action tools on a state snapshot.

Used by the teacher (to check that a plan reaches its goal) and by the
trainer's evaluator (multi-turn final-state checks). States are snapshot
entries as :func:`statewise_protocol.entity_state` writes them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from statewise_protocol import Ontology, ToolCall, resolve_plex_target

States = dict[str, dict[str, Any]]
ON_STATES = frozenset({"on", "playing", "paused", "idle", "buffering"})
_DROP_WHEN_OFF = {"light": ("brightness", "color_temp_kelvin"), "media_player": ("source", "volume", "media_title")}


def _set(states: States, eid: str, **changes: Any) -> dict[str, Any]:
    entry = states.setdefault(eid, {"state": "unknown"})
    entry.update(changes)
    return entry


def _power(states: States, eid: str, domain: str, on: bool) -> None:
    entry = states.setdefault(eid, {"state": "off"})
    if on:
        if entry["state"] not in ON_STATES:
            entry["state"] = "on"
        if domain == "light" and "brightness" not in entry:
            entry["brightness"] = 100
        if domain == "fan" and not entry.get("percentage"):
            entry["percentage"] = 100
    else:
        entry["state"] = "off"
        for key in _DROP_WHEN_OFF.get(domain, ()):
            entry.pop(key, None)
        if domain == "fan":
            entry["percentage"] = 0


def _open_close(states: States, eid: str, opened: bool) -> None:
    entry = _set(states, eid, state="open" if opened else "closed")
    if "position" in entry:
        entry["position"] = 100 if opened else 0


def apply_call(states: States, call: ToolCall, calls: Sequence[ToolCall], index: int, ontology: Ontology) -> None:
    """Apply one call in place (``calls``/``index`` resolve ``plex_play``'s player)."""
    args = call.arguments
    eid = args.get("entity_id", "")
    domain = eid.split(".", 1)[0]
    name = call.name
    if name in ("light_power", "switch_power", "fan_power", "tv_power"):
        _power(states, eid, domain, args["state"] == "on")
    elif name == "light_brightness":
        _set(states, eid, state="on", brightness=args["brightness"])
    elif name == "light_color":
        _power(states, eid, domain, True)
    elif name == "light_color_temp":
        _power(states, eid, domain, True)
        _set(states, eid, color_temp_kelvin=args["kelvin"])
    elif name == "fan_speed":
        _power(states, eid, domain, args["percentage"] > 0)
        _set(states, eid, percentage=args["percentage"])
    elif name == "tv_input":
        _power(states, eid, domain, True)
        _set(states, eid, source=args["input"])
    elif name == "media_control":
        entry = states.setdefault(eid, {"state": "idle"})
        entry["state"] = {"play": "playing", "pause": "paused", "stop": "idle"}.get(args["command"], entry["state"])
    elif name == "media_volume":
        _set(states, eid, volume=args["volume"])
    elif name == "plex_play":
        target, _ = resolve_plex_target(calls, index, ontology.entities)
        if target:
            _set(states, target, state="playing", source="plex", media_title=args["title"])
    elif name == "climate_mode":
        _set(states, eid, state=args["hvac_mode"])
    elif name == "climate_temperature":
        _set(states, eid, temperature=args["temperature"])
    elif name in ("cover_control", "valve_control"):
        if args["command"] != "stop":
            _open_close(states, eid, args["command"] == "open")
    elif name == "cover_position":
        _set(states, eid, position=args["position"], state="open" if args["position"] > 0 else "closed")
    elif name == "lock_control":
        _set(states, eid, state="locked" if args["command"] == "lock" else "unlocked")
    elif name == "vacuum_control":
        _set(states, eid, state={"start": "cleaning", "stop": "idle", "pause": "paused", "return_home": "returning"}[args["command"]])
    # get_entity_state, scene_activate, script_run, todo_add: no modelled state change


def apply_calls(states: Mapping[str, Mapping[str, Any]], calls: Sequence[ToolCall], ontology: Ontology) -> States:
    """New states after executing ``calls`` in order (the input is not modified)."""
    out: States = copy.deepcopy({k: dict(v) for k, v in states.items()})
    for index, call in enumerate(calls):
        apply_call(out, call, calls, index, ontology)
    return out
