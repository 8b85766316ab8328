"""Recorder snapshots in the export (own module: the recorder must start before ``hass``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.statewise.protocol import load_export

from .conftest import LOUNGE_TV, DemoHome
from .test_export import _export, _read_files


@pytest.fixture
def mock_recorder_before_hass(async_setup_recorder_instance: Any) -> None:
    """Prepare the recorder before ``hass`` starts (as HA core's recorder tests do)."""


async def test_export_recorder_snapshots(
    recorder_mock: Recorder, hass: HomeAssistant, demo_home: DemoHome, freezer: FrozenDateTimeFactory
) -> None:
    """Historical snapshots sampled from the recorder give state variety."""
    start = dt_util.utcnow()
    await async_wait_recording_done(hass)
    freezer.tick(timedelta(hours=1))
    await hass.services.async_call("light", "turn_off", {"entity_id": "light.bed_light"}, blocking=True)
    await hass.services.async_call("media_player", "select_source", {"entity_id": LOUNGE_TV, "source": "Plex"}, blocking=True)
    await async_wait_recording_done(hass)
    freezer.tick(timedelta(hours=1))
    await hass.services.async_call("light", "turn_on", {"entity_id": "light.bed_light", "brightness_pct": 40}, blocking=True)
    await hass.services.async_call("cover", "close_cover", {"entity_id": "cover.garage_door"}, blocking=True)
    await async_wait_recording_done(hass)
    freezer.tick(timedelta(hours=1))
    hours = (dt_util.utcnow() - start).total_seconds() / 3600

    response = await _export(hass, history_hours=hours, history_samples=3)
    export = await hass.async_add_executor_job(load_export, response["path"])
    recorder_snaps = [s for s in export.snapshots if s.source == "recorder"]
    assert response["recorder_snapshot_count"] == len(recorder_snaps) >= 2
    bed = [s.states["light.bed_light"] for s in recorder_snaps]
    assert {"state": "off"} in bed
    # HA does not record light brightness (an unrecorded attribute): on/off only
    assert {"state": "on"} in bed
    assert {s.states[LOUNGE_TV].get("source") for s in recorder_snaps} >= {"dvd", "plex"}
    for snap in export.snapshots:
        assert set(snap.states) <= set(export.ontology.entities)
    blob = "\n".join((await _read_files(hass, response["path"])).values())
    assert "entity_picture" not in blob
