"""End to end through llama.cpp: HA export -> GGUF (``trainer export --gguf``) -> a llama.cpp server -> Assist.

The demo home is exported with the integration; the trainer environment writes a
random-weight tiny Qwen3 with the real Qwen3 vocabulary and exports it with GGUF
(``tests/e2e/make_gguf_model.py``, llama.cpp's converter from the pinned
llama-cpp-python release). Each of llama.cpp's servers serves it on 127.0.0.1 with the
GGUF's own chat template: ``python -m llama_cpp.server`` (``.venv/llama``, made by
``scripts/llama_cpp.sh``) and llama.cpp's own ``llama-server --jinja`` (built from the same
release by ``scripts/llama_server.sh``). The integration is set up through the real config
flow and commands go through ``POST /api/conversation/process``: plumbing works, whatever the
model says is handled safely, with the grammar option on (both servers take the GBNF as the
request's ``grammar``) no answer is refused for its syntax, and a second command of the same
home evaluates only its own tokens (the prefix cache).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.statewise.const import CONF_FETCH_ROUNDS, CONF_OUTPUT_GRAMMAR, CONF_REQUEST_TIMEOUT, CONF_SENSITIVE_POLICY, GRAMMAR_GBNF
from custom_components.statewise.protocol import ErrorCode

from .conftest import DemoHome
from .served import UNTRAINED, assert_only_valid_calls_act, assert_prompt_tokens_match, async_configure, require
from .test_export import _export

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import model_servers  # noqa: E402
from host_exec import host_command  # noqa: E402

# Refusals for the text's shape (what a grammar rules out), as opposed to the home's (unknown ids, capabilities).
SYNTAX = {ErrorCode.EMPTY_OUTPUT, ErrorCode.NOT_TEXT, ErrorCode.THINKING_PRESENT, ErrorCode.MIXED_TEXT_AND_JSON, ErrorCode.MULTIPLE_CALLS_PER_LINE,
          ErrorCode.JSON_LIKE_TEXT, ErrorCode.MALFORMED_JSON, ErrorCode.NOT_A_TOOL_CALL, ErrorCode.UNKNOWN_TOOL, ErrorCode.SCHEMA_VIOLATION}  # fmt: skip


SERVERS = ("llama_cpp.server", "llama-server")


@pytest.fixture(params=SERVERS)
def llama_served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Build the GGUF from an export and serve it with one of llama.cpp's servers; stop it afterwards."""
    kind = request.param
    require(model_servers.TRAINER_BIN / "python", model_servers.LLAMA_PYTHON if kind == "llama_cpp.server" else model_servers.LLAMA_SERVER)
    with ExitStack() as stack:

        def start(export_dir: str) -> dict[str, Any]:
            argv = [str(model_servers.TRAINER_BIN / "python"), str(ROOT / "tests" / "e2e" / "make_gguf_model.py"), export_dir, str(tmp_path / "gguf")]
            build = subprocess.run(host_command(argv, ROOT), cwd=ROOT, capture_output=True, text=True, check=False)
            assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
            cases = json.loads((tmp_path / "gguf" / "cases.json").read_text(encoding="utf-8"))
            log, port = tmp_path / "llama.log", model_servers.free_port()
            argv = model_servers.llama_cpp_server(cases["gguf"], port) if kind == "llama_cpp.server" else model_servers.llama_server(cases["gguf"], port)
            url = stack.enter_context(model_servers.running(argv, log, "/v1/models"))
            return {"url": url, "log": log, "kind": kind, **cases}

        yield start


def _syntax_refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "invalid output (" in r.getMessage() and any(f"{code.value}:" in r.getMessage() for code in SYNTAX)]


async def test_gguf_served_by_llama_cpp(
    hass: HomeAssistant, demo_home: DemoHome, llama_served: Any, socket_enabled: None, hass_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Real config flow, llama.cpp's server and template, real service calls; the grammar option removes syntax refusals."""
    await demo_home.async_disable("light.entrance_color_white_lights")
    response = await _export(hass, history_samples=0)
    server = await hass.async_add_executor_job(llama_served, response["path"])
    model = model_servers.LLAMA_MODEL_ALIAS

    # llama.cpp renders the GGUF's chat template: the same prompt tokens as training, with no chat_template_kwargs.
    await assert_prompt_tokens_match(hass, server["url"], model, server["cases"])
    if server["kind"] == "llama-server":  # --jinja: the template it renders is the GGUF's (GET /props says which)
        props = await hass.async_add_executor_job(model_servers.get_json, server["url"] + "/props")
        assert props["chat_template"].startswith("{#- statewise: non-thinking by default"), props["chat_template"][:200]
    else:
        assert "Using gguf chat template: {#- statewise: non-thinking by default" in server["log"].read_text(encoding="utf-8", errors="replace")

    entry, process = await async_configure(hass, hass_client, server["url"], model)
    commands = [c["command"] for c in server["cases"]] + list(UNTRAINED)
    caplog.set_level(logging.INFO, logger="custom_components.statewise")
    await assert_only_valid_calls_act(hass, process, server["url"], model, commands)
    without = _syntax_refusals(caplog)

    # The grammar option, through the real reconfigure flow of the agent subentry.
    subentry = next(iter(entry.subentries.values()))
    result = await hass.config_entries.subentries.async_init((entry.entry_id, subentry.subentry_type),
                                                             context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id})  # fmt: skip
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_FETCH_ROUNDS: 1, CONF_REQUEST_TIMEOUT: 120, CONF_SENSITIVE_POLICY: "block", CONF_OUTPUT_GRAMMAR: GRAMMAR_GBNF}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    caplog.clear()
    await assert_only_valid_calls_act(hass, process, server["url"], model, commands)
    assert _syntax_refusals(caplog) == [], "with the grammar on, an answer was refused for its syntax"
    assert without, "the random-weight model gave no syntax refusal without the grammar: the comparison shows nothing"

    # bench/e2e_latency.py's llama.cpp figures against this server (run_all.py runs them so): they import and measure.
    spec = importlib.util.spec_from_file_location("bench_e2e_latency", ROOT / "bench" / "e2e_latency.py")
    latency = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(latency)
    # llama-server says what it evaluated (timings.prompt_n); llama-cpp-python's log does.
    log = server["log"] if server["kind"] == "llama_cpp.server" else None
    cache = await latency.prefix_cache_async(server["url"], model, commands[:2], response["path"], repeat=1, server_log=log)
    [first, _second] = cache["rows"]
    assert first["evicted_evaluated"] > first["prompt_tokens"] - 10 and first["reused_evaluated"] < 30, first
    assert "| command | prompt tokens |" in latency.format_cache_table(cache)
    rates = await latency.grammar_rates_async(server["url"], model, commands[:3], response["path"])
    assert rates["gbnf"]["invalid"] == 0 and "| gbnf |" in latency.format_grammar_table(rates)
