"""Authenticated download of an export folder as a zip file.

``GET /api/statewise/exports`` lists the exports (admin only);
``GET /api/statewise/exports/<export_id>.zip`` returns one as a zip. Both
need a Home Assistant access token (``requires_auth``) of an admin.

``GET /api/statewise/exports/<export_id>/download`` is the link the export
notification shows: a page without data (``requires_auth = False``) whose
script (``static/download.js``) fetches the zip with the login of the browser
that opened it, so a link made by an automation works for any administrator
and for nobody else. When an admin runs the export from the UI, the action's
``download_url`` is the zip path signed for that admin (``authSig``, one hour).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from aiohttp import web
from homeassistant.components.http import KEY_HASS, HomeAssistantView, require_admin
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN
from .export import export_path, list_exports

URL_EXPORTS = "/api/statewise/exports"


def _zip_folder(folder: Path, export_id: str) -> bytes | None:
    """The export folder's files as zip bytes, under ``<export_id>/`` (blocking I/O)."""
    if not folder.is_dir():
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.iterdir()):
            if file.is_file() and not file.is_symlink():
                archive.write(file, f"{export_id}/{file.name}")
    return buffer.getvalue()


class StatewiseExportListView(HomeAssistantView):
    """List the export ids."""

    url = URL_EXPORTS
    name = f"api:{DOMAIN}:exports"
    requires_auth = True

    @require_admin
    async def get(self, request: web.Request) -> web.Response:
        """Export ids, oldest first."""
        hass: HomeAssistant = request.app[KEY_HASS]
        return self.json({"exports": await hass.async_add_executor_job(list_exports, hass)})


class StatewiseExportDownloadView(HomeAssistantView):
    """Download one export as a zip."""

    url = URL_EXPORTS + "/{export_id}.zip"
    name = f"api:{DOMAIN}:export"
    requires_auth = True

    @require_admin
    async def get(self, request: web.Request, export_id: str) -> web.Response:
        """The zip of one export folder (404 for unknown or malformed ids)."""
        hass: HomeAssistant = request.app[KEY_HASS]
        folder = export_path(hass, export_id)
        if folder is None:
            return self.json_message("Unknown export", 404)
        body = await hass.async_add_executor_job(_zip_folder, folder, export_id)
        if body is None:
            return self.json_message("Unknown export", 404)
        return web.Response(
            body=body,
            content_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="statewise-export-{export_id}.zip"'},
        )


DOWNLOAD_SCRIPT = Path(__file__).parent / "static" / "download.js"
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Statewise export {export_id}</title></head>
<body style="font-family: sans-serif; margin: 2em"><h1>Statewise export {export_id}</h1><p id="message">Downloading...</p>
<script>{script}</script>
<script>
statewiseDownload({{exportId: {export_json}, origin: location.origin, storage: localStorage, fetch: (url, options) => fetch(url, options),
  now: () => Date.now(), say: (text) => {{ document.getElementById("message").textContent = text; }},
  save: async (blob, name) => {{ const a = document.createElement("a"); a.href = URL.createObjectURL(blob); a.download = name;
    document.body.appendChild(a); a.click(); }}}});
</script></body></html>
"""


class StatewiseExportPageView(HomeAssistantView):
    """The download page: no data, only the script that asks for the zip as whoever opened it."""

    url = URL_EXPORTS + "/{export_id}/download"
    name = f"api:{DOMAIN}:export_page"
    requires_auth = False

    async def get(self, request: web.Request, export_id: str) -> web.Response:
        """The page (404 for malformed ids; whether an export exists is not said here)."""
        hass: HomeAssistant = request.app[KEY_HASS]
        if export_path(hass, export_id) is None:
            return self.json_message("Unknown export", 404)
        script = await hass.async_add_executor_job(DOWNLOAD_SCRIPT.read_text, "utf-8")
        html = PAGE.format(export_id=export_id, export_json=json.dumps(export_id), script=script)
        return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@callback
def async_register_views(hass: HomeAssistant) -> None:
    """Register the export views (once, from ``async_setup``)."""
    hass.http.register_view(StatewiseExportListView())
    hass.http.register_view(StatewiseExportDownloadView())
    hass.http.register_view(StatewiseExportPageView())
