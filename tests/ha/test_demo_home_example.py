"""``examples/demo_home`` against an export of the real demo home.

With ``STATEWISE_WRITE_DEMO_EXPORT=<folder>`` the export of the real demo
entities (entrance light disabled, bedroom TV unavailable, lounge TV with a
Plex input, a few state changes for recorder variety) is copied there;
``examples/demo_home_ha`` was written that way. ``examples/demo_home`` (hand
made, used by the dataset builder and the protocol tests) is kept: the test
checks that its entity ids, names, aliases, areas and floors are those of the
real home, and that ``demo_home_ha`` is what the exporter writes today
(apart from timestamps).
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.statewise.protocol import load_export, load_ontology

from .conftest import LOUNGE_TV, DemoHome
from .test_export import _export

EXAMPLE = Path(__file__).parents[2] / "examples" / "demo_home"


@pytest.fixture
def mock_recorder_before_hass(async_setup_recorder_instance: Any) -> None:
    """Prepare the recorder before ``hass`` starts."""


async def test_demo_home_example(
    recorder_mock: Recorder, hass: HomeAssistant, demo_home: DemoHome, freezer: FrozenDateTimeFactory
) -> None:
    """The example describes the real demo home (and can be regenerated from it)."""
    await demo_home.async_disable("light.entrance_color_white_lights")
    await demo_home.async_set_unavailable("media_player.bedroom")
    await async_wait_recording_done(hass)
    for service_calls in (
        [("light", "turn_off", {"entity_id": "light.ceiling_lights"}), ("switch", "turn_on", {"entity_id": "switch.ac"})],
        [("media_player", "select_source", {"entity_id": LOUNGE_TV, "source": "Plex"}), ("cover", "close_cover", {"entity_id": "cover.garage_door"})],
        [("climate", "set_hvac_mode", {"entity_id": "climate.hvac", "hvac_mode": "heat"}), ("fan", "turn_off", {"entity_id": "fan.living_room_fan"})],
    ):
        freezer.tick(timedelta(hours=2))
        for domain, service, data in service_calls:
            await hass.services.async_call(domain, service, data, blocking=True)
        await async_wait_recording_done(hass)
    freezer.tick(timedelta(hours=2))
    response = await _export(hass, history_hours=8, history_samples=4)
    export = await hass.async_add_executor_job(load_export, response["path"])
    assert response["present_false"] == ["light.entrance_color_white_lights", "media_player.bedroom"]
    assert "plex" in export.ontology.entities[LOUNGE_TV]["capabilities"]["inputs"]

    if target := os.environ.get("STATEWISE_WRITE_DEMO_EXPORT"):
        await hass.async_add_executor_job(shutil.copytree, response["path"], target)

    # The example is this export: the same ontology, byte for byte (what the model is trained on is what HA serves).
    example = await hass.async_add_executor_job(load_ontology, EXAMPLE / "ontology.json")
    assert example.file_json() == export.ontology.file_json()

