"""The Statewise agent's own cost per command, excluding model time.

Runs the real agent loop (``custom_components.statewise.protocol.agent``) against a
synthetic home of 50, 200 and 500 exposed entities, with a model that answers
instantly from a script, so what is timed is the agent itself:

- ontology: normalising the live entities into an ``Ontology`` and rendering
  its ONTOLOGY JSON (what the entity did for every command before the cache;
  inside Home Assistant the cached ``LiveOntology`` is timed beside it);
- prompt: ``render_messages`` (ONTOLOGY [+ STATE]) for every request;
- check: ``check_output`` (parse + schema + ontology validation) for every answer;
- state: reading the fetched entities' STATE through ``entity_state``;
- dispatch: ``prepare_actions`` (service, data, plex target, source mapping)
  and the sensitive-policy check.

``total`` is one whole turn (all of the above, through ``StatewiseAgent.async_run``)
averaged over a mix of commands: single action, fetch -> STATE -> three actions,
text, hallucinated id (refused), blocked unlock. Execution is a no-op: Home
Assistant's own service-call time is not the agent's.

The 50-entity figure is the baseline measured in the same run; 200 and 500 are
printed as ratios to it. ``measure()`` returns the numbers for ``bench/run_all.py``.

Run: ``.venv/ha/bin/python bench/agent_overhead.py [--repeat N] [--sizes 50 200 500] [--no-hass] [--json]``
(``measure()`` inside Home Assistant starts its own test instance: call it from a
plain process, not from inside a running event loop or a pytest-homeassistant test.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def hass_available() -> bool:
    """True where Home Assistant and its test harness import (``.venv/ha``)."""
    return importlib.util.find_spec("homeassistant") is not None and importlib.util.find_spec("pytest_homeassistant_custom_component") is not None


# The protocol (and its agent loop) as the integration imports it inside Home Assistant, else as the trainer does.
_PROTOCOL = "custom_components.statewise.protocol" if hass_available() else "statewise_protocol"
_protocol = importlib.import_module(_PROTOCOL)
_agent = importlib.import_module(f"{_PROTOCOL}.agent")
Ontology, check_output, entity_state = _protocol.Ontology, _protocol.check_output, _protocol.entity_state
is_sensitive, render_call, render_messages = _protocol.is_sensitive, _protocol.render_call, _protocol.render_messages
PreparedAction, StatewiseAgent, prepare_actions = _agent.PreparedAction, _agent.StatewiseAgent, _agent.prepare_actions

SIZES = (50, 200, 500)
# Each figure is the best of this many batches: the machines are shared, and the
# minimum is the agent's own cost with the least interference from other load.
BATCHES = 7
# CPU time of this process, not wall time: on a shared machine, time spent
# descheduled for other processes is not the agent's cost.
_clock = time.process_time
AREAS = ["Kitchen", "Living Room", "Bedroom", "Office", "Hallway", "Garage", "Garden", "Bathroom", "Attic", "Basement"]
FLOORS = {"Bedroom": "First Floor", "Office": "First Floor", "Attic": "Second Floor", "Bathroom": "First Floor", "Basement": "Basement"}
SOURCES = ["HDMI 1", "HDMI 2", "Plex", "YouTube", "DVD"]

# The fixed entities every scenario names; the rest are fillers of every domain.
FIXED: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("light.kitchen_lights", {"brightness": True, "color": True, "color_temp": [2000, 6535]}, "on", {"brightness": 180, "color_temp_kelvin": 3000}),
    ("media_player.movie_room_tv", {"inputs": ["dvd", "hdmi_1", "hdmi_2", "plex", "youtube"], "playback": True, "power": True, "volume": True}, "off", {}),
    ("climate.thermostat", {"hvac_modes": ["cool", "heat", "off"], "temp_range": [7, 35]}, "heat", {"temperature": 20, "current_temperature": 19.5}),
    ("lock.front_door", {}, "locked", {}),
]
FILLER_KINDS: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("light", {"brightness": True, "color": True}, "on", {"brightness": 128}),
    ("switch", {}, "off", {}),
    ("fan", {"speed": True}, "on", {"percentage": 50}),
    ("cover", {"position": True, "stop": True}, "open", {"current_position": 70}),
    ("media_player", {"playback": True, "power": True, "volume": True}, "playing", {"volume_level": 0.4, "media_title": "Song"}),
    ("climate", {"hvac_modes": ["heat", "off"], "temp_range": [7, 35]}, "off", {"temperature": 18, "current_temperature": 17}),
    ("lock", {}, "locked", {}),
    ("valve", {}, "closed", {}),
]


def synthetic_home(size: int) -> tuple[list[dict[str, Any]], dict[str, tuple[str, dict[str, Any]]]]:
    """``size`` ontology entities (all ENTITY_KEYS) and their raw states ``(state, attributes)``."""
    entities: list[dict[str, Any]] = []
    states: dict[str, tuple[str, dict[str, Any]]] = {}

    def add(entity_id: str, caps: dict[str, Any], state: str, attrs: dict[str, Any], index: int) -> None:
        domain, object_id = entity_id.split(".", 1)
        area = AREAS[index % len(AREAS)]
        entities.append(
            {
                "id": entity_id,
                "name": object_id.replace("_", " ").title(),
                "aliases": [f"{area.lower()} {domain.replace('_', ' ')} {index}"] if index % 3 == 0 else [],
                "area": area,
                "floor": FLOORS.get(area, "Ground Floor"),
                "domain": domain,
                "device_class": "tv" if domain == "media_player" else ("window" if domain == "cover" else None),
                "capabilities": caps,
                "present": index % 17 != 5,
            }
        )
        if domain == "media_player" and "inputs" in caps:
            attrs = {**attrs, "source_list": SOURCES}
        states[entity_id] = (state, attrs)

    for index, (entity_id, caps, state, attrs) in enumerate(FIXED):
        add(entity_id, caps, state, attrs, index)
    index = len(FIXED)
    while len(entities) < size:
        domain, caps, state, attrs = FILLER_KINDS[index % len(FILLER_KINDS)]
        add(f"{domain}.{AREAS[index % len(AREAS)].lower().replace(' ', '_')}_{domain}_{index}", caps, state, attrs, index)
        index += 1
    return entities, states


def _line(name: str, **arguments: Any) -> str:
    return render_call(name, arguments)


# (command, scripted model answers in order)
SCENARIOS: list[tuple[str, list[str]]] = [
    ("turn off the kitchen lights", [_line("light_power", entity_id="light.kitchen_lights", state="off")]),
    (
        "watch terminator on the movie room tv",
        [
            _line("get_entity_state", entity_ids=["media_player.movie_room_tv"]),
            "\n".join(
                [
                    _line("tv_power", entity_id="media_player.movie_room_tv", state="on"),
                    _line("tv_input", entity_id="media_player.movie_room_tv", input="plex"),
                    _line("plex_play", title="Terminator"),
                ]
            ),
        ],
    ),
    ("set the thermostat to 21", [_line("climate_temperature", entity_id="climate.thermostat", temperature=21)]),
    ("is it cold in here", ["The thermostat is set to 20 degrees and it is 19.5 now."]),
    ("turn on the garage light", [_line("light_power", entity_id="light.garage_light_999", state="on")]),
    ("unlock the front door", [_line("lock_control", entity_id="lock.front_door", command="unlock")]),
]


class FakeHome:
    """The agent's Home over raw states; execution does nothing."""

    def __init__(self, states: dict[str, tuple[str, dict[str, Any]]]) -> None:
        """Raw states by id."""
        self.states = states

    def read_states(self, entity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """STATE entries through the protocol."""
        out = {}
        for eid in sorted(set(entity_ids)):
            if eid in self.states:
                state, attrs = self.states[eid]
                out[eid] = entity_state(eid.split(".", 1)[0], state, attrs)
        return out

    def source_list(self, entity_id: str) -> Sequence[str]:
        """``source_list`` of a media player."""
        return self.states[entity_id][1].get("source_list", [])

    def exists(self, entity_id: str) -> bool:
        """Every synthetic entity has a state."""
        return entity_id in self.states

    def supports(self, action: Any) -> bool:
        """Synthetic entities support every action their capabilities allow."""
        return True

    async def async_execute(self, action: PreparedAction) -> None:
        """No-op: Home Assistant's own service time is not the agent's."""


def _scripted(answers: list[str]) -> Callable[[list[dict[str, str]]], Any]:
    queue = list(answers)

    async def ask(messages: list[dict[str, str]]) -> str:
        return queue.pop(0)

    return ask


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """No garbage collection while a batch runs (as ``timeit`` does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _per_call_us(func: Callable[[], Any], repeat: int) -> float:
    """Best of ``BATCHES`` batches of the mean time per call, in microseconds (after one warm-up call)."""
    func()
    gc.collect()
    batches = []
    for _ in range(BATCHES):
        with _quiet_gc():
            start = _clock()
            for _ in range(repeat):
                func()
            batches.append((_clock() - start) / repeat)
    return min(batches) * 1e6


async def _turns_us(make_ontology: Callable[[], Ontology], home: Any, repeat: int) -> tuple[float, list[str]]:
    """Best-batch per-command time of whole turns over the scenario mix; the ontology is rebuilt every command, as the entity does."""

    async def one_pass() -> list[str]:
        outcomes = []
        for command, answers in SCENARIOS:
            agent = StatewiseAgent(_scripted(answers), home, fetch_rounds=1)
            outcomes.append((await agent.async_run(command, make_ontology())).outcome)
        return outcomes

    outcomes = await one_pass()
    gc.collect()
    batches = []
    for _ in range(BATCHES):
        with _quiet_gc():
            start = _clock()
            for _ in range(repeat):
                await one_pass()
            batches.append((_clock() - start) / (repeat * len(SCENARIOS)))
    return min(batches) * 1e6, outcomes


def ha_attributes(entity: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    """Home Assistant state attributes from which ``ontology.py`` derives the entity's capabilities (every v0 domain)."""
    from homeassistant.components.climate import ClimateEntityFeature
    from homeassistant.components.cover import CoverEntityFeature
    from homeassistant.components.fan import FanEntityFeature
    from homeassistant.components.media_player import MediaPlayerEntityFeature as MP
    from homeassistant.components.valve import ValveEntityFeature
    from homeassistant.components.water_heater import WaterHeaterEntityFeature

    caps, domain = entity["capabilities"], entity["domain"]
    out: dict[str, Any] = {"friendly_name": entity["name"], **attrs}
    if entity["device_class"]:
        out["device_class"] = entity["device_class"]
    features = 0
    if domain == "light":
        modes = ["color_temp", "hs"] if caps.get("color_temp") and caps.get("color") else ["color_temp"] if caps.get("color_temp") else \
            ["hs"] if caps.get("color") else ["brightness"] if caps.get("brightness") else ["onoff"]
        out["supported_color_modes"] = modes
        if caps.get("color_temp"):
            out["min_color_temp_kelvin"], out["max_color_temp_kelvin"] = caps["color_temp"]
    elif domain == "media_player":
        features |= (MP.TURN_ON | MP.TURN_OFF) if caps.get("power") else 0
        features |= MP.VOLUME_SET if caps.get("volume") else 0
        features |= MP.VOLUME_MUTE if caps.get("mute") else 0
        features |= (MP.PLAY | MP.PAUSE) if caps.get("playback") else 0
        if caps.get("inputs"):
            features |= MP.SELECT_SOURCE
            out.setdefault("source_list", [i.replace("_", " ").title() for i in caps["inputs"]])
    elif domain == "climate":
        if caps.get("hvac_modes"):
            out["hvac_modes"] = caps["hvac_modes"]
        if caps.get("temp_range"):
            out["min_temp"], out["max_temp"] = caps["temp_range"]
            features |= ClimateEntityFeature.TARGET_TEMPERATURE
        features |= (ClimateEntityFeature.TURN_ON | ClimateEntityFeature.TURN_OFF) if caps.get("power") else 0
    elif domain == "humidifier" and caps.get("humidity_range"):
        out["min_humidity"], out["max_humidity"] = caps["humidity_range"]
    elif domain == "water_heater" and caps.get("temp_range"):
        out["min_temp"], out["max_temp"] = caps["temp_range"]
        features |= WaterHeaterEntityFeature.TARGET_TEMPERATURE
    elif domain == "fan":
        features |= FanEntityFeature.SET_SPEED if caps.get("speed") else 0
    elif domain == "cover":
        features |= CoverEntityFeature.SET_POSITION if caps.get("position") else 0
        features |= CoverEntityFeature.STOP if caps.get("stop") else 0
    elif domain == "valve":
        features |= ValveEntityFeature.SET_POSITION if caps.get("position") else 0
        features |= ValveEntityFeature.STOP if caps.get("stop") else 0
    if features:
        out["supported_features"] = int(features)
    return out


def _user_aliases(aliases: list[str]) -> Any:
    """Aliases as the UI writes them (2026.10+: a list led by the ``COMPUTED_NAME`` sentinel for the entity's own name)."""
    from homeassistant.helpers import entity_registry as er

    computed = getattr(er, "COMPUTED_NAME", None)
    return [computed, *aliases] if computed is not None else set(aliases)


async def async_populate_entities(hass: Any, entities: list[dict[str, Any]], states: dict[str, tuple[str, dict[str, Any]]]) -> Ontology:
    """Put ontology entities into a running Home Assistant (floors, areas, registry entries, states, Assist exposure).

    ``states`` maps an entity id to ``(state, attributes)``. Returns the live ontology, checked to have the
    entities' capabilities (the attributes reproduce them).
    """
    from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
    from homeassistant.helpers import area_registry as ar, entity_registry as er, floor_registry as fr
    from homeassistant.setup import async_setup_component

    from custom_components.statewise.ontology import build_ontology

    assert await async_setup_component(hass, "homeassistant", {})
    floor_reg, area_reg, ent_reg = fr.async_get(hass), ar.async_get(hass), er.async_get(hass)
    floors = {name: floor_reg.async_create(name).floor_id for name in sorted({e["floor"] for e in entities if e["floor"]})}
    areas: dict[str, str] = {}
    for entity in entities:
        if entity["area"] and entity["area"] not in areas:
            areas[entity["area"]] = area_reg.async_create(entity["area"], floor_id=floors.get(entity["floor"])).id
    for index, entity in enumerate(entities):
        domain, object_id = entity["id"].split(".", 1)
        entry = ent_reg.async_get_or_create(domain, "statewise_bench", f"u{index}", suggested_object_id=object_id)
        if entry.entity_id != entity["id"]:
            raise AssertionError(f"{entity['id']} registered as {entry.entity_id}")
        ent_reg.async_update_entity(entry.entity_id, area_id=areas.get(entity["area"]), aliases=_user_aliases(entity["aliases"]),
                                    device_class=entity["device_class"] if domain in ("cover", "switch", "binary_sensor", "sensor") else None)  # fmt: skip
        state, attrs = states[entity["id"]]
        hass.states.async_set(entry.entity_id, state if entity["present"] else "unavailable", ha_attributes(entity, attrs))
        async_expose_entity(hass, "conversation", entry.entity_id, True)
    await hass.async_block_till_done()
    live = build_ontology(hass)
    if [live.entities[eid]["capabilities"] for eid in sorted(live.entities)] != [e["capabilities"] for e in sorted(entities, key=lambda e: e["id"])]:
        raise AssertionError("the Home Assistant home does not reproduce the ontology's capabilities")
    return live


async def async_populate(hass: Any, size: int) -> Ontology:
    """The synthetic home of ``size`` entities in a running Home Assistant; returns its live ontology."""
    entities, states = synthetic_home(size)
    return await async_populate_entities(hass, entities, states)


async def _hass_turns_us(size: int, repeat: int) -> dict[str, Any]:
    """Per-command figures inside a real Home Assistant (test instance): live ontology from the registries, whole turns."""
    from homeassistant.core import Context
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    from custom_components.statewise.conversation import HassHome
    from custom_components.statewise.live_ontology import LiveOntology
    from custom_components.statewise.ontology import build_ontology

    class NoServiceHome(HassHome):
        async def async_execute(self, action: PreparedAction) -> None:
            """No-op: the synthetic entities have no integration behind them."""

    async with async_test_home_assistant() as hass:
        live = await async_populate(hass, size)

        def live_ontology() -> None:
            build_ontology(hass).prompt_json  # noqa: B018 - rendering is what is timed

        cache = LiveOntology(hass)
        stop = cache.async_start()
        try:
            if cache.ontology.prompt_json != live.prompt_json:
                raise AssertionError("the cached live ontology differs from a fresh build")
            home = NoServiceHome(hass, Context())
            uncached, _ = await _turns_us(lambda: build_ontology(hass), home, max(1, repeat // 8))
            cached, _ = await _turns_us(lambda: cache.ontology, home, max(1, repeat // 2))
            builds = cache.builds
        finally:
            stop()
        if builds != 1:
            raise AssertionError(f"the cache was rebuilt {builds - 1} times while nothing changed")
        return {"live_ontology_us": _per_call_us(live_ontology, max(1, repeat // 4)), "ha_total_us": uncached, "ha_cached_total_us": cached}


def measure_size(size: int, repeat: int, with_hass: bool = False) -> dict[str, Any]:
    """Per-command figures (microseconds) at one home size (plus, ``with_hass``, inside Home Assistant)."""
    entities, states = synthetic_home(size)
    home = FakeHome(states)
    ontology = Ontology.from_entities(entities)
    _ = ontology.prompt_json
    fetch_state = home.read_states(["media_player.movie_room_tv"])
    answers = [a for _, script in SCENARIOS for a in script]
    plan = check_output(SCENARIOS[1][1][1], ontology, fetch_state).calls

    def build_ontology() -> None:
        Ontology.from_entities(entities).prompt_json  # noqa: B018 - rendering is what is timed

    def prompt() -> None:
        render_messages(ontology, "watch terminator on the movie room tv", fetch_state)

    def check() -> None:
        for answer in answers:
            check_output(answer, ontology, None)

    def state() -> None:
        home.read_states(["media_player.movie_room_tv", "light.kitchen_lights", "climate.thermostat"])

    def dispatch() -> None:
        for action in prepare_actions(plan, ontology, home):
            is_sensitive(action.call, ontology.entities[action.entity_id].get("device_class"))

    total, outcomes = asyncio.run(_turns_us(lambda: Ontology.from_entities(entities), home, max(1, repeat // 4)))
    in_hass = asyncio.run(_hass_turns_us(size, repeat)) if with_hass else {"live_ontology_us": None, "ha_total_us": None, "ha_cached_total_us": None}
    return {
        "entities": size,
        "prompt_chars": len(render_messages(ontology, "x")[0]["content"]),
        "ontology_us": _per_call_us(build_ontology, repeat),
        "prompt_us": _per_call_us(prompt, repeat * 4),
        "check_us": _per_call_us(check, repeat) / len(answers),
        "state_us": _per_call_us(state, repeat * 4),
        "dispatch_us": _per_call_us(dispatch, repeat * 4),
        "total_us": total,
        **in_hass,
        "outcomes": outcomes,
    }



def measure(sizes: Sequence[int] = SIZES, repeat: int = 40, with_hass: bool | None = None) -> dict[str, Any]:
    """All sizes; the first is the baseline for the ratios. For ``bench/run_all.py``.

    ``with_hass`` (default: when Home Assistant is installed) adds the figures
    measured inside a real Home Assistant instance.
    """
    if with_hass is None:
        with_hass = hass_available()
    load_average = [round(x, 2) for x in os.getloadavg()]
    # Refusals are part of the mix: their per-turn warning is not what is measured.
    logger = logging.getLogger("custom_components.statewise.agent")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        rows = [measure_size(size, repeat, with_hass) for size in sizes]
    finally:
        logger.setLevel(level)
    base = rows[0]["total_us"]
    ha_base, cached_base = rows[0]["ha_total_us"], rows[0]["ha_cached_total_us"]
    for row in rows:
        row["ratio_to_baseline"] = row["total_us"] / base
        row["ha_ratio_to_baseline"] = row["ha_total_us"] / ha_base if ha_base else None
        row["ha_cached_ratio_to_baseline"] = row["ha_cached_total_us"] / cached_base if cached_base else None
    return {
        "name": "agent_overhead",
        "unit": "us per command",
        "baseline_entities": sizes[0],
        "with_hass": with_hass,
        "load_average": load_average,
        "rows": rows,
    }


def format_report(report: dict[str, Any]) -> str:
    """A fixed-width table."""
    lines = [
        "Statewise agent overhead per command (model time excluded), microseconds",
        "protocol level (synthetic home, Ontology.from_entities per command):",
        f"{'entities':>8} {'prompt chars':>12} {'ontology':>9} {'prompt':>8} {'check':>8} {'state':>8} {'dispatch':>9} {'total':>9} {'x base':>7}",
    ]
    for row in report["rows"]:
        lines.append(
            f"{row['entities']:>8} {row['prompt_chars']:>12} {row['ontology_us']:>9.1f} {row['prompt_us']:>8.1f} {row['check_us']:>8.1f} "
            f"{row['state_us']:>8.1f} {row['dispatch_us']:>9.1f} {row['total_us']:>9.1f} {row['ratio_to_baseline']:>7.2f}"
        )
    if report.get("with_hass"):
        lines.append("inside Home Assistant (same home in registries + state machine): whole turn with the ontology built per command")
        lines.append("(uncached, as before) and with the integration's cached LiveOntology (rebuilt only when the home changes):")
        lines.append(f"{'entities':>8} {'live ontology':>14} {'uncached turn':>14} {'x base':>7} {'cached turn':>12} {'x base':>7} {'cached ms':>10}")
        for row in report["rows"]:
            lines.append(f"{row['entities']:>8} {row['live_ontology_us']:>14.1f} {row['ha_total_us']:>14.1f} {row['ha_ratio_to_baseline']:>7.2f} "
                         f"{row['ha_cached_total_us']:>12.1f} {row['ha_cached_ratio_to_baseline']:>7.2f} {row['ha_cached_total_us'] / 1000:>10.3f}")
    lines.append(f"baseline: {report['baseline_entities']} entities (same run); outcomes per scenario: {report['rows'][0]['outcomes']}")
    lines.append(f"timing: process CPU time, best of {BATCHES} batches; load average at start {report['load_average']}")
    return "\n".join(lines)


# The other benches name it so.
format_table = format_report


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=40, help="calls per timing batch")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead")
    parser.add_argument("--no-hass", action="store_true", help="skip the figures measured inside Home Assistant")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="home sizes; the first is the baseline")
    args = parser.parse_args(argv)
    report = measure(args.sizes, args.repeat, with_hass=False if args.no_hass else None)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
