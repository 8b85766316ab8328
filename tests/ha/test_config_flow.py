"""Config flow, reauth, reconfigure, subentries and setup against the scripted server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.statewise.const import (
    CONF_ACTION_TIMEOUT,
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_FETCH_ROUNDS,
    CONF_MAX_LENGTH,
    CONF_MODEL,
    CONF_REQUEST_TIMEOUT,
    CONF_SENSITIVE_POLICY,
    CONF_TRAINED_EXPORT,
    CONF_TRAINED_TOKENS,
    DEFAULT_FETCH_ROUNDS,
    DEFAULT_SENSITIVE_POLICY,
    DOMAIN,
    POLICY_ALLOW,
    SUBENTRY_CONVERSATION,
)

from .model_server import DEFAULT_MODEL, ModelServer


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result["flow_id"]


async def test_full_user_flow(hass: HomeAssistant, model_server: ModelServer) -> None:
    """URL (with /v1 and trailing slash) -> model -> entry with one conversation subentry."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: model_server.url + "/v1/"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "model"
    with patch("custom_components.statewise.async_setup_entry", return_value=True) as setup:
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_MODEL: DEFAULT_MODEL})
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_BASE_URL: model_server.url}  # the server only: the model is the agent's
    assert len(setup.mock_calls) == 1
    entry = result["result"]
    assert entry.version == 2
    subs = list(entry.subentries.values())
    assert [s.subentry_type for s in subs] == [SUBENTRY_CONVERSATION]
    assert subs[0].data[CONF_MODEL] == DEFAULT_MODEL
    assert subs[0].data[CONF_FETCH_ROUNDS] == DEFAULT_FETCH_ROUNDS == 1
    assert subs[0].data[CONF_SENSITIVE_POLICY] == DEFAULT_SENSITIVE_POLICY == "block"
    assert [r.path for r in model_server.requests] == ["/v1/models"]


async def test_user_flow_with_api_key(hass: HomeAssistant, model_server: ModelServer) -> None:
    """The API key is sent as a Bearer token and stored."""
    model_server.api_key = "s3cret"
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: model_server.url, CONF_API_KEY: "wrong"})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: model_server.url, CONF_API_KEY: "s3cret"})
    assert result["step_id"] == "model"
    with patch("custom_components.statewise.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_MODEL: "other-model"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == "s3cret"
    assert next(iter(result["result"].subentries.values())).data[CONF_MODEL] == "other-model"
    assert model_server.requests[-1].authorization == "Bearer s3cret"


@pytest.mark.parametrize(
    ("setup_server", "error"),
    [
        ("down", "cannot_connect"),
        ("http_500", "cannot_connect"),
        ("bad_json", "cannot_connect"),
        ("no_models", "no_models"),
        ("auth", "invalid_auth"),
    ],
)
async def test_user_flow_errors(hass: HomeAssistant, model_server: ModelServer, setup_server: str, error: str) -> None:
    """Every server error maps to a form error, and the flow recovers afterwards."""
    models = list(model_server.models)
    if setup_server == "down":
        await model_server.go_down()
    elif setup_server == "http_500":
        model_server.fail_status = 500
    elif setup_server == "bad_json":
        model_server.bad_json = True
    elif setup_server == "no_models":
        model_server.models = []
    elif setup_server == "auth":
        model_server.api_key = "needed"
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: model_server.url})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}

    if setup_server == "down":
        await model_server.come_up()
    model_server.reset()
    model_server.models = models
    model_server.api_key = None
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: model_server.url})
    assert result["step_id"] == "model"


async def test_user_flow_unknown_error(hass: HomeAssistant, model_server: ModelServer) -> None:
    """An unexpected exception is ``unknown``."""
    flow_id = await _start(hass)
    with patch("custom_components.statewise.config_flow.StatewiseClient.async_list_models", side_effect=RuntimeError("boom")):
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: model_server.url})
    assert result["errors"] == {"base": "unknown"}


async def test_user_flow_timeout(hass: HomeAssistant, model_server: ModelServer) -> None:
    """A server slower than the setup timeout is ``cannot_connect``."""
    model_server.delay = 1.0
    flow_id = await _start(hass)
    with patch("custom_components.statewise.config_flow.SETUP_TIMEOUT", 0.05):
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: model_server.url})
    assert result["errors"] == {"base": "cannot_connect"}


