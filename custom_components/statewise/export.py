"""Training seed export: ``statewise.export_training_seed``.

Writes a versioned export folder ``<config>/statewise/exports/<timestamp>/``
holding the protocol's three files (``ontology.json``, ``snapshots.json``,
``manifest.json``), built and validated by the protocol's ``export_files``.

Snapshots: one ``live`` snapshot of the current states, plus up to N
``recorder`` snapshots sampled at evenly spaced instants from the recorder's
history (run in the recorder's executor), for realistic state variety.
Identical snapshots are written once. Note: Home Assistant does not record
some attributes at all (lights' ``brightness`` and ``color_temp_kelvin`` are
``_entity_component_unrecorded_attributes`` in 2026.2), so recorder snapshots
of lights carry on/off only; the live snapshot has everything.

Redaction: every state goes through the protocol's ``entity_state``, which
keeps only the ``STATE_ATTRIBUTES`` whitelist; the ontology holds names,
aliases, areas, floors, device classes and capability flags only. So
``entity_picture`` (and its access token), ``access_token`` and every other
attribute never leave Home Assistant.

The folder is written atomically: files go to a hidden temporary folder
next to it, which is renamed into place only when complete.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.components import persistent_notification
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, State, SupportsResponse, split_entity_id
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.service import async_register_admin_service
from homeassistant.util import dt as dt_util

from .const import (
    ATTR_HISTORY_HOURS,
    ATTR_HISTORY_SAMPLES,
    CONF_KEEP_EXPORTS,
    CONF_TRAINED_EXPORT,
    DEFAULT_HISTORY_HOURS,
    DEFAULT_HISTORY_SAMPLES,
    DEFAULT_KEEP_EXPORTS,
    DOMAIN,
    EXPORTS_DIR,
    LOGGER,
    MAX_HISTORY_SAMPLES,
    SERVICE_EXPORT_TRAINING_SEED,
)
from .ontology import build_ontology, live_states
from .protocol import Ontology, Snapshot, content_hash, entity_state, export_files

SIGNED_URL_LIFETIME = timedelta(hours=1)
_WRITE_LOCK = threading.Lock()  # choosing a free export id and renaming into it
EXPORT_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z(?:-[0-9]+)?$")

EXPORT_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_HISTORY_HOURS, default=DEFAULT_HISTORY_HOURS): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=24 * 30)
        ),
        vol.Optional(ATTR_HISTORY_SAMPLES, default=DEFAULT_HISTORY_SAMPLES): vol.All(
            vol.Coerce(int), vol.Range(min=0, max=MAX_HISTORY_SAMPLES)
        ),
    }
)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    export_id: str
    path: Path
    content_hash: str
    entity_count: int
    snapshot_count: int
    recorder_snapshot_count: int
    present_false: list[str]

    def as_response(self) -> dict[str, Any]:
        """The action's response."""
        return {
            "export_id": self.export_id,
            "path": str(self.path),
            "content_hash": self.content_hash,
            "entity_count": self.entity_count,
            "snapshot_count": self.snapshot_count,
            "recorder_snapshot_count": self.recorder_snapshot_count,
            "present_false": self.present_false,
        }


def exports_root(hass: HomeAssistant) -> Path:
    """``<config>/statewise/exports``."""
    return Path(hass.config.path(EXPORTS_DIR))


def list_exports(hass: HomeAssistant) -> list[str]:
    """Export ids (folder names) under the exports folder, newest last (blocking I/O)."""
    root = exports_root(hass)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and EXPORT_ID_RE.fullmatch(p.name))


def export_path(hass: HomeAssistant, export_id: str) -> Path | None:
    """The folder of an export id, or ``None`` when the id is malformed (no path tricks)."""
    if not EXPORT_ID_RE.fullmatch(export_id):
        return None
    return exports_root(hass) / export_id


def prune_exports(root: Path, keep: int, protected: set[str]) -> list[str]:
    """Delete all but the newest ``keep`` exports, never one in ``protected`` (blocking I/O); the deleted ids."""
    if not root.is_dir():
        return []
    ids = sorted(p.name for p in root.iterdir() if p.is_dir() and EXPORT_ID_RE.fullmatch(p.name))
    doomed = [eid for eid in ids[: max(0, len(ids) - keep)] if eid not in protected]
    for export_id in doomed:
        shutil.rmtree(root / export_id, ignore_errors=True)
    return doomed


def retention(hass: HomeAssistant) -> tuple[int, set[str]]:
    """How many exports to keep (the largest entry option) and the exports an agent was trained on (always kept)."""
    entries = hass.config_entries.async_entries(DOMAIN)
    keep = max((int(e.options.get(CONF_KEEP_EXPORTS, DEFAULT_KEEP_EXPORTS)) for e in entries), default=DEFAULT_KEEP_EXPORTS)
    protected = {str(sub.data.get(CONF_TRAINED_EXPORT)) for e in entries for sub in e.subentries.values() if sub.data.get(CONF_TRAINED_EXPORT)}
    return keep, protected


