"""Policy-aware state variations for one entity (on/off, inputs, levels).

:func:`variants` returns candidate snapshot entries for an entity: the
snapshot's own entry, the entry where the intent's goal already holds (for
already-satisfied examples), edge cases for relative changes, and random
realistic entries. Every entry is valid for ``snapshots.schema.json``.
"""

from __future__ import annotations

import random
from typing import Any

from statewise_protocol import Ontology
from statewise_protocol.simulate import apply_calls

from .intents import Intent
from .policy import direct_calls

Entry = dict[str, Any]


def random_entry(entity: dict[str, Any], rng: random.Random) -> Entry:
    """One plausible entry for ``entity``."""
    domain, caps = entity["domain"], entity.get("capabilities") or {}
    if not entity.get("present", True):
        return {"state": "unavailable"}
    if domain == "light":
        if rng.random() < 0.4:
            return {"state": "off"}
        entry: Entry = {"state": "on"}
        if caps.get("brightness"):
            entry["brightness"] = rng.choice((1, 10, 20, 25, 35, 40, 50, 60, 71, 80, 90, 100))
        if caps.get("color_temp"):
            low, high = caps["color_temp"]
            entry["color_temp_kelvin"] = int(rng.choice((low, 2700, 3000, 4000, 5000, high)))
            entry["color_temp_kelvin"] = max(int(low), min(int(high), entry["color_temp_kelvin"]))
        return entry
    if domain == "switch":
        return {"state": rng.choice(("on", "off"))}
    if domain == "fan":
        pct = rng.choice((0, 0, 25, 33, 50, 67, 75, 100)) if caps.get("speed") else rng.choice((0, 100))
        return {"state": "on" if pct else "off", "percentage": pct}
    if domain == "media_player":
        state = rng.choice(("off", "off", "on", "playing", "paused", "idle"))
        entry = {"state": state}
        if state != "off":
            if caps.get("inputs"):
                entry["source"] = rng.choice(caps["inputs"])
            if caps.get("volume"):
                entry["volume"] = rng.choice((0, 10, 20, 25, 30, 35, 40, 50, 60, 75, 90, 100))
            if caps.get("mute"):
                entry["muted"] = rng.random() < 0.2
        return entry
    if domain == "climate":
        modes = caps.get("hvac_modes") or ["heat", "off"]
        entry = {"state": rng.choice(modes), "current_temperature": rng.choice((17, 18.5, 19, 20, 21, 22, 23.5, 25))}
        if caps.get("temp_range"):
            low, high = caps["temp_range"]
            entry["temperature"] = rng.choice((low, high, *range(int(low) + 1, int(high), 1)))
        return entry
    if domain in ("cover", "valve"):
        if caps.get("position") or domain == "valve":
            pos = rng.choice((0, 0, 20, 50, 70, 100, 100))
            return {"state": "open" if pos else "closed", "position": pos}
        return {"state": rng.choice(("open", "closed"))}
    if domain == "lock":
        return {"state": rng.choice(("locked", "unlocked"))}
    if domain == "humidifier":
        entry = {"state": rng.choice(("on", "off"))}
        if caps.get("humidity_range"):
            low, high = caps["humidity_range"]
            entry["humidity"] = int(rng.choice([x for x in range(int(low), int(high) + 1, 5)] or [low]))
            entry["current_humidity"] = rng.choice((35, 42, 50, 58, 65))
        return entry
    if domain == "water_heater":
        entry = {"state": rng.choice(("eco", "electric", "off"))}
        if caps.get("temp_range"):
            low, high = caps["temp_range"]
            entry["temperature"] = rng.choice((low, high, *range(int(low) + 5, int(high), 5)))
            entry["current_temperature"] = rng.choice((38, 45, 52, 58))
        return entry
    if domain == "vacuum":
        return {"state": rng.choice(("docked", "cleaning", "paused", "returning", "idle"))}
    if domain == "script":
        return {"state": "off"}
    if domain == "todo":
        return {"state": str(rng.randint(0, 9))}
    return {"state": "unknown"}


def goal_entry(ontology: Ontology, eid: str, entry: Entry, intent: Intent) -> Entry | None:
    """The entry after the intent's direct action (``None`` for state-needing intents)."""
    if intent.needs_state or intent.kind == "out_of_scope":
        return None
    calls = direct_calls(eid, intent)
    if not all(call.spec.observable(call.arguments) for call in calls):  # STATE cannot show the goal (a colour, a scene)
        return None
    return apply_calls({eid: entry}, calls, ontology)[eid]


def edge_entries(entity: dict[str, Any], intent: Intent) -> list[Entry]:
    """Entries where a relative or media intent has nothing to do (or most to do)."""
    kind, value, caps = intent.kind, intent.value, entity.get("capabilities") or {}
    if kind == "brightness_step":
        return [{"state": "on", "brightness": 100 if value == "up" else 1}, {"state": "off"}]
    if kind == "volume_step":
        return [{"state": "playing", "volume": 100 if value == "up" else 0, **({"source": caps["inputs"][0]} if caps.get("inputs") else {})},
                {"state": "off"}]
    if kind == "climate_step" and caps.get("temp_range"):
        low, high = caps["temp_range"]
        return [{"state": (caps.get("hvac_modes") or ["heat"])[0], "temperature": high if value == "up" else low}]
    if kind in ("tv_input", "play_title"):
        inp = value if kind == "tv_input" else "plex"
        return [{"state": "off"}, {"state": "on", "source": inp, "volume": 30}, {"state": "idle", "source": (caps.get("inputs") or [inp])[0]}]
    if kind == "media":
        return [{"state": "playing"}, {"state": "paused"}, {"state": "off"}]
    return []


def variants(ontology: Ontology, eid: str, base: Entry, intent: Intent, rng: random.Random, extra: int = 3) -> list[Entry]:
    """Distinct candidate entries for ``eid``: base, goal, edges, then ``extra`` random ones."""
    entity = ontology.entities[eid]
    out: list[Entry] = [dict(base)]
    goal = goal_entry(ontology, eid, base, intent)
    if goal is not None:
        out.append(goal)
    out += edge_entries(entity, intent)
    out += [random_entry(entity, rng) for _ in range(extra)]
    unique: list[Entry] = []
    for entry in out:
        if entry not in unique:
            unique.append(entry)
    return unique
