"""The labelling policy (teacher): (ontology, STATE or None, intent) -> expected answer.

Decision table, first matching row wins:

====  ==========================================================  ==========================================
row   condition                                                   answer (output class, tag)
====  ==========================================================  ==========================================
1     intent is out of scope (chit-chat, knowledge, memory, ...)  refusal text (text, ``out_of_scope``)
1b    a request with several parts, one of them impossible        nothing runs; the text says which part
      (unknown, unclear, absent or incapable device)              cannot be done (text, ``partly_impossible``)
2     target matches no name, alias, noun or area                 refusal text (text, ``unknown_entity``),
                                                                  naming the kind and place when no name was said
3     name/alias/noun matches several entities                    clarification naming them (text, ``ambiguous``)
4     target is ``present: false``                                refusal text (text, ``not_present``)
5     target lacks the capability or value (an area, or "all     refusal text (text, ``missing_capability``)
      the lights", keeps the devices that can: none left is a
      refusal)
5b    area/floor names more targets than one answer may call      clarification asking to narrow (text, ``too_many_targets``)
6     STATE holds every target, one is ``unavailable``            refusal text (text, ``not_present``)
6b    relative change, STATE lacks the level to step from         ask for a level (text, ``unknown_level``)
7     STATE holds every target, goal already holds                no-op text (text, ``already_satisfied``)
8     STATE holds every target                                    minimal ordered actions (action)
9     plan needs state, STATE missing or lacks targets            one ``get_entity_state`` (fetch, ``missing_state``)
10    absolute, idempotent command, no STATE                      direct action(s) (action)
====  ==========================================================  ==========================================

Values as people say them: brightness or fan speed 0 is "off" (the power call);
"by N percent/degrees" steps by N (else 20 % brightness, 10 % volume, 1 degree);
"play"/"resume" on an idle or stopped player plays (a player that is off is
switched on first). Plans that need state (row 9): toggles, relative changes
(brighter, volume up, warmer), media transport, input switching and playing a
title (multi-step: ``tv_power`` -> ``tv_input`` -> ``plex_play``). Row 8 emits
only calls that change something; ``plex_play`` keeps a ``tv_input plex`` before
it when another player could also be its target. A request naming two devices
("the desk lamp and the fan") or said in steps ("turn on the porch light and then
turn off the hall light", each step read on its own) is planned part by part, then
joined in the order said (row 1b when one part fails).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from statewise_protocol import FETCH_TOOL, KIND_ACTION, KIND_FETCH, KIND_TEXT, Ontology, ToolCall, call_key, render_answer
from statewise_protocol.parser import MAX_CALLS
from statewise_protocol.simulate import changes, is_on

from . import phrases
from .intents import (
    AMBIGUOUS,
    NOT_PRESENT,
    UNKNOWN,
    Intent,
    capability_gap,
    device_nouns,
    kind_say,
    kind_tool,
    language_of,
    noun_matches,
    noun_say,
    on_grid,
    resolve,
)
from .language import Language
from .stateful import STATEFUL

FETCH, ACTION, TEXT = KIND_FETCH, KIND_ACTION, KIND_TEXT
# A value that is "off" said as a level: the kind's power call instead (0 % brightness, fan speed 0).
ZERO_IS_OFF = frozenset({"brightness", "fan_speed"})


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
    """The action an absolute command maps to, without state: the tool whose ``intent`` is the kind, for the entity's domain."""
    spec = kind_tool(intent.kind, eid.split(".", 1)[0])
    if spec is None or spec.intent is None:
        raise ValueError(f"no tool does {intent.kind!r} on {eid}")
    args: dict[str, Any] = {spec.target_arg or "entity_id": eid}
    if spec.intent.get("value"):
        args[spec.intent["value"]] = on_grid(intent.value, spec.arguments.get(spec.intent["value"], {}).get("multipleOf"))
    return [ToolCall(spec.name, args)]



