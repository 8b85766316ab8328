"""The Statewise agent's own cost per command, excluding model time.

Runs the real agent loop (``custom_components.statewise.agent``) against a
synthetic home of 50, 200 and 500 exposed entities, with a model that answers
instantly from a script, so what is timed is the agent itself:

- ontology: normalising the live entities into an ``Ontology`` and rendering
  its ONTOLOGY JSON (the entity rebuilds it for every command);
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

Run: ``.venv/ha/bin/python bench/agent_overhead.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
import types
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# agent.py imports only .const and .protocol (no Home Assistant): load the package
# folder without running the integration's __init__ so this runs in either venv.
if "custom_components.statewise" not in sys.modules:
    for _name, _path in (("custom_components", ROOT / "custom_components"), ("custom_components.statewise", ROOT / "custom_components" / "statewise")):
        _module = sys.modules.get(_name) or types.ModuleType(_name)
        _module.__path__ = [str(_path)]
        sys.modules[_name] = _module

from custom_components.statewise.agent import PreparedAction, StatewiseAgent, prepare_actions  # noqa: E402
from custom_components.statewise.protocol import Ontology, check_output, entity_state, is_sensitive, render_messages  # noqa: E402

SIZES = (50, 200, 500)
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
    return json.dumps({"tool_call": {"name": name, "arguments": arguments}}, separators=(",", ":"))


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

    async def async_execute(self, action: PreparedAction) -> None:
        """No-op: Home Assistant's own service time is not the agent's."""


def _scripted(answers: list[str]) -> Callable[[list[dict[str, str]]], Any]:
    queue = list(answers)

    async def ask(messages: list[dict[str, str]]) -> str:
        return queue.pop(0)

    return ask


def _per_call_us(func: Callable[[], Any], repeat: int) -> float:
    """Median over 5 batches of the mean time per call, in microseconds."""
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            func()
        batches.append((time.perf_counter() - start) / repeat)
    return statistics.median(batches) * 1e6


async def _turns_us(entities: list[dict[str, Any]], home: FakeHome, repeat: int) -> tuple[float, list[str]]:
    """Median per-command time of whole turns (ontology rebuilt each command, as in Home Assistant)."""
    outcomes: list[str] = []
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            for command, answers in SCENARIOS:
                ontology = Ontology.from_entities(entities)
                agent = StatewiseAgent(_scripted(answers), home, fetch_rounds=1, allow_sensitive=False)
                result = await agent.async_run(command, ontology)
                outcomes.append(result.outcome)
        batches.append((time.perf_counter() - start) / (repeat * len(SCENARIOS)))
    return statistics.median(batches) * 1e6, outcomes[: len(SCENARIOS)]


def measure_size(size: int, repeat: int) -> dict[str, Any]:
    """Per-command figures (microseconds) at one home size."""
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

    total, outcomes = asyncio.run(_turns_us(entities, home, max(1, repeat // 4)))
    return {
        "entities": size,
        "prompt_chars": len(render_messages(ontology, "x")[0]["content"]),
        "ontology_us": _per_call_us(build_ontology, repeat),
        "prompt_us": _per_call_us(prompt, repeat * 4),
        "check_us": _per_call_us(check, repeat) / len(answers),
        "state_us": _per_call_us(state, repeat * 4),
        "dispatch_us": _per_call_us(dispatch, repeat * 4),
        "total_us": total,
        "outcomes": outcomes,
    }


def measure(sizes: Sequence[int] = SIZES, repeat: int = 40) -> dict[str, Any]:
    """All sizes; the first is the baseline for the ratios. For ``bench/run_all.py``."""
    # Refusals are part of the mix: their per-turn warning is not what is measured.
    logger = logging.getLogger("custom_components.statewise.agent")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        rows = [measure_size(size, repeat) for size in sizes]
    finally:
        logger.setLevel(level)
    base = rows[0]["total_us"]
    for row in rows:
        row["ratio_to_baseline"] = row["total_us"] / base
    return {"name": "agent_overhead", "unit": "us per command", "baseline_entities": sizes[0], "rows": rows}


def format_report(report: dict[str, Any]) -> str:
    """A fixed-width table."""
    lines = [
        "Statewise agent overhead per command (model time excluded), microseconds",
        f"{'entities':>8} {'prompt chars':>12} {'ontology':>9} {'prompt':>8} {'check':>8} {'state':>8} {'dispatch':>9} {'total':>9} {'x base':>7}",
    ]
    for row in report["rows"]:
        lines.append(
            f"{row['entities']:>8} {row['prompt_chars']:>12} {row['ontology_us']:>9.1f} {row['prompt_us']:>8.1f} {row['check_us']:>8.1f} "
            f"{row['state_us']:>8.1f} {row['dispatch_us']:>9.1f} {row['total_us']:>9.1f} {row['ratio_to_baseline']:>7.2f}"
        )
    lines.append(f"baseline: {report['baseline_entities']} entities (same run); outcomes per scenario: {report['rows'][0]['outcomes']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=40, help="calls per timing batch")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead")
    args = parser.parse_args(argv)
    report = measure(SIZES, args.repeat)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
