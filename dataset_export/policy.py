"""The labelling policy (teacher): (ontology, STATE or None, intent) -> expected answer.

Decision table, first matching row wins:

====  ==========================================================  ==========================================
row   condition                                                   answer (output class, tag)
====  ==========================================================  ==========================================
1     intent is out of scope (chit-chat, knowledge, memory, ...)  refusal text (text, ``out_of_scope``)
2     target matches no name, alias, noun or area                 refusal text (text, ``unknown_entity``)
3     name/alias/noun matches several entities                    clarification naming them (text, ``ambiguous``)
4     target is ``present: false``                                refusal text (text, ``not_present``)
5     target lacks the capability or value                        refusal text (text, ``missing_capability``)
5b    area/floor names more targets than one answer may call      clarification asking to narrow (text, ``too_many_targets``)
6     STATE holds every target, one is ``unavailable``            refusal text (text, ``not_present``)
6b    relative change, STATE lacks the level to step from         ask for a level (text, ``unknown_level``)
7     STATE holds every target, goal already holds                no-op text (text, ``already_satisfied``)
8     STATE holds every target                                    minimal ordered actions (action)
9     plan needs state, STATE missing or lacks targets            one ``get_entity_state`` (fetch, ``missing_state``)
10    absolute, idempotent command, no STATE                      direct action(s) (action)
====  ==========================================================  ==========================================

Plans that need state (row 9): toggles, relative changes (brighter, volume up,
warmer), media transport (legal only while something plays), input switching
and playing a title (multi-step: ``tv_power`` -> ``tv_input`` -> ``plex_play``).
Row 8 emits only calls that change something; ``plex_play`` keeps a
``tv_input plex`` before it when another player could also be its target.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from statewise_protocol import FETCH_TOOL, Ontology, ToolCall, render_answer
from statewise_protocol.parser import MAX_CALLS

from . import phrases
from .intents import AMBIGUOUS, NOT_PRESENT, UNKNOWN, Intent, capability_gap, resolve
from .simulate import ON_STATES

FETCH, ACTION, TEXT = "fetch", "action", "text"
STEP = {"brightness_step": 20, "volume_step": 10, "climate_step": 1}
POWER_TOOL = {"light": "light_power", "switch": "switch_power", "fan": "fan_power", "media_player": "tv_power"}


@dataclass(frozen=True)
class Decision:
    """The teacher's answer and why."""

    output_class: str
    calls: tuple[ToolCall, ...] = ()
    text: str = ""
    reason: str = ""
    targets: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())

    @property
    def answer(self) -> str:
        """Assistant text exactly as trained (via the protocol)."""
        return render_answer(self.text if self.output_class == TEXT else list(self.calls))

    @property
    def num_calls(self) -> int:
        """Tool calls in the answer."""
        return len(self.calls)


def _text(text: str, reason: str, targets: tuple[str, ...] = ()) -> Decision:
    return Decision(TEXT, text=text, reason=reason, targets=targets, tags=(reason,))


def direct_calls(eid: str, intent: Intent) -> list[ToolCall]:
    """The action(s) an absolute command maps to, without state."""
    kind, value, domain = intent.kind, intent.value, eid.split(".", 1)[0]
    simple: dict[str, tuple[str, dict[str, Any]]] = {
        "power": (POWER_TOOL.get(domain, ""), {"state": value}),
        "brightness": ("light_brightness", {"brightness": value}),
        "color": ("light_color", {"color": value}),
        "color_temp": ("light_color_temp", {"kelvin": value}),
        "cover": ("cover_control", {"command": value}),
        "cover_position": ("cover_position", {"position": value}),
        "climate_temp": ("climate_temperature", {"temperature": value}),
        "climate_mode": ("climate_mode", {"hvac_mode": value}),
        "fan_speed": ("fan_speed", {"percentage": value}),
        "volume": ("media_volume", {"volume": value}),
        "lock": ("lock_control", {"command": value}),
        "valve": ("valve_control", {"command": value}),
        "vacuum": ("vacuum_control", {"command": value}),
        "scene": ("scene_activate", {}),
        "script": ("script_run", {}),
        "todo_add": ("todo_add", {"item": value}),
    }
    name, args = simple[kind]
    return [ToolCall(name, {"entity_id": eid, **args})]


def _is_on(domain: str, entry: Mapping[str, Any]) -> bool:
    return entry.get("state") in (ON_STATES if domain == "media_player" else {"on"})