def _media_plan(eid: str, entity: dict[str, Any], entry: Mapping[str, Any], intent: Intent, ontology: Ontology) -> tuple[list[ToolCall], str]:
    kind, value, state = intent.kind, intent.value, entry.get("state", "")
    lang = language_of(intent)
    caps = entity.get("capabilities") or {}
    power_on = direct_calls(eid, Intent("power", "on")) if caps.get("power") and not is_on("media_player", entry) else []
    if kind == "media":
        if value == "resume":
            if state == "playing":
                return [], lang.already_said("playing")
            if state == "off":
                return ([*power_on, ToolCall("media_control", {"entity_id": eid, "command": "play"})] if power_on else []), lang.already_said("player_off")
            return [ToolCall("media_control", {"entity_id": eid, "command": "play"})], ""
        active = {"pause": state == "playing", "next": state in ("playing", "paused"),
                  "previous": state in ("playing", "paused"), "stop": state in ("playing", "paused")}[value]
        said_state = lang.phrases["media_state"].get(state, str(state).replace("_", " "))
        desc = lang.already_said("nothing_to", state=said_state, verb=lang.phrases["media_verb"][value])
        return ([ToolCall("media_control", {"entity_id": eid, "command": value})] if active else []), desc
    if kind == "volume_step":
        if not is_on("media_player", entry):
            return [], lang.already_said("no_volume")
        vol = entry.get("volume", 50)
        step = _step(intent)
        new = min(100, vol + step) if value == "up" else max(0, vol - step)
        desc = lang.already_said("full_volume" if value == "up" else "zero_volume")
        return ([ToolCall("media_volume", {"entity_id": eid, "volume": new})] if new != vol else []), desc
    if kind == "tv_input":
        if is_on("media_player", entry) and entry.get("source") == value:
            return [], lang.already_said("on_input", value=str(value).replace("_", " "))
        return [*power_on, ToolCall("tv_input", {"entity_id": eid, "input": value})], ""
    # play_title
    others = [o for o, e in ontology.entities.items() if o != eid and e.get("present", True) and "plex" in (e.get("capabilities") or {}).get("inputs", [])]
    on_plex = is_on("media_player", entry) and entry.get("source") == "plex"
    switch = [] if on_plex and not others else [ToolCall("tv_input", {"entity_id": eid, "input": "plex"})]
    return [*power_on, *switch, ToolCall("plex_play", {"title": value})], ""


def stateful_calls(eid: str, entity: dict[str, Any], entry: Mapping[str, Any], intent: Intent, ontology: Ontology) -> tuple[list[ToolCall], str]:
    """Minimal calls from ``entry`` to the intent's goal, and a no-op description when none are needed."""
    kind, value, domain = intent.kind, intent.value, entity["domain"]
    lang = language_of(intent)
    on = is_on(domain, entry)
    if kind in ("media", "volume_step", "tv_input", "play_title"):
        return _media_plan(eid, entity, entry, intent, ontology)
    if kind == "toggle":
        return direct_calls(eid, Intent("power", "off" if on else "on")), ""
    if kind == "brightness_step":
        if not on:
            return ([ToolCall("light_power", {"entity_id": eid, "state": "on"})] if value == "up" else []), lang.already_said("light_off")
        cur = entry.get("brightness", 100)
        new = min(100, cur + _step(intent)) if value == "up" else max(1, cur - _step(intent))
        desc = lang.already_said("full_brightness" if value == "up" else "lowest_brightness")
        return ([ToolCall("light_brightness", {"entity_id": eid, "brightness": new})] if new != cur else []), desc
    if kind == "climate_step":
        low, high = entity["capabilities"]["temp_range"]
        cur = entry.get("temperature", entry.get("current_temperature", low))
        new = _half_degrees(cur + _step(intent) if value == "up" else cur - _step(intent), low, high)
        desc = lang.already_said("highest_setting" if value == "up" else "lowest_setting", value=cur)
        return ([ToolCall("climate_temperature", {"entity_id": eid, "temperature": new})] if new != cur else []), desc
    calls = direct_calls(eid, intent)
    if changes(entry, calls, ontology, eid):
        return calls, ""
    return [], _already(calls[0], value, lang)


def _step(intent: Intent) -> float:
    """How far a relative change goes: what the user said ("by 4 degrees"), else the kind's usual step."""
    amount = intent.amount
    return amount if isinstance(amount, int | float) and not isinstance(amount, bool) and amount > 0 else STATEFUL[intent.kind].step


def _level_unknown(entity: dict[str, Any], entry: Mapping[str, Any], intent: Intent) -> bool:
    """True when a relative change has no current level in STATE to start from (never guess one)."""
    if intent.kind == "brightness_step":
        return is_on("light", entry) and "brightness" not in entry
    if intent.kind == "volume_step":
        return is_on("media_player", entry) and "volume" not in entry
    if intent.kind == "climate_step":
        return "temperature" not in entry and "current_temperature" not in entry
    return False


