"""Export from the UI: the button, the notification, and a download link that works for admins only, whoever made it.

The download page's script (``custom_components/statewise/static/download.js``) runs under
node here, against the real Home Assistant HTTP server of the test, with real tokens.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import CLIENT_ID, MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.statewise.const import DOMAIN

from .conftest import DemoHome

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from host_exec import host_command

SCRIPT = Path(__file__).parents[2] / "custom_components" / "statewise" / "static" / "download.js"
RUNNER = """
const { statewiseDownload } = require(process.argv[2]);
const fs = require("fs");
const [origin, exportId, tokens, out] = process.argv.slice(3);
const store = tokens === "-" ? {} : { hassTokens: tokens };
statewiseDownload({ exportId, origin, storage: { getItem: (k) => (k in store ? store[k] : null) }, fetch, now: () => Date.now(),
  say: (text) => console.log("SAY " + text),
  save: async (blob, name) => fs.writeFileSync(out, Buffer.from(await blob.arrayBuffer())) })
  .then((result) => console.log("RESULT " + result), (err) => { console.log("ERROR " + err); process.exit(1); });
"""


async def _notifications(hass_ws_client: Any, hass: HomeAssistant) -> list[dict[str, Any]]:
    assert await async_setup_component(hass, "persistent_notification", {})  # loaded in every real install (frontend)
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "persistent_notification/get"})
    msg = await ws.receive_json()
    assert msg["success"], msg
    return msg["result"]


async def _node(tmp_path: Path, origin: str, export_id: str, tokens: dict[str, Any] | None) -> tuple[str, bytes | None]:
    on_host = bool(os.environ.get("STATEWISE_HOST_EXEC"))  # inside the newest leg's root filesystem node is the host's
    node = "/usr/bin/node" if on_host else shutil.which("node")
    assert node, "node is needed to run the download page's script (it is on these machines)"
    runner, out = tmp_path / "run.js", tmp_path / "download.zip"
    runner.write_text(RUNNER, encoding="utf-8")
    out.unlink(missing_ok=True)
    argv = host_command([node, str(runner), str(SCRIPT), origin, export_id, json.dumps(tokens) if tokens else "-", str(out)], tmp_path)
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, stderr.decode()
    return stdout.decode(), (out.read_bytes() if out.exists() else None)


async def test_button_exports_and_the_notification_says_where(hass: HomeAssistant, demo_home: DemoHome, init_integration: MockConfigEntry,
                                                              hass_ws_client: Any) -> None:  # fmt: skip
    await demo_home.async_set_unavailable("media_player.bedroom")
    button = er.async_get(hass).async_get_entity_id("button", DOMAIN, f"{init_integration.entry_id}-export")
    assert button is not None and button.startswith("button.statewise")
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    [note] = [n for n in await _notifications(hass_ws_client, hass) if n["notification_id"] == "statewise_export"]
    exports = await hass.async_add_executor_job(lambda: sorted(p.name for p in Path(hass.config.path("statewise", "exports")).iterdir()))
    [export_id] = exports
    text = note["message"]
    assert f"Export **{export_id}**" in text and "24 entities" in text and hass.config.path("statewise", "exports", export_id) in text
    assert "`media_player.bedroom`" in text and f"(/api/statewise/exports/{export_id}/download)" in text


async def test_a_link_from_an_automation_downloads_for_an_admin_only(
    hass: HomeAssistant, demo_home: DemoHome, hass_client_no_auth: ClientSessionGenerator, hass_access_token: str,
    hass_read_only_access_token: str, hass_admin_user: MockUser, tmp_path: Path,
) -> None:  # fmt: skip
    assert await async_setup_component(hass, DOMAIN, {})
    assert await async_setup_component(hass, "auth", {})
    # As an automation calls it: no user in the context.
    response = await hass.services.async_call(DOMAIN, "export_training_seed", {"history_samples": 0}, blocking=True, return_response=True,
                                              context=Context())  # fmt: skip
    export_id = response["export_id"]
    assert response["download_url"] == response["download_page"] == f"/api/statewise/exports/{export_id}/download"
    client = await hass_client_no_auth()
    page = await client.get(response["download_page"])
    html = await page.text()
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "light.bed_light" not in html and "statewiseDownload" in html  # the page itself carries no export data
    assert (await client.get("/api/statewise/exports/..%2f..%2fsecrets/download")).status in (400, 404)
    assert (await client.get("/api/statewise/exports/not-an-id/download")).status == 404
    origin = str(client.make_url("")).rstrip("/")

    said, body = await _node(tmp_path, origin, export_id, {"access_token": hass_access_token, "expires": 4102444800000})
    assert "RESULT saved" in said and body is not None
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert f"{export_id}/ontology.json" in archive.namelist()

    said, body = await _node(tmp_path, origin, export_id, {"access_token": hass_read_only_access_token, "expires": 4102444800000})
    assert "RESULT denied" in said and "Only administrators" in said and body is None

    said, body = await _node(tmp_path, origin, export_id, None)
    assert "RESULT no_login" in said and body is None

    # An expired access token is refreshed with the browser's refresh token, as the frontend does.
    refresh = await hass.auth.async_create_refresh_token(hass_admin_user, CLIENT_ID)
    said, body = await _node(tmp_path, origin, export_id, {"access_token": "expired", "expires": 0, "refresh_token": refresh.token, "clientId": CLIENT_ID})
    assert "RESULT saved" in said and body is not None
    said, body = await _node(tmp_path, origin, export_id, {"access_token": "revoked", "expires": 4102444800000, "refresh_token": refresh.token,
                                                           "clientId": CLIENT_ID})  # fmt: skip
    assert "RESULT saved" in said and body is not None  # a 401 is retried once with a refreshed token
    said, body = await _node(tmp_path, origin, export_id, {"access_token": "x", "expires": 0, "refresh_token": "not-a-token", "clientId": CLIENT_ID})
    assert "RESULT expired" in said and body is None


async def test_from_the_ui_an_admin_gets_a_signed_link_and_a_non_admin_cannot_export(
    hass: HomeAssistant, demo_home: DemoHome, hass_admin_user: MockUser, hass_read_only_user: MockUser
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    response = await hass.services.async_call(DOMAIN, "export_training_seed", {"history_samples": 0}, blocking=True, return_response=True,
                                              context=Context(user_id=hass_admin_user.id))  # fmt: skip
    assert response["download_url"].startswith(f"/api/statewise/exports/{response['export_id']}.zip?authSig=")
    with pytest.raises(Unauthorized):
        await hass.services.async_call(DOMAIN, "export_training_seed", {"history_samples": 0}, blocking=True, return_response=True,
                                       context=Context(user_id=hass_read_only_user.id))  # fmt: skip
