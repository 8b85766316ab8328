"""One definition per tool: a tool added as one schema file is picked up by every part, with no other edit."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from statewise_protocol import Ontology, ToolCall, check_output, extra_tools, load_tools, render_call
from statewise_protocol.agent import OUTCOME_DONE, StatewiseAgent
from statewise_protocol.simulate import SimulatedHome, apply_calls
from statewise_protocol.tools import TOOLS_DIR

from dataset_export.intents import Intent, capability_gap, kinds
from dataset_export.policy import decide, direct_calls

HUMIDIFIER = "humidifier.bedroom"
ONTOLOGY = Ontology.from_entities(
    [
        {"id": HUMIDIFIER, "name": "Bedroom humidifier", "aliases": [], "area": "Bedroom", "floor": None, "domain": "humidifier",
         "device_class": None, "capabilities": {}, "present": True},
        {"id": "light.desk", "name": "Desk", "aliases": [], "area": None, "floor": None, "domain": "light", "device_class": None,
         "capabilities": {}, "present": True},
    ]
)  # fmt: skip


def _throwaway_tool(folder: Path) -> Path:
    """``humidifier_power``: light_power's definition moved to a domain no v0 tool knows."""
    schema = copy.deepcopy(load_tools()["light_power"].schema)
    schema["$id"] = schema["$id"].replace("light_power", "humidifier_power")
    schema["title"] = "humidifier_power"
    schema["description"] = "Turn a humidifier on or off."
    schema["properties"]["tool_call"]["properties"]["name"] = {"const": "humidifier_power"}
    x = schema["x-statewise"]
    x["domains"] = ["humidifier"]
    x["service"] = {"by": "state", "map": {"on": "humidifier.turn_on", "off": "humidifier.turn_off"}}
    x["features"] = {"humidifier.turn_on": ["HumidifierEntityFeature.MODES"]}
    path = folder / "humidifier_power.json"
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return path


class _Home(SimulatedHome):
    def __init__(self) -> None:
        super().__init__(ONTOLOGY, {HUMIDIFIER: {"state": "off"}, "light.desk": {"state": "off"}})
        self.executed: list[Any] = []

    async def async_execute(self, action: Any) -> None:
        self.executed.append(action)
        await super().async_execute(action)


def test_a_new_tool_file_reaches_validation_simulation_policy_and_dispatch(tmp_path: Path) -> None:
    line = render_call("humidifier_power", {"entity_id": HUMIDIFIER, "state": "on"})
    assert "humidifier_power" not in load_tools()
    assert check_output(line, ONTOLOGY).error_codes() == ["unknown_tool"]
    _throwaway_tool(tmp_path)
    with extra_tools(tmp_path) as tools:
        assert "humidifier_power" in tools
        # validation
        assert check_output(line, ONTOLOGY).ok
        wrong = render_call("humidifier_power", {"entity_id": "light.desk", "state": "on"})
        assert check_output(wrong, ONTOLOGY).error_codes() == ["wrong_domain"]
        # simulation
        call = ToolCall("humidifier_power", {"entity_id": HUMIDIFIER, "state": "on"})
        assert apply_calls({HUMIDIFIER: {"state": "off"}}, [call], ONTOLOGY)[HUMIDIFIER] == {"state": "on"}
        # the teacher: its intent kind now covers the new domain, with a direct call and no-op detection
        assert "humidifier" in kinds()["power"]
        intent = Intent("power", "on", mention="bedroom humidifier")
        assert direct_calls(HUMIDIFIER, intent) == [call]
        assert capability_gap(ONTOLOGY.entities[HUMIDIFIER], intent) is None
        assert decide(ONTOLOGY, None, intent).answer == line
        assert decide(ONTOLOGY, {HUMIDIFIER: {"state": "on"}}, intent).output_class == "text"
        # the agent loop's dispatch: service, features and confirmation from the definition
        home = _Home()

        async def ask(messages: list[dict[str, str]]) -> str:
            return line

        result = asyncio.run(StatewiseAgent(ask, home).async_run("turn on the bedroom humidifier", ONTOLOGY))
        assert result.outcome == OUTCOME_DONE
        assert [a.action for a in home.executed] == ["humidifier.turn_on"]
        assert tools["humidifier_power"].features("humidifier.turn_on") == ("HumidifierEntityFeature.MODES",)
        assert home.states[HUMIDIFIER]["state"] == "on"
        assert result.speech() == "Turned on Bedroom humidifier."
    assert "humidifier_power" not in load_tools()


@pytest.mark.parametrize("name", sorted(load_tools()))
def test_every_tool_file_is_in_the_registry_folder(name: str) -> None:
    assert (TOOLS_DIR / f"{name}.json").is_file()