def _half_degrees(temp: float, low: float, high: float) -> float:
    """``temp`` on ``climate_temperature``'s 0.5-degree grid, inside ``[low, high]`` (a live 20.7 would fail the schema)."""
    snapped = min(math.floor(high * 2) / 2, max(math.ceil(low * 2) / 2, round(temp * 2) / 2))
    return int(snapped) if snapped.is_integer() else snapped


def _already(call: ToolCall, value: Any, lang: Language) -> str:
    """How to say that a call's goal already holds (the tool's ``already`` words in ``lang``)."""
    words = lang.already(call.name, call.arguments)
    shown = int(value) if isinstance(value, float) and value.is_integer() else value
    return words.format(value=str(shown).replace("_", " "))


def _said_as(intent: Intent) -> Intent:
    """The intent as the tools take it: a level of 0 is the power call (row-10 note)."""
    if intent.kind in ZERO_IS_OFF and isinstance(intent.value, int | float) and not isinstance(intent.value, bool) and intent.value == 0:
        return replace(intent, kind="power", value="off")
    return intent


def _capable(ontology: Ontology, targets: tuple[str, ...], intent: Intent, scoped: bool) -> tuple[tuple[str, ...], str | None, str]:
    """The targets that can do the intent, or the first refusal: (capable, refused entity, why)."""
    entities = ontology.entities
    gaps = {eid: capability_gap(entities[eid], intent) for eid in targets}
    capable = tuple(eid for eid in targets if gaps[eid] is None)
    if capable and (scoped or len(capable) == len(targets)):
        return capable, None, ""
    refused = next(eid for eid in targets if gaps[eid] is not None)
    return (), refused, gaps[refused] or ""


def _refusal(ontology: Ontology, intent: Intent, mention: str | None, variant: int) -> Decision | None:
    """Rows 2-5 for one target (``None`` when it resolves to devices that can do it)."""
    res = resolve(ontology, intent, mention)
    lang = language_of(intent)
    entities = ontology.entities
    said = mention or intent.mention or intent.area or intent.floor or noun_say(intent.noun, lang) or lang.phrase("that")
    if res.status == UNKNOWN:
        if mention or intent.mention:
            return _text(phrases.unknown(said, variant, lang), "unknown_entity")
        nouns = device_nouns(lang)
        kind_there = [e for e in entities.values() if intent.noun in nouns and noun_matches(nouns[intent.noun], e)]
        if kind_there and not (intent.area or intent.floor):  # the home has one, it just cannot do this
            why = capability_gap(kind_there[0], intent) or lang.phrase("do_that")
            return _text(phrases.missing(phrases.display(kind_there[0], lang), why, variant, lang), "missing_capability", (kind_there[0]["id"],))
        place = intent.area or intent.floor
        domains = intent.domains or ()
        what = noun_say(intent.noun, lang) or kind_say(intent.device_class, tuple(domains), lang)
        what = what or lang.phrase("device_that_can")
        return _text(phrases.none_there(what, lang.phrase("the_place", place=place) if place else None, variant, lang), "unknown_entity")
    if res.status == AMBIGUOUS:
        names = [phrases.display(entities[c], lang, with_area=True) for c in res.candidates]
        return _text(phrases.ambiguous(said, names, variant, lang), "ambiguous", res.candidates)
    if res.status == NOT_PRESENT:
        return _text(phrases.not_present([phrases.display(entities[c], lang) for c in res.ids], variant, lang), "not_present", res.ids)
    # a place, or every device of a type ("set all the lights to red"), keeps the devices that can
    _, refused, why = _capable(ontology, res.ids, intent, scoped=res.via in ("area", "floor", "area_alias", "area_type") or intent.every)
    if refused is not None:
        return _text(phrases.missing(phrases.display(entities[refused], lang), why, variant, lang), "missing_capability", res.ids)
    return None


