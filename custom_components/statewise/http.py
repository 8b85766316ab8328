"""Authenticated download of an export folder as a zip file.

``GET /api/statewise/exports`` lists the exports (admin only);
``GET /api/statewise/exports/<export_id>.zip`` returns one as a zip. Both
need a Home Assistant access token (``requires_auth``) of an admin. The
export action's response also carries ``download_url``: the same path signed
for an hour (``authSig``), which a browser can open as a plain link, so the
export can be fetched from the UI without shell access.
"""

from __future__ import annotations

import io
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


@callback
def async_register_views(hass: HomeAssistant) -> None:
    """Register the export views (once, from ``async_setup``)."""
    hass.http.register_view(StatewiseExportListView())
    hass.http.register_view(StatewiseExportDownloadView())