def _media_plan(eid: str, entity: dict[str, Any], entry: Mapping[str, Any], intent: Intent, ontology: Ontology) -> tuple[list[ToolCall], str]:
    kind, value, state = intent.kind, intent.value, entry.get("state", "")
    caps = entity.get("capabilities") or {}
    power_on = [ToolCall("tv_power", {"entity_id": eid, "state": "on"})] if caps.get("power") and not _is_on("media_player", entry) else []
    if kind == "media":
        active = {"pause": state == "playing", "resume": state == "paused", "next": state in ("playing", "paused"),
                  "previous": state in ("playing", "paused"), "stop": state in ("playing", "paused")}[value]
        command = "play" if value == "resume" else value
        verb = {"pause": "pause", "resume": "resume", "next": "skip", "previous": "go back to", "stop": "stop"}[value]
        return ([ToolCall("media_control", {"entity_id": eid, "command": command})] if active else []), f"{state}, with nothing to {verb}"
    if kind == "volume_step":
        if not _is_on("media_player", entry):
            return [], "off, so there is no volume to change"
        vol = entry.get("volume", 50)
        new = min(100, vol + STEP[kind]) if value == "up" else max(0, vol - STEP[kind])
        desc = "at full volume" if value == "up" else "at zero volume"
        return ([ToolCall("media_volume", {"entity_id": eid, "volume": new})] if new != vol else []), desc
    if kind == "tv_input":
        if _is_on("media_player", entry) and entry.get("source") == value:
            return [], f"on {str(value).replace('_', ' ')}"
        return [*power_on, ToolCall("tv_input", {"entity_id": eid, "input": value})], ""
    # play_title
    others = [o for o, e in ontology.entities.items() if o != eid and e.get("present", True) and "plex" in (e.get("capabilities") or {}).get("inputs", [])]
    on_plex = _is_on("media_player", entry) and entry.get("source") == "plex"
    switch = [] if on_plex and not others else [ToolCall("tv_input", {"entity_id": eid, "input": "plex"})]
    return [*power_on, *switch, ToolCall("plex_play", {"title": value})], ""


def stateful_calls(eid: str, entity: dict[str, Any], entry: Mapping[str, Any], intent: Intent, ontology: Ontology) -> tuple[list[ToolCall], str]:
    """Minimal calls from ``entry`` to the intent's goal, and a no-op description when none are needed."""
    kind, value, domain = intent.kind, intent.value, entity["domain"]
    state, on = entry.get("state", ""), _is_on(domain, entry)
    if kind in ("media", "volume_step", "tv_input", "play_title"):
        return _media_plan(eid, entity, entry, intent, ontology)
    if kind == "toggle":
        return [ToolCall(POWER_TOOL[domain], {"entity_id": eid, "state": "off" if on else "on"})], ""
    if kind == "power":
        done = on if value == "on" else not on
        return ([] if done else direct_calls(eid, intent)), str(value)
    if kind == "brightness_step":
        if not on:
            return ([ToolCall("light_power", {"entity_id": eid, "state": "on"})] if value == "up" else []), "off"
        cur = entry.get("brightness", 100)
        new = min(100, cur + STEP[kind]) if value == "up" else max(1, cur - STEP[kind])
        desc = "at full brightness" if value == "up" else "at its lowest brightness"
        return ([ToolCall("light_brightness", {"entity_id": eid, "brightness": new})] if new != cur else []), desc
    if kind == "climate_step":
        low, high = entity["capabilities"]["temp_range"]
        cur = entry.get("temperature", entry.get("current_temperature", low))
        new = _half_degrees(cur + STEP[kind] if value == "up" else cur - STEP[kind], low, high)
        desc = f"at its {'highest' if value == 'up' else 'lowest'} setting of {cur} degrees"
        return ([ToolCall("climate_temperature", {"entity_id": eid, "temperature": new})] if new != cur else []), desc
    done, desc = _satisfied(kind, value, state, on, entry)
    return ([] if done else direct_calls(eid, intent)), desc


LEVEL_WORD = {"brightness_step": "brightness", "volume_step": "volume", "climate_step": "target temperature"}


def _level_unknown(entity: dict[str, Any], entry: Mapping[str, Any], intent: Intent) -> bool:
    """True when a relative change has no current level in STATE to start from (never guess one)."""
    if intent.kind == "brightness_step":
        return _is_on("light", entry) and "brightness" not in entry
    if intent.kind == "volume_step":
        return _is_on("media_player", entry) and "volume" not in entry
    if intent.kind == "climate_step":
        return "temperature" not in entry and "current_temperature" not in entry
    return False


def _half_degrees(temp: float, low: float, high: float) -> float:
    """``temp`` on ``climate_temperature``'s 0.5-degree grid, inside ``[low, high]`` (a live 20.7 would fail the schema)."""
    snapped = min(math.floor(high * 2) / 2, max(math.ceil(low * 2) / 2, round(temp * 2) / 2))
    return int(snapped) if snapped.is_integer() else snapped