def decide(ontology: Ontology, state: Mapping[str, Mapping[str, Any]] | None, intent: Intent, variant: int = 0) -> Decision:
    """Apply the decision table (module docstring). Pure; ``variant`` only picks the text phrasing."""
    lang = language_of(intent)
    if intent.kind == "out_of_scope":
        return _text(phrases.out_of_scope(intent.topic, variant, lang), "out_of_scope")
    intent = _said_as(intent)
    if intent.also is not None or intent.then:
        return _decide_parts(ontology, state, intent, variant)
    refusal = _refusal(ontology, intent, None, variant)
    if refusal is not None:
        return refusal
    res = resolve(ontology, intent)
    targets, _, _ = _capable(ontology, res.ids, intent, scoped=True)
    mention = intent.mention or intent.area or intent.floor or noun_say(intent.noun, lang) or lang.phrase("that")
    entities = ontology.entities
    if len(targets) > MAX_CALLS:
        return _text(phrases.too_many(mention, len(targets), variant, lang), "too_many_targets", targets)
    if state is not None and all(eid in state for eid in targets):
        gone = [eid for eid in targets if state[eid].get("state") == "unavailable"]
        if gone:
            return _text(phrases.not_present([phrases.display(entities[e], lang) for e in gone], variant, lang), "not_present", targets)
        blind = [eid for eid in targets if _level_unknown(entities[eid], state[eid], intent)]
        if blind:
            what = lang.phrases["level"][intent.kind]
            return _text(phrases.unknown_level(phrases.display(entities[blind[0]], lang), what, variant, lang), "unknown_level", targets)
        calls: list[ToolCall] = []
        descs: list[str] = []
        for eid in targets:
            more, desc = stateful_calls(eid, entities[eid], state[eid], intent, ontology)
            calls += more
            descs.append(desc)
        if not calls:
            subject = lang.join_and([phrases.display(entities[e], lang) for e in targets])
            text = phrases.noop(subject, descs[0], variant, lang)
            return Decision(TEXT, text=text, reason="already_satisfied", targets=targets, tags=("already_satisfied",))
        return Decision(ACTION, tuple(calls), reason="action", targets=targets)
    if intent.needs_state:
        missing = [eid for eid in targets if state is None or eid not in state]
        call = ToolCall(FETCH_TOOL, {"entity_ids": missing})
        return Decision(FETCH, (call,), reason="missing_state", targets=targets, tags=("missing_state",))
    calls = [c for eid in targets for c in direct_calls(eid, intent)]
    return Decision(ACTION, tuple(calls), reason="action", targets=targets)


def _parts(intent: Intent) -> list[Intent]:
    """The request's parts in the order said: each step (``then``), a step naming two devices as two parts."""
    out: list[Intent] = []
    for step in intent.steps:
        out += [replace(step, also=None), replace(step, mention=step.also, also=None)] if step.also is not None else [step]
    return out


def _decide_parts(ontology: Ontology, state: Mapping[str, Mapping[str, Any]] | None, intent: Intent, variant: int) -> Decision:
    """Row 1b: a request of several parts (two devices, or steps said in order, each read on its own).

    Every part possible: the parts' plans joined in the order said (one fetch of every
    target a part needs state for); one impossible: nothing runs, the text says which.
    """
    parts = _parts(intent)
    lang = language_of(intent)
    for part in parts:
        refusal = _refusal(ontology, part, None, variant)
        if refusal is not None:
            what = part.mention or part.area or part.floor or noun_say(part.noun, lang) or lang.phrase("that")
            return Decision(TEXT, text=phrases.partly_impossible(what, refusal.text, variant, lang), reason="partly_impossible",
                            targets=refusal.targets, tags=("partly_impossible", refusal.reason))
    decisions = [decide(ontology, state, part, variant) for part in parts]
    targets = tuple(sorted({t for d in decisions for t in d.targets}))
    for part, d in zip(parts, decisions, strict=True):
        if d.output_class == TEXT and d.reason != "already_satisfied":  # too many targets, no level to step from, unavailable
            what = part.mention or part.area or part.floor or noun_say(part.noun, lang) or lang.phrase("that")
            return Decision(TEXT, text=phrases.partly_impossible(what, d.text, variant, lang), reason="partly_impossible", targets=d.targets,
                            tags=("partly_impossible", d.reason))
    if any(d.output_class == FETCH for d in decisions):
        missing = sorted({e for d in decisions if d.output_class == FETCH for e in d.calls[0].arguments["entity_ids"]})
        return Decision(FETCH, (ToolCall(FETCH_TOOL, {"entity_ids": missing}),), reason="missing_state", targets=targets, tags=("missing_state",))
    calls = tuple({call_key(c): c for d in decisions for c in d.calls}.values())
    if len(calls) > MAX_CALLS:
        said = intent.mention or intent.area or intent.floor or noun_say(intent.noun, lang) or lang.phrase("that")
        return _text(phrases.too_many(said, len(calls), variant, lang),
                     "too_many_targets", targets)
    if not calls:
        return Decision(TEXT, text=" ".join(d.text for d in decisions), reason="already_satisfied", targets=targets, tags=("already_satisfied",))
    return Decision(ACTION, calls, reason="action", targets=targets)
