"""The agent loop on its own (no Home Assistant): phrases, fetch rounds, the benchmark's entry point."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from custom_components.statewise.protocol import Ontology, ToolCall, entity_state, load_tools, render_messages
from custom_components.statewise.protocol.agent import (
    OUTCOME_CONFIRM,
    OUTCOME_DONE,
    OUTCOME_ERROR,
    OUTCOME_REFUSED,
    OUTCOME_TEXT,
    ModelUnavailableError,
    PreparedAction,
    StatewiseAgent,
    confirmation,
    english_phrases,
    render_replies,
)

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY = Ontology.from_entities(
    [
        {"id": "light.desk", "name": "Desk", "aliases": [], "area": "Office", "floor": None, "domain": "light", "device_class": None,
         "capabilities": {"brightness": True}, "present": True},
        {"id": "light.hall", "name": "Hall", "aliases": [], "area": None, "floor": None, "domain": "light", "device_class": None,
         "capabilities": {}, "present": True},
        {"id": "lock.door", "name": "Door", "aliases": [], "area": None, "floor": None, "domain": "lock", "device_class": None,
         "capabilities": {}, "present": True},
    ]
)  # fmt: skip


def call(name: str, **arguments: Any) -> str:
    return json.dumps({"tool_call": {"name": name, "arguments": arguments}}, separators=(",", ":"))


class FakeHome:
    def __init__(self) -> None:
        self.raw = {"light.desk": ("on", {"brightness": 255}), "light.hall": ("off", {}), "lock.door": ("locked", {})}
        self.executed: list[PreparedAction] = []

    def read_states(self, entity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {eid: entity_state(eid.split(".")[0], *self.raw[eid]) for eid in sorted(set(entity_ids))}

    def source_list(self, entity_id: str) -> Sequence[str]:
        return []

    def exists(self, entity_id: str) -> bool:
        return entity_id in self.raw

    def supports(self, action: PreparedAction) -> bool:
        return True

    async def async_execute(self, action: PreparedAction) -> None:
        self.executed.append(action)


def scripted(*answers: str | Exception) -> tuple[Any, list[list[dict[str, str]]]]:
    queue = list(answers)
    seen: list[list[dict[str, str]]] = []

    async def ask(messages: list[dict[str, str]]) -> str:
        seen.append(messages)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return ask, seen


def test_every_tool_outcome_has_a_confirmation() -> None:
    """Each action tool, for each value that picks its service, has a confirmation phrase that formats with name/value."""
    phrases = english_phrases()
    for spec in load_tools().values():
        if spec.is_fetch:
            continue
        rule = spec.mapping["confirm"]
        values = list(rule["map"]) if isinstance(rule, dict) else [None]
        for value in values:
            arg_value = {"true": True, "false": False}.get(value, value)
            args = {rule["by"]: arg_value} if value is not None else {}
            key, _ = spec.confirmation(args, {})
            assert f"done_{key}" in phrases, (spec.name, value)
            assert phrases[f"done_{key}"].format(name="N", value="V")


async def test_two_fetch_rounds_accumulate_state() -> None:
    """With two rounds, STATE grows with each fetch; asking for what STATE has is invalid."""
    ask, seen = scripted(
        call("get_entity_state", entity_ids=["light.desk"]),
        call("get_entity_state", entity_ids=["light.hall"]),
        call("light_power", entity_id="light.hall", state="on"),
    )
    home = FakeHome()
    result = await StatewiseAgent(ask, home, fetch_rounds=2).async_run("hall like desk", ONTOLOGY)

    assert result.outcome == OUTCOME_DONE
    assert result.fetched == [["light.desk"], ["light.hall"]]
    assert seen[0] == render_messages(ONTOLOGY, "hall like desk")
    assert seen[1] == render_messages(ONTOLOGY, "hall like desk", home.read_states(["light.desk"]))
    assert seen[2] == render_messages(ONTOLOGY, "hall like desk", home.read_states(["light.desk", "light.hall"]))
    assert [a.action for a in home.executed] == ["light.turn_on"]
    assert result.speech() == "Turned on Hall."

    ask, _ = scripted(call("get_entity_state", entity_ids=["light.desk"]), call("get_entity_state", entity_ids=["light.desk"]))
    again = await StatewiseAgent(ask, FakeHome(), fetch_rounds=2).async_run("x", ONTOLOGY)
    assert again.outcome == OUTCOME_REFUSED
    assert again.verdicts[-1].error_codes() == ["state_already_given"]


async def test_outcomes_without_home_assistant() -> None:
    """Text, server error and sensitive refusal through the bare loop."""
    ask, _ = scripted("Nothing to do.")
    result = await StatewiseAgent(ask, FakeHome()).async_run("x", ONTOLOGY)
    assert (result.outcome, result.speech()) == (OUTCOME_TEXT, "Nothing to do.")
    ask, _ = scripted(ModelUnavailableError("server_timeout", "slow"))
    result = await StatewiseAgent(ask, FakeHome()).async_run("x", ONTOLOGY)
    assert (result.outcome, result.speech()) == (OUTCOME_ERROR, english_phrases()["server_timeout"])
    home = FakeHome()
    ask, _ = scripted(call("lock_control", entity_id="lock.door", command="unlock"))
    result = await StatewiseAgent(ask, home).async_run("x", ONTOLOGY)
    assert result.outcome == OUTCOME_REFUSED
    assert home.executed == []
    ask, _ = scripted(call("lock_control", entity_id="lock.door", command="unlock"))
    result = await StatewiseAgent(ask, home, sensitive_policy="allow").async_run("x", ONTOLOGY)
    assert home.executed == [] and result.replies[-1].key == "sensitive_unrequested"  # allowed, but the command does not ask for it
    ask, _ = scripted(call("lock_control", entity_id="lock.door", command="unlock"))
    result = await StatewiseAgent(ask, home, sensitive_policy="allow").async_run("unlock the door", ONTOLOGY)
    assert [a.action for a in home.executed] == ["lock.unlock"]


async def test_confirm_asks_back_and_runs_the_stored_plan_only_when_told() -> None:
    """confirm: nothing runs, the question names action and device; the stored plan runs as is, validated again."""
    home = FakeHome()
    plan = call("light_power", entity_id="light.hall", state="on") + "\n" + call("lock_control", entity_id="lock.door", command="unlock")
    ask, seen = scripted(plan)
    agent = StatewiseAgent(ask, home, sensitive_policy="confirm")
    result = await agent.async_run("hall light on and let me in", ONTOLOGY)
    assert (result.outcome, result.speech(), home.executed) == (OUTCOME_CONFIRM, "Unlock Door?", [])
    assert [c.to_line() for c in result.pending] == plan.split("\n")
    done = await agent.async_run_confirmed(result.pending, "hall light on and let me in", ONTOLOGY)
    assert (done.outcome, [a.action for a in home.executed]) == (OUTCOME_DONE, ["light.turn_on", "lock.unlock"])
    assert len(seen) == 1  # the model was asked once: the confirmed plan is never re-asked
    gone = Ontology.from_entities([e for e in ONTOLOGY.entities.values() if e["id"] != "lock.door"])
    stale = await agent.async_run_confirmed(result.pending, "x", gone)  # the door left the home meanwhile: refused, nothing runs
    assert stale.outcome == OUTCOME_REFUSED and len(home.executed) == 2


async def test_a_user_listed_entity_is_sensitive_under_every_policy() -> None:
    """A light the user listed is protected like a lock: blocked, or asked back (under confirm and allow)."""
    for policy, outcome in (("block", OUTCOME_REFUSED), ("confirm", OUTCOME_CONFIRM), ("allow", OUTCOME_CONFIRM)):
        home = FakeHome()
        ask, _ = scripted(call("light_power", entity_id="light.hall", state="on"))
        result = await StatewiseAgent(ask, home, sensitive_policy=policy, sensitive_entities=["light.hall"]).async_run("turn on the hall", ONTOLOGY)
        assert (result.outcome, home.executed) == (outcome, []), policy  # allow: a listed entity has no verb to say, so it is asked back


def _bench_module() -> Any:
    spec = importlib.util.spec_from_file_location("agent_overhead", ROOT / "bench" / "agent_overhead.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_entry_point() -> None:
    """bench/agent_overhead.measure() runs (tiny sizes) and reports a same-run baseline."""
    module = _bench_module()
    report = module.measure((8, 16), repeat=1, with_hass=False)
    assert [row["entities"] for row in report["rows"]] == [8, 16]
    assert report["rows"][0]["ratio_to_baseline"] == 1.0
    assert report["rows"][0]["outcomes"] == ["done", "done", "done", "text", "refused", "refused"]
    assert "x base" in module.format_report(report)


def test_benchmark_inside_home_assistant() -> None:
    """The Home Assistant figures (own test instance, so a separate process)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "agent_overhead.py"), "--sizes", "8", "16", "--repeat", "1", "--json"],
        capture_output=True, text=True, timeout=120, check=True, cwd=ROOT,
    )  # fmt: skip
    report = json.loads(out.stdout)
    assert report["with_hass"] is True
    assert all(row["live_ontology_us"] > 0 and row["ha_total_us"] > 0 and row["ha_cached_total_us"] > 0 for row in report["rows"])
    assert report["rows"][0]["ha_ratio_to_baseline"] == report["rows"][0]["ha_cached_ratio_to_baseline"] == 1.0


def test_tool_without_a_phrase_gets_the_generic_confirmation() -> None:
    """A tool added after v0 without its own phrase is still confirmed (never a crash after acting)."""
    action = PreparedAction(ToolCall("light_power", {"entity_id": "light.desk", "state": "on"}), "light.desk", "light", "turn_on", {})
    reply = confirmation(action, ONTOLOGY)
    assert reply.key == "done_turned_on"
    phrases = {k: v for k, v in english_phrases().items() if k != "done_turned_on"}
    assert render_replies([reply], phrases) == "Done: Desk."


def test_home_assistant_runs_the_protocol_loop() -> None:
    """The conversation entity runs the protocol package's loop: the same file the trainer's evaluator runs."""
    import inspect

    from custom_components.statewise import conversation
    from custom_components.statewise.protocol import agent as loop

    assert conversation.StatewiseAgent is loop.StatewiseAgent
    assert Path(inspect.getfile(conversation.StatewiseAgent)).resolve() == ROOT / "custom_components" / "statewise" / "protocol" / "agent.py"
    assert not (ROOT / "custom_components" / "statewise" / "agent.py").exists()