def _iso(value: datetime) -> str:
    return dt_util.as_utc(value).isoformat(timespec="seconds")


def _snapshot_id(prefix: str, value: datetime) -> str:
    return f"{prefix}-{dt_util.as_utc(value).strftime('%Y%m%dT%H%M%SZ')}"


def sample_history(
    history: Mapping[str, Sequence[State]],
    entity_ids: Sequence[str],
    start: datetime,
    end: datetime,
    samples: int,
) -> list[Snapshot]:
    """Whole-home snapshots at ``samples`` evenly spaced instants in ``(start, end)``.

    At each instant an entity's state is its last recorded state updated at or
    before it; entities with no such state are left out. Snapshots identical to
    an earlier one are dropped.
    """
    if samples <= 0 or end <= start:
        return []
    timelines: dict[str, tuple[list[float], list[State]]] = {}
    for eid in entity_ids:
        # last_updated, not last_changed: attribute-only changes (a new TV source) count.
        states = sorted((s for s in history.get(eid, ()) if isinstance(s, State)), key=lambda s: s.last_updated)
        if states:
            timelines[eid] = ([s.last_updated.timestamp() for s in states], states)
    step = (end - start) / (samples + 1)
    out: list[Snapshot] = []
    seen: set[str] = set()
    for i in range(1, samples + 1):
        instant = start + step * i
        ts = instant.timestamp()
        states: dict[str, dict[str, Any]] = {}
        for eid, (times, timeline) in timelines.items():
            idx = bisect_right(times, ts) - 1
            if idx >= 0:
                st = timeline[idx]
                states[eid] = entity_state(split_entity_id(eid)[0], st.state, st.attributes)
        if not states:
            continue
        key = repr(sorted(states.items()))
        if key in seen:
            continue
        seen.add(key)
        out.append(Snapshot(_snapshot_id("recorder", instant), _iso(instant), "recorder", states))
    return out


async def _async_recorder_history(
    hass: HomeAssistant, entity_ids: list[str], start: datetime, end: datetime
) -> dict[str, list[State]]:
    """Recorder history for ``entity_ids`` (empty when the recorder is not loaded)."""
    if "recorder" not in hass.config.components or not entity_ids:
        return {}
    # Imported here: the recorder is an after-dependency, not a dependency.
    from homeassistant.components.recorder import get_instance, history

    def _fetch() -> dict[str, list[Any]]:
        return history.get_significant_states(
            hass,
            start,
            end,
            entity_ids,
            include_start_time_state=True,
            significant_changes_only=False,
            minimal_response=False,
            no_attributes=False,
        )

    result = await get_instance(hass).async_add_executor_job(_fetch)
    return {eid: [s for s in states if isinstance(s, State)] for eid, states in result.items()}


