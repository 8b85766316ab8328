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
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from custom_components.statewise.ontology import build_ontology
from custom_components.statewise.protocol import check_output

from .conftest import DemoHome
from .served import assert_only_valid_calls_act, assert_prompt_tokens_match, async_configure, require
from .test_export import _export

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import model_servers  # noqa: E402
from host_exec import host_command  # noqa: E402

TRAINER_BIN = model_servers.TRAINER_BIN


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Start ``transformers serve`` once the model exists; stop it afterwards."""
    require(TRAINER_BIN / "python")
    with ExitStack() as stack:

        def start(export_dir: str) -> dict[str, Any]:
            model_out = tmp_path / "model"
            env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
            build = subprocess.run(
                host_command([str(TRAINER_BIN / "python"), str(ROOT / "tests" / "e2e" / "make_overfit_model.py"), export_dir, str(model_out)], ROOT),
                cwd=ROOT, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
            cases = json.loads((model_out / "cases.json").read_text(encoding="utf-8"))
            argv = model_servers.transformers_serve(cases["model_dir"], model_servers.free_port())
            url = stack.enter_context(model_servers.running(argv, tmp_path / "serve.log", "/health", env=env))
            return {"url": url, **cases}

        yield {"start": start}


async def test_trained_model_served_by_transformers_serve(
    hass: HomeAssistant, demo_home: DemoHome, served: dict[str, Any], socket_enabled: None, hass_client: Any
) -> None:
    """Real config flow, real server, real service calls; nothing invalid is ever executed."""
    # The plan requires present:false coverage, so the home needs an absent entity (as examples/demo_home has).
    await demo_home.async_disable("light.entrance_color_white_lights")
    await demo_home.async_set_unavailable("media_player.bedroom")
    response = await _export(hass, history_samples=0)
    server = await hass.async_add_executor_job(served["start"], response["path"])
    await assert_prompt_tokens_match(hass, server["url"], server["model_dir"], server["cases"])
    _entry, process = await async_configure(hass, hass_client, server["url"], server["model_dir"])
    ontology = build_ontology(hass)

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
    await assert_only_valid_calls_act(hass, process, server["url"], server["model_dir"])

    # bench/e2e_latency.py against this server (run_all.py runs it so): it imports and measures.
    spec = importlib.util.spec_from_file_location("bench_e2e_latency", ROOT / "bench" / "e2e_latency.py")
    latency = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(latency)
    report = await latency.measure_async(server["url"], server["model_dir"], [server["cases"][0]["command"]], response["path"], repeat=1)
    [row] = report["rows"]
    assert row["baseline_ms"] > 0 and row["agent_ms"] > 0 and row["outcome"] in ("done", "text", "refused", "partial", "error")
    assert "| command |" in latency.format_table(report)