async def test_user_flow_invalid_url(hass: HomeAssistant) -> None:
    """A malformed URL never reaches the network."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: "not a url"})
    assert result["errors"] == {CONF_BASE_URL: "invalid_url"}


async def test_user_flow_already_configured(hass: HomeAssistant, mock_config_entry: MockConfigEntry, model_server: ModelServer) -> None:
    """The same server twice aborts."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: model_server.url})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_setup_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The entry loads against the live server and unloads."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.models == ["other-model", DEFAULT_MODEL]
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED


@pytest.mark.parametrize("failure", ["down", "http_500", "http_500_binary_body", "slow"])
async def test_setup_not_ready(hass: HomeAssistant, mock_config_entry: MockConfigEntry, model_server: ModelServer, failure: str) -> None:
    """A server that is down, failing or slow gives ConfigEntryNotReady (SETUP_RETRY)."""
    if failure == "down":
        await model_server.go_down()
    elif failure.startswith("http_500"):
        model_server.fail_status = 500
        if failure == "http_500_binary_body":
            model_server.fail_body = b"\xff\xfe\xfa"
    else:
        model_server.delay = 1.0
    with patch("custom_components.statewise.SETUP_TIMEOUT", 0.05):
        assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    if failure == "down":
        await model_server.come_up()


async def test_setup_auth_failed_starts_reauth(hass: HomeAssistant, mock_config_entry: MockConfigEntry, model_server: ModelServer) -> None:
    """HTTP 401 at setup starts a reauth flow."""
    model_server.api_key = "new-key"
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_reauth(hass: HomeAssistant, mock_config_entry: MockConfigEntry, model_server: ModelServer) -> None:
    """Reauth: a wrong key is rejected, the right one is stored."""
    model_server.api_key = "new-key"
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: "bad"})
    assert result["errors"] == {"base": "invalid_auth"}
    with patch("custom_components.statewise.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: "new-key"})
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_API_KEY] == "new-key"


async def test_reauth_server_down(hass: HomeAssistant, mock_config_entry: MockConfigEntry, model_server: ModelServer) -> None:
    """Reauth shows cannot_connect when the server is down."""
    result = await mock_config_entry.start_reauth_flow(hass)
    await model_server.go_down()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: "k"})
    assert result["errors"] == {"base": "cannot_connect"}
    await model_server.come_up()