def _write_export(root: Path, stamp: str, files: Mapping[str, str]) -> tuple[str, Path]:
    """Write ``files`` into ``root/<stamp>[-n]`` atomically (blocking I/O).

    Each call writes into its own unique hidden temporary folder, so exports
    running at the same time (same second) never touch each other's files;
    picking the free name and renaming into it happen under one lock.
    """
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{stamp}-", dir=root))
    try:
        tmp.chmod(0o755)  # mkdtemp makes 0700; the export is a normal folder
        for name, text in files.items():
            with open(tmp / name, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        with _WRITE_LOCK:
            export_id = stamp
            n = 1
            while (root / export_id).exists():
                export_id = f"{stamp}-{n}"
                n += 1
            final = root / export_id
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return export_id, final


async def async_export_training_seed(
    hass: HomeAssistant,
    *,
    history_hours: float = DEFAULT_HISTORY_HOURS,
    history_samples: int = DEFAULT_HISTORY_SAMPLES,
    now: datetime | None = None,
) -> ExportResult:
    """Build the ontology and snapshots from the live home and write an export folder."""
    now = now or dt_util.utcnow()
    ontology: Ontology = build_ontology(hass)
    ids = list(ontology.entities)
    snapshots = [Snapshot(_snapshot_id("live", now), _iso(now), "live", live_states(hass, ids))]

    recorder_snaps: list[Snapshot] = []
    if history_samples > 0 and history_hours > 0:
        start = now - timedelta(hours=history_hours)
        history = await _async_recorder_history(hass, [eid for eid in ids if ontology.entities[eid]["present"]], start, now)
        # Entities that are not present now are sampled from history only while
        # present; in every snapshot they carry their live entry (or none), so a
        # snapshot never shows a present:false entity as usable.
        present = [eid for eid in ids if ontology.entities[eid]["present"]]
        absent = {eid: snapshots[0].states[eid] for eid in ids if eid not in present and eid in snapshots[0].states}
        recorder_snaps = [
            Snapshot(s.id, s.taken_at, s.source, {**s.states, **absent})
            for s in sample_history(history, present, start, now, history_samples)
        ]
        seen = {repr(sorted(snapshots[0].states.items()))}
        recorder_snaps = [s for s in recorder_snaps if repr(sorted(s.states.items())) not in seen]
    snapshots.extend(recorder_snaps)

    files = export_files(ontology, snapshots, created=_iso(now), ha_version=HA_VERSION, language=hass.config.language)
    stamp = dt_util.as_utc(now).strftime("%Y%m%dT%H%M%SZ")
    export_id, path = await hass.async_add_executor_job(_write_export, exports_root(hass), stamp, files)
    keep, protected = retention(hass)
    if pruned := await hass.async_add_executor_job(prune_exports, exports_root(hass), keep, protected | {export_id}):
        LOGGER.info("Deleted %s older Statewise export(s), keeping the newest %s: %s", len(pruned), keep, ", ".join(pruned))
    result = ExportResult(
        export_id=export_id,
        path=path,
        content_hash=content_hash(ontology, snapshots),
        entity_count=len(ontology.entities),
        snapshot_count=len(snapshots),
        recorder_snapshot_count=len(recorder_snaps),
        present_false=[eid for eid, ent in ontology.entities.items() if not ent["present"]],
    )
    LOGGER.info(
        "Wrote Statewise export %s: %s entities, %s snapshots (%s from the recorder)",
        path,
        result.entity_count,
        result.snapshot_count,
        result.recorder_snapshot_count,
    )
    return result


def download_path(export_id: str) -> str:
    """Path of the authenticated zip download view for an export."""
    return f"/api/{DOMAIN}/exports/{export_id}.zip"


def download_page_path(export_id: str) -> str:
    """The notification's download link: a page that fetches the zip as whoever opened it (see :mod:`.http`)."""
    return f"/api/{DOMAIN}/exports/{export_id}/download"


def signed_download_url(hass: HomeAssistant, export_id: str) -> str | None:
    """A download path signed for one hour (``authSig``), usable as a plain link in the UI.

    Signed with the caller's refresh token when the action runs from the UI
    (websocket), so the view's admin check sees the admin who exported.
    ``None`` when the http integration's signing is not available.
    """
    # Imported here: http is loaded (through conversation) before any action runs.
    from homeassistant.components.http.auth import async_sign_path

    try:
        return async_sign_path(hass, download_path(export_id), SIGNED_URL_LIFETIME)
    except KeyError:
        return None


NOTIFICATION_ID = f"{DOMAIN}_export"


def notification_text(result: ExportResult) -> str:
    """The persistent notification of a finished export (Markdown)."""
    absent = ", ".join(f"`{eid}`" for eid in result.present_false) or "none"
    return (
        f"Export **{result.export_id}**: {result.entity_count} entities, {result.snapshot_count} state snapshots "
        f"({result.recorder_snapshot_count} from the recorder).\n\n"
        f"Folder: `{result.path}`\n\nNot present at export time: {absent}\n\n"
        f"[Download the export]({download_page_path(result.export_id)}) (for an administrator logged in to Home Assistant "
        "in this browser). Build the dataset from it with `python -m dataset_export build`."
    )


async def async_export_and_notify(
    hass: HomeAssistant, *, history_hours: float, history_samples: int, user_id: str | None
) -> dict[str, Any]:
    """Export, tell everyone where it is (a persistent notification), and answer the caller.

    ``download_url`` is the zip path signed for the caller when the caller is an administrator
    (the UI); otherwise (an automation, the button pressed by a non-admin) it is the download page,
    which serves the zip to administrators only.
    """
    try:
        result = await async_export_training_seed(hass, history_hours=history_hours, history_samples=history_samples)
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="export_write_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    user = await hass.auth.async_get_user(user_id) if user_id else None
    signed = signed_download_url(hass, result.export_id) if user is not None and user.is_admin else None
    persistent_notification.async_create(hass, notification_text(result), title="Statewise training seed exported", notification_id=NOTIFICATION_ID)
    return {**result.as_response(), "download_url": signed or download_page_path(result.export_id), "download_page": download_page_path(result.export_id)}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register ``statewise.export_training_seed`` (admin only, returns a response)."""

    async def _handle_export(call: ServiceCall) -> ServiceResponse:
        return await async_export_and_notify(
            hass, history_hours=call.data[ATTR_HISTORY_HOURS], history_samples=call.data[ATTR_HISTORY_SAMPLES], user_id=call.context.user_id
        )

    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_EXPORT_TRAINING_SEED,
        _handle_export,
        schema=EXPORT_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
