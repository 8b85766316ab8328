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

SAUNA = "sauna.garden"
ONTOLOGY = Ontology.from_entities(
    [
        {"id": SAUNA, "name": "Garden sauna", "aliases": [], "area": "Garden", "floor": None, "domain": "sauna",
         "device_class": None, "capabilities": {}, "present": True},
        {"id": "light.desk", "name": "Desk", "aliases": [], "area": None, "floor": None, "domain": "light", "device_class": None,
         "capabilities": {}, "present": True},
    ]
)  # fmt: skip


def _throwaway_tool(folder: Path) -> Path:
    """``sauna_power``: light_power's definition moved to a domain no v0 tool knows."""
    schema = copy.deepcopy(load_tools()["light_power"].schema)
    schema["$id"] = schema["$id"].replace("light_power", "sauna_power")
    schema["title"] = "sauna_power"
    schema["description"] = "Turn a sauna on or off."
    schema["properties"]["tool_call"]["properties"]["name"] = {"const": "sauna_power"}
    x = schema["x-statewise"]
    x["domains"] = ["sauna"]
    x["service"] = {"by": "state", "map": {"on": "sauna.turn_on", "off": "sauna.turn_off"}}
    x["features"] = {"sauna.turn_on": ["SaunaEntityFeature.HEAT"]}
    path = folder / "sauna_power.json"
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return path


class _Home(SimulatedHome):
    def __init__(self) -> None:
        super().__init__(ONTOLOGY, {SAUNA: {"state": "off"}, "light.desk": {"state": "off"}})
        self.executed: list[Any] = []

    async def async_execute(self, action: Any) -> None:
        self.executed.append(action)
        await super().async_execute(action)


def test_a_new_tool_file_reaches_validation_simulation_policy_and_dispatch(tmp_path: Path) -> None:
    line = render_call("sauna_power", {"entity_id": SAUNA, "state": "on"})
    assert "sauna_power" not in load_tools()
    assert check_output(line, ONTOLOGY).error_codes() == ["unknown_tool"]
    _throwaway_tool(tmp_path)
    with extra_tools(tmp_path) as tools:
        assert "sauna_power" in tools
        # validation
        assert check_output(line, ONTOLOGY).ok
        wrong = render_call("sauna_power", {"entity_id": "light.desk", "state": "on"})
        assert check_output(wrong, ONTOLOGY).error_codes() == ["wrong_domain"]
        # simulation
        call = ToolCall("sauna_power", {"entity_id": SAUNA, "state": "on"})
        assert apply_calls({SAUNA: {"state": "off"}}, [call], ONTOLOGY)[SAUNA] == {"state": "on"}
        # the teacher: its intent kind now covers the new domain, with a direct call and no-op detection
        assert "sauna" in kinds()["power"]
        intent = Intent("power", "on", mention="garden sauna")
        assert direct_calls(SAUNA, intent) == [call]
        assert capability_gap(ONTOLOGY.entities[SAUNA], intent) is None
        assert decide(ONTOLOGY, None, intent).answer == line
        assert decide(ONTOLOGY, {SAUNA: {"state": "on"}}, intent).output_class == "text"
        # the agent loop's dispatch: service, features and confirmation from the definition
        home = _Home()

        async def ask(messages: list[dict[str, str]]) -> str:
            return line

        result = asyncio.run(StatewiseAgent(ask, home).async_run("turn on the garden sauna", ONTOLOGY))
        assert result.outcome == OUTCOME_DONE
        assert [a.action for a in home.executed] == ["sauna.turn_on"]
        assert tools["sauna_power"].features("sauna.turn_on") == ("SaunaEntityFeature.HEAT",)
        assert home.states[SAUNA]["state"] == "on"
        assert result.speech() == "Turned on Garden sauna."
    assert "sauna_power" not in load_tools()


@pytest.mark.parametrize("name", sorted(load_tools()))
def test_every_tool_file_is_in_the_registry_folder(name: str) -> None:
    assert (TOOLS_DIR / f"{name}.json").is_file()