async def test_reconfigure(hass: HomeAssistant, mock_config_entry: MockConfigEntry, model_server: ModelServer) -> None:
    """Reconfigure the server: new URL form, errors; the key is kept when left empty, the agents keep their models."""
    hass.config_entries.async_update_entry(mock_config_entry, data={**mock_config_entry.data, CONF_API_KEY: "keep-me"})
    model_server.api_key = "keep-me"
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: "http://127.0.0.1:1"})
    assert result["errors"] == {"base": "cannot_connect"}
    with patch("custom_components.statewise.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_BASE_URL: model_server.url + "/v1"})
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data == {CONF_BASE_URL: model_server.url, CONF_API_KEY: "keep-me"}
    assert next(iter(mock_config_entry.subentries.values())).data[CONF_MODEL] == DEFAULT_MODEL


def _write_export(hass: HomeAssistant, export_id: str) -> None:
    """Copy examples/demo_home as an export folder (blocking; fine in tests)."""
    src = Path(__file__).parents[2] / "examples" / "demo_home"
    dst = Path(hass.config.path("statewise", "exports", export_id))
    dst.mkdir(parents=True)
    for name in ("ontology.json", "snapshots.json", "manifest.json"):
        (dst / name).write_text((src / name).read_text(encoding="utf-8"), encoding="utf-8")


async def test_subentry_create_and_reconfigure(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """Add a conversation agent with a trained export, then reconfigure it."""
    await hass.async_add_executor_job(_write_export, hass, "20261120T180000Z")
    await hass.async_add_executor_job(_write_export, hass, "20261121T180000Z")
    await hass.async_add_executor_job(_write_export, hass, "20261122T180000Z")
    broken = Path(hass.config.path("statewise", "exports", "20261122T180000Z", "ontology.json"))
    await hass.async_add_executor_job(broken.write_text, '{"format": "nope"}', "utf-8")

    result = await hass.config_entries.subentries.async_init(
        (mock_config_entry.entry_id, SUBENTRY_CONVERSATION), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "set_options"
    schema = result["data_schema"].schema
    export_key = next(k for k in schema if k == CONF_TRAINED_EXPORT)
    options = [o["value"] for o in schema[export_key].config["options"]]
    model_key = next(k for k in schema if k == CONF_MODEL)
    assert schema[model_key].config["options"] == sorted([DEFAULT_MODEL, "other-model"])  # the server's /v1/models now
    length_key = next(k for k in schema if k == CONF_MAX_LENGTH)
    assert schema[length_key].config["options"] == ["2048", "3072", "4096", "6144", "8192"] and length_key.default() == "2048"
    assert options == ["20261122T180000Z", "20261121T180000Z", "20261120T180000Z"]

    # an export whose ontology is not valid v0 is refused
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "Kitchen agent", CONF_FETCH_ROUNDS: 2, CONF_REQUEST_TIMEOUT: 12, CONF_SENSITIVE_POLICY: POLICY_ALLOW, CONF_TRAINED_EXPORT: "20261122T180000Z"},
    )
    assert result["errors"] == {CONF_TRAINED_EXPORT: "invalid_export"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "Kitchen agent", CONF_FETCH_ROUNDS: 2, CONF_REQUEST_TIMEOUT: 12, CONF_SENSITIVE_POLICY: POLICY_ALLOW, CONF_TRAINED_EXPORT: "20261121T180000Z",
         CONF_MAX_LENGTH: "4096", CONF_MODEL: "other-model"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    sub = next(s for s in mock_config_entry.subentries.values() if s.title == "Kitchen agent")
    assert sub.data[CONF_FETCH_ROUNDS] == 2 and sub.data[CONF_MODEL] == "other-model"
    assert sub.data[CONF_REQUEST_TIMEOUT] == 12.0
    assert sub.data[CONF_SENSITIVE_POLICY] == POLICY_ALLOW
    assert sub.data[CONF_TRAINED_EXPORT] == "20261121T180000Z"
    assert sub.data[CONF_MAX_LENGTH] == 4096
    ontology_text = await hass.async_add_executor_job(
        Path(hass.config.path("statewise", "exports", "20261121T180000Z", "ontology.json")).read_text
    )
    assert 0 < sub.data[CONF_TRAINED_TOKENS] < len(json.loads(ontology_text)["entities"]) * 200

    result = await mock_config_entry.start_subentry_reconfigure_flow(hass, sub.subentry_id)
    assert result["step_id"] == "set_options"
    assert "name" not in result["data_schema"].schema
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_FETCH_ROUNDS: 0, CONF_REQUEST_TIMEOUT: 30, CONF_SENSITIVE_POLICY: "block"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    sub = mock_config_entry.subentries[sub.subentry_id]
    assert sub.data == {CONF_MODEL: "other-model", CONF_FETCH_ROUNDS: 0, CONF_REQUEST_TIMEOUT: 30.0, CONF_SENSITIVE_POLICY: "block",
                        CONF_TRAINED_EXPORT: "", CONF_MAX_LENGTH: 4096, CONF_ACTION_TIMEOUT: 5.0, "output_grammar": "off",
                        "sensitive_entities": [], "lora_adapter": None, "languages": ["en"]}


async def test_setup_retry_recovers(hass: HomeAssistant, demo_home: Any, mock_config_entry: MockConfigEntry, model_server: ModelServer) -> None:
    """Down at start (SETUP_RETRY), loads once the server answers again."""
    await model_server.go_down()
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    await model_server.come_up()
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED


async def test_migration_moves_the_model_to_every_agent(hass: HomeAssistant, model_server: ModelServer) -> None:
    """A version 1 entry (model on the entry) loads as version 2 with the model on each conversation subentry."""
    entry = MockConfigEntry(
        domain=DOMAIN, title=f"{DEFAULT_MODEL} ({model_server.url})", data={CONF_BASE_URL: model_server.url, CONF_MODEL: DEFAULT_MODEL},
        version=1, minor_version=1,
        subentries_data=[ConfigSubentryData(data={CONF_FETCH_ROUNDS: 1}, subentry_type=SUBENTRY_CONVERSATION, title="A", unique_id=None),
                         ConfigSubentryData(data={CONF_FETCH_ROUNDS: 2, CONF_MODEL: "other-model"}, subentry_type=SUBENTRY_CONVERSATION,
                                            title="B", unique_id=None)],
    )  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.data, entry.title) == (2, {CONF_BASE_URL: model_server.url}, model_server.url)
    models = {s.title: s.data for s in entry.subentries.values()}
    assert models == {"A": {CONF_FETCH_ROUNDS: 1, CONF_MODEL: DEFAULT_MODEL}, "B": {CONF_FETCH_ROUNDS: 2, CONF_MODEL: "other-model"}}


async def test_a_future_entry_version_is_refused(hass: HomeAssistant, model_server: ModelServer) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_BASE_URL: model_server.url}, version=3)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
