"""Export download view, diagnostics and Repairs issues."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.statewise.const import CONF_API_KEY, CONF_TRAINED_EXPORT, DOMAIN, SUBENTRY_CONVERSATION
from custom_components.statewise.ontology import build_ontology
from custom_components.statewise.protocol import Ontology
from custom_components.statewise.repairs import async_update_issues, estimate_tokens

from .conftest import EXPOSED, DemoHome
from .test_export import _export


async def test_download_zip(hass: HomeAssistant, demo_home: DemoHome, hass_client: ClientSessionGenerator) -> None:
    """An authenticated admin gets the export as a zip; the list names it."""
    response = await _export(hass, history_samples=0)
    client = await hass_client()
    resp = await client.get("/api/statewise/exports")
    assert resp.status == 200
    assert (await resp.json())["exports"] == [response["export_id"]]

    resp = await client.get(f"/api/statewise/exports/{response['export_id']}.zip")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await resp.read()))
    names = sorted(archive.namelist())
    assert names == [f"{response['export_id']}/{n}" for n in ("manifest.json", "ontology.json", "snapshots.json")]
    manifest = json.loads(archive.read(f"{response['export_id']}/manifest.json"))
    assert manifest["content_hash"] == response["content_hash"]

    for bad in ("20990101T000000Z", "..%2F..%2Fsecrets", "nope"):
        resp = await client.get(f"/api/statewise/exports/{bad}.zip")
        assert resp.status in (400, 404), bad  # 400: HA's security filter


async def test_download_requires_auth(hass: HomeAssistant, demo_home: DemoHome, hass_client_no_auth: ClientSessionGenerator) -> None:
    """Without a token: 401."""
    response = await _export(hass, history_samples=0)
    client = await hass_client_no_auth()
    resp = await client.get(f"/api/statewise/exports/{response['export_id']}.zip")
    assert resp.status == 401
    resp = await client.get("/api/statewise/exports")
    assert resp.status == 401


async def test_download_requires_admin(
    hass: HomeAssistant, demo_home: DemoHome, hass_client: ClientSessionGenerator, hass_read_only_access_token: str
) -> None:
    """A non-admin user is refused (the export describes the whole home)."""
    response = await _export(hass, history_samples=0)
    client = await hass_client(hass_read_only_access_token)
    resp = await client.get(f"/api/statewise/exports/{response['export_id']}.zip")
    assert resp.status == 401


async def test_diagnostics(hass: HomeAssistant, init_integration: MockConfigEntry, hass_client: ClientSessionGenerator) -> None:
    """Diagnostics redact the API key and summarise the live ontology."""
    hass.config_entries.async_update_entry(init_integration, data={**init_integration.data, CONF_API_KEY: "super-secret"})
    diag = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diag["entry"]["data"][CONF_API_KEY] == "**REDACTED**"
    assert "super-secret" not in json.dumps(diag)
    assert diag["ontology"]["entity_count"] == len(EXPOSED) == 24
    assert diag["ontology"]["cached_hash"] == diag["ontology"]["hash"] and diag["ontology"]["cached_builds"] >= 1
    assert diag["subentries"][0]["type"] == SUBENTRY_CONVERSATION
    assert diag["server_models"]


async def test_diagnostics_redact_url_credentials(hass: HomeAssistant, init_integration: MockConfigEntry, hass_client: ClientSessionGenerator) -> None:
    """Basic-auth credentials written into the base URL (reverse proxy) are not in diagnostics."""
    url = init_integration.data["base_url"].replace("http://", "http://alice:pa55word@")
    hass.config_entries.async_update_entry(init_integration, title=f"model ({url})", data={**init_integration.data, "base_url": url})
    diag = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    blob = json.dumps(diag)
    assert "pa55word" not in blob
    assert "alice" not in blob
    assert diag["entry"]["data"]["base_url"].startswith("http://127.0.0.1:")


def _issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    return {issue_id: issue for (domain, issue_id), issue in ir.async_get(hass).issues.items() if domain == DOMAIN}


async def test_repairs_issue_after_rename_and_remove(
    hass: HomeAssistant, demo_home: DemoHome, model_server: Any
) -> None:
    """Train on an export, then rename and remove entities: an issue appears; restoring clears it."""
    response = await _export(hass, history_samples=0)
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"base_url": model_server.url, "model": "statewise-qwen3-1.7b"},
        subentries_data=[
            {"data": {CONF_TRAINED_EXPORT: response["export_id"]}, "subentry_type": SUBENTRY_CONVERSATION, "title": "Agent", "unique_id": None}
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    subentry_id = next(iter(entry.subentries))
    assert _issues(hass) == {}, "live home equals the trained export"

    ent_reg = er.async_get(hass)
    ent_reg.async_update_entity("light.kitchen_lights", name="Cooking Lights")
    ent_reg.async_remove("switch.ac")
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5))
    await hass.async_block_till_done(wait_background_tasks=True)

    issue = _issues(hass)[f"ontology_changed_{subentry_id}"]
    assert issue.translation_key == "ontology_changed"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders["renamed"] == "light.kitchen_lights"
    assert issue.translation_placeholders["removed"] == "switch.ac"
    assert issue.translation_placeholders["added"] == "-"

    ent_reg.async_update_entity("light.kitchen_lights", name=None)
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert f"ontology_changed_{subentry_id}" in _issues(hass), "switch.ac is still gone"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_repairs_issues_go_with_their_agent(hass: HomeAssistant, demo_home: DemoHome, model_server: Any) -> None:
    """Removing the agent (subentry), or the whole entry, removes its issues; they do not linger until restart."""
    response = await _export(hass, history_samples=0)
    sub = {"data": {CONF_TRAINED_EXPORT: response["export_id"]}, "subentry_type": SUBENTRY_CONVERSATION, "unique_id": None}
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"base_url": model_server.url, "model": "statewise-qwen3-1.7b"},
        subentries_data=[{**sub, "title": "Agent A"}, {**sub, "title": "Agent B"}],
    )
    entry.add_to_hass(hass)
    er.async_get(hass).async_remove("switch.ac")  # the home drifted from the export
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    first, second = list(entry.subentries)
    assert set(_issues(hass)) == {f"ontology_changed_{first}", f"ontology_changed_{second}"}

    assert hass.config_entries.async_remove_subentry(entry, first)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert set(_issues(hass)) == {f"ontology_changed_{second}"}

    assert (await hass.config_entries.async_remove(entry.entry_id))["require_restart"] is False
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _issues(hass) == {}


async def test_repairs_token_budget(hass: HomeAssistant, demo_home: DemoHome) -> None:
    """A live ontology much larger than the trained one raises the token budget issue."""
    assert await async_setup_component(hass, DOMAIN, {})
    live = build_ontology(hass)
    trained = Ontology.from_entities([e for eid, e in live.entities.items() if eid.startswith("light.")])
    async_update_issues(hass, "sub1", "Agent", "20261120T180000Z", trained, live, estimate_tokens(trained))
    issues = _issues(hass)
    assert issues["token_budget_sub1"].translation_placeholders["budget"] == str(int(estimate_tokens(trained) * 1.1))
    assert int(issues["token_budget_sub1"].translation_placeholders["live_tokens"]) == estimate_tokens(live)
    assert issues["ontology_changed_sub1"].translation_placeholders["removed"] == "-"

    async_update_issues(hass, "sub1", "Agent", "20261120T180000Z", live, live, estimate_tokens(live))
    assert _issues(hass) == {}


async def test_repairs_token_budget_is_the_trained_sequence_length(hass: HomeAssistant, demo_home: DemoHome) -> None:
    """Trained on the same home with a 2048-token budget: a small model length warns, a larger one does not."""
    assert await async_setup_component(hass, DOMAIN, {})
    live = build_ontology(hass)
    tokens = estimate_tokens(live)
    async_update_issues(hass, "sub1", "Agent", "x", live, live, tokens, max_length=tokens - 1)
    assert _issues(hass)["token_budget_sub1"].translation_placeholders["budget"] == str(tokens - 1)
    async_update_issues(hass, "sub1", "Agent", "x", live, live, tokens, max_length=4096)
    assert _issues(hass) == {}


async def test_signed_download_url_from_ui(
    hass: HomeAssistant, demo_home: DemoHome, hass_ws_client: Any, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Run from the UI (websocket), the response's signed download_url works as a plain link."""
    assert await async_setup_component(hass, DOMAIN, {})
    ws = await hass_ws_client(hass)
    sequence = [
        {"action": "statewise.export_training_seed", "data": {"history_samples": 0}, "response_variable": "out"},
        {"stop": "done", "response_variable": "out"},
    ]
    await ws.send_json_auto_id({"type": "execute_script", "sequence": sequence})
    msg = await ws.receive_json()
    assert msg["success"], msg
    response = msg["result"]["response"]
    url = response["download_url"]
    assert url.startswith(f"/api/statewise/exports/{response['export_id']}.zip?authSig=")
    client = await hass_client_no_auth()
    resp = await client.get(url)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/zip"
    # the signature is bound to its path
    other = url.replace(response["export_id"], "20990101T000000Z")
    assert (await client.get(other)).status == 401
