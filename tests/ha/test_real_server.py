"""End to end through a real model server: HA export -> dataset -> tiny Qwen3 -> `transformers serve` -> Assist.

The demo home is exported with ``statewise.export_training_seed``; the trainer
environment (``.venv/trainer``, made by ``scripts/setup.sh``) builds a dataset from
that export, overfits a tiny Qwen3 on a handful of its commands and exports the
merged model (``tests/e2e/make_overfit_model.py``); ``transformers serve`` serves it
on 127.0.0.1; the integration is configured through the real config flow and
commands go through ``POST /api/conversation/process``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.statewise.const import CONF_BASE_URL, CONF_MODEL, DOMAIN
from custom_components.statewise.ontology import build_ontology, live_states
from custom_components.statewise.protocol import KIND_FETCH, call_entity_ids, check_output, is_sensitive, render_messages

from .conftest import DemoHome
from .test_export import _export

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from host_exec import host_command  # noqa: E402

TRAINER_BIN = ROOT / ".venv" / "trainer" / "bin"
# Commands the model was not trained on: whatever it answers must be handled safely.
UNTRAINED = ("unlock the front door", "what is the capital of France", "turn on the porch light", "open the garage door", "make it cosy")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Start ``transformers serve`` once the model exists; stop it afterwards."""
    if not (TRAINER_BIN / "python").is_symlink() and not (TRAINER_BIN / "python").is_file():  # a host path: dangling inside a chroot
        pytest.fail(f"{TRAINER_BIN / 'python'} is missing: run scripts/setup.sh (scripts/test.sh does) before the HA tests")
    state: dict[str, Any] = {"proc": None}

    def start(export_dir: str) -> dict[str, Any]:
        model_out = tmp_path / "model"
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
        build = subprocess.run(
            host_command([str(TRAINER_BIN / "python"), str(ROOT / "tests" / "e2e" / "make_overfit_model.py"), export_dir, str(model_out)], ROOT),
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        cases = json.loads((model_out / "cases.json").read_text(encoding="utf-8"))
        port = _free_port()
        log = (tmp_path / "serve.log").open("w")
        state["proc"] = subprocess.Popen(
            host_command([str(TRAINER_BIN / "transformers"), "serve", cases["model_dir"], "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"],
                         tmp_path),
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert state["proc"].poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(url + "/health", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        else:
            pytest.fail("transformers serve did not start in 180 s")
        return {"url": url, **cases}

    yield {"start": start}
    if state["proc"] is not None:
        state["proc"].terminate()
        state["proc"].wait(timeout=30)


async def _model_verdict(hass: HomeAssistant, server: dict[str, Any], ontology: Any, text: str, state: dict[str, Any] | None = None) -> Any:
    """What the served model answers (greedy, so what the agent got) for one prompt, checked."""
    body = {"model": server["model_dir"], "messages": render_messages(ontology, text, state), "temperature": 0, "max_tokens": 256}
    raw = await hass.async_add_executor_job(_post, server["url"] + "/v1/chat/completions", body)
    return check_output(raw["choices"][0]["message"]["content"], ontology, state)


async def test_trained_model_served_by_transformers_serve(
    hass: HomeAssistant, demo_home: DemoHome, served: dict[str, Any], socket_enabled: None, hass_client: Any
) -> None:
    """Real config flow, real server, real service calls; nothing invalid is ever executed."""
    # The plan requires present:false coverage, so the home needs an absent entity (as examples/demo_home has).
    await demo_home.async_disable("light.entrance_color_white_lights")
    await demo_home.async_set_unavailable("media_player.bedroom")
    response = await _export(hass, history_samples=0)
    server = await hass.async_add_executor_job(served["start"], response["path"])

    # The prompt Home Assistant renders is the one training used, token for token.
    ontology = build_ontology(hass)
    for case in server["cases"]:
        messages = render_messages(ontology, case["command"])
        assert messages[0]["content"] == case["system"]
        # No chat_template_kwargs: the exported template must default to the non-thinking training format.
        reply = await hass.async_add_executor_job(
            _post, server["url"] + "/v1/chat/completions", {"model": server["model_dir"], "messages": messages, "temperature": 0, "max_tokens": 64}
        )
        assert reply["usage"]["prompt_tokens"] == len(case["prompt_ids"])

    # The real config flow against the real server.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_BASE_URL: server["url"]})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "model"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_MODEL: server["model_dir"]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    agent = er.async_get(hass).async_get_entity_id("conversation", DOMAIN, next(iter(entry.subentries)))
    client = await hass_client()

    async def process(text: str) -> dict[str, Any]:
        resp = await client.post("/api/conversation/process", json={"text": text, "language": "en", "agent_id": agent})
        assert resp.status == 200
        body = await resp.json()
        speech = body["response"]["speech"]["plain"]["speech"]
        assert speech.strip(), body
        return body

    # Overfit commands: at least one executes its real service call end to end.
    executed = 0
    for case in server["cases"]:
        verdict = check_output(case["expected"], ontology)
        call = verdict.calls[0]
        eid = call.arguments["entity_id"]
        before = hass.states.get(eid).state
        await process(case["command"])
        after = hass.states.get(eid).state
        if case["reproduced"]:
            want = call.arguments.get("state") or {"lock": "locked", "unlock": "unlocked"}[call.arguments["command"]]
            assert after == want, (case, before, after)
            executed += before != after
    assert executed >= 1

    # Untrained commands: whatever the tiny model says, only valid, non-sensitive calls may change anything.
    ontology = build_ontology(hass)
    for text in UNTRAINED:
        before_state = live_states(hass, ontology.entities)
        await process(text)
        changed = {e for e, s in live_states(hass, ontology.entities).items() if s["state"] != before_state[e]["state"]}
        if changed:
            verdict = await _model_verdict(hass, server, ontology, text)
            if verdict.kind == KIND_FETCH:  # the agent fetched, then acted on its second answer
                verdict = await _model_verdict(hass, server, ontology, text, {e: before_state[e] for e in call_entity_ids(verdict.calls[0])})
            assert verdict.ok and verdict.calls, (text, verdict.as_dict(), changed)
            assert not any(is_sensitive(c, ontology.entities[c.arguments["entity_id"]]["device_class"]) for c in verdict.calls if "entity_id" in c.arguments)
    assert hass.states.get("lock.front_door").state == "locked"

    # bench/e2e_latency.py against this server (run_all.py runs it so): it imports and measures.
    spec = importlib.util.spec_from_file_location("bench_e2e_latency", ROOT / "bench" / "e2e_latency.py")
    latency = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(latency)
    report = await latency.measure_async(server["url"], server["model_dir"], [server["cases"][0]["command"]], response["path"], repeat=1)
    [row] = report["rows"]
    assert row["baseline_ms"] > 0 and row["agent_ms"] > 0 and row["outcome"] in ("done", "text", "refused", "partial", "error")
    assert "| command |" in latency.format_table(report)