def _satisfied(kind: str, value: Any, state: str, on: bool, entry: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether an absolute goal already holds, and how to say so."""
    if kind == "brightness":
        return on and entry.get("brightness") == value, f"at {value} percent brightness"
    if kind == "color_temp":
        return on and entry.get("color_temp_kelvin") == value, f"at {value} kelvin"
    if kind == "cover":
        if value == "open":
            return state == "open" and entry.get("position", 100) == 100, "fully open"
        if value == "close":
            return state == "closed", "closed"
        return state not in ("opening", "closing"), "not moving"
    if kind == "cover_position":
        return entry.get("position") == value, f"at {value} percent"
    if kind == "climate_temp":
        return entry.get("temperature") == value, f"set to {value} degrees"
    if kind == "climate_mode":
        return state == value, f"in {str(value).replace('_', ' ')} mode"
    if kind == "fan_speed":
        return on and entry.get("percentage") == value, f"running at {value} percent"
    if kind == "volume":
        return entry.get("volume") == value, f"at volume {value}"
    if kind == "lock":
        return state == f"{value}ed", f"{value}ed"
    if kind == "valve":
        return state == ("open" if value == "open" else "closed"), "open" if value == "open" else "closed"
    if kind == "vacuum":
        idle = {"start": ("cleaning",), "return_home": ("docked", "returning"), "pause": ("paused", "docked", "idle"), "stop": ("docked", "idle", "paused")}
        words = {"start": "cleaning", "return_home": "docked or on its way", "pause": "not cleaning", "stop": "not cleaning"}
        return state in idle[value], words[value]
    return False, ""


def decide(ontology: Ontology, state: Mapping[str, Mapping[str, Any]] | None, intent: Intent, variant: int = 0) -> Decision:
    """Apply the decision table (module docstring). Pure; ``variant`` only picks the text phrasing."""
    if intent.kind == "out_of_scope":
        return _text(phrases.out_of_scope(intent.topic, variant), "out_of_scope")
    res = resolve(ontology, intent)
    mention = intent.mention or intent.area or intent.floor or "that"
    if res.status == UNKNOWN:
        return _text(phrases.unknown(mention, variant), "unknown_entity")
    entities = ontology.entities
    if res.status == AMBIGUOUS:
        names = [phrases.display(entities[c], with_area=True) for c in res.candidates]
        return _text(phrases.ambiguous(mention, names, variant), "ambiguous", res.candidates)
    if res.status == NOT_PRESENT:
        return _text(phrases.not_present([phrases.display(entities[c]) for c in res.ids], variant), "not_present", res.ids)
    targets = res.ids
    if len(targets) > MAX_CALLS:
        return _text(phrases.too_many(mention, len(targets), variant), "too_many_targets", targets)
    for eid in targets:
        gap = capability_gap(entities[eid], intent)
        if gap is not None:
            return _text(phrases.missing(phrases.display(entities[eid]), gap, variant), "missing_capability", targets)
    if state is not None and all(eid in state for eid in targets):
        gone = [eid for eid in targets if state[eid].get("state") == "unavailable"]
        if gone:
            return _text(phrases.not_present([phrases.display(entities[e]) for e in gone], variant), "not_present", targets)
        blind = [eid for eid in targets if _level_unknown(entities[eid], state[eid], intent)]
        if blind:
            what = LEVEL_WORD[intent.kind]
            return _text(phrases.unknown_level(phrases.display(entities[blind[0]]), what, variant), "unknown_level", targets)
        calls: list[ToolCall] = []
        descs: list[str] = []
        for eid in targets:
            more, desc = stateful_calls(eid, entities[eid], state[eid], intent, ontology)
            calls += more
            descs.append(desc)
        if not calls:
            names = [phrases.display(entities[e]) for e in targets]
            subject = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            text = phrases.noop(subject, descs[0], variant)
            return Decision(TEXT, text=text, reason="already_satisfied", targets=targets, tags=("already_satisfied",))
        return Decision(ACTION, tuple(calls), reason="action", targets=targets)
    if intent.needs_state:
        missing = [eid for eid in targets if state is None or eid not in state]
        call = ToolCall(FETCH_TOOL, {"entity_ids": missing})
        return Decision(FETCH, (call,), reason="missing_state", targets=targets, tags=("missing_state",))
    calls = [c for eid in targets for c in direct_calls(eid, intent)]
    return Decision(ACTION, tuple(calls), reason="action", targets=targets)
