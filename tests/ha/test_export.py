"""``statewise.export_training_seed`` on the real demo home: content, redaction, schema, recorder."""

from __future__ import annotations

import asyncio
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import Unauthorized
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from custom_components.statewise.const import DOMAIN, SERVICE_EXPORT_TRAINING_SEED
from custom_components.statewise.export import _write_export, async_export_training_seed, sample_history
from custom_components.statewise.protocol import load_export

from .conftest import EXPOSED, LOUNGE_TV, DemoHome

DISABLED = "light.entrance_color_white_lights"
UNAVAILABLE = "media_player.bedroom"


async def _export(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    assert await async_setup_component(hass, DOMAIN, {})
    return await hass.services.async_call(DOMAIN, SERVICE_EXPORT_TRAINING_SEED, data, blocking=True, return_response=True)


async def _read_files(hass: HomeAssistant, folder: str) -> dict[str, str]:
    def _read() -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8") for p in Path(folder).iterdir()}

    return await hass.async_add_executor_job(_read)


@pytest.fixture
async def home_with_absent(hass: HomeAssistant, demo_home: DemoHome) -> DemoHome:
    """Demo home with one disabled and one unavailable exposed entity."""
    await demo_home.async_disable(DISABLED)
    await demo_home.async_set_unavailable(UNAVAILABLE)
    return demo_home


async def test_export_ontology(hass: HomeAssistant, home_with_absent: DemoHome) -> None:
    """Aliases, area aliases, areas, floors, present:false, capabilities; valid against the schemas."""
    response = await _export(hass, history_samples=0)
    export = await hass.async_add_executor_job(load_export, response["path"])
    assert Path(response["path"]).parent == Path(hass.config.path("statewise", "exports"))
    assert response["content_hash"] == export.manifest["content_hash"]
    assert response["entity_count"] == len(EXPOSED) == len(export.ontology.entities)
    assert response["snapshot_count"] == 1
    assert response["present_false"] == sorted([DISABLED, UNAVAILABLE])

    ents = export.ontology.entities
    assert sorted(ents) == sorted(EXPOSED), "only entities exposed to Assist"
    # aliases, areas and floors from the registries
    assert ents["light.bed_light"]["aliases"] == ["bedside lamp", "lamp"]
    assert ents["light.bed_light"]["area"] == "Bedroom"
    assert ents["light.bed_light"]["floor"] == "First Floor"
    assert ents["climate.hvac"]["aliases"] == ["air conditioning", "thermostat"]
    assert ents["climate.hvac"]["floor"] == "Ground Floor"
    # area aliases from the area registry, only where the area has some
    assert ents["climate.hvac"]["area_aliases"] == ["lounge"]
    assert ents["valve.front_garden"]["area_aliases"] == ["yard"]
    assert ents[DISABLED]["area_aliases"] == ["entrance"]
    assert "area_aliases" not in ents["light.bed_light"]
    assert ents[LOUNGE_TV]["device_class"] == "tv"
    assert ents["cover.garage_door"]["device_class"] == "garage"
    # present rule: disabled (no state) and unavailable are present: false, with their names kept
    assert ents[DISABLED]["present"] is False
    assert ents[DISABLED]["name"] == "Entrance Color + White Lights"
    assert ents[DISABLED]["aliases"] == ["porch light"]
    assert ents[UNAVAILABLE]["present"] is False
    assert all(e["present"] for eid, e in ents.items() if eid not in (DISABLED, UNAVAILABLE))
    # capabilities derived from the real attributes and supported features
    assert ents[LOUNGE_TV]["capabilities"]["inputs"] == ["dvd", "plex", "youtube"]
    assert ents[LOUNGE_TV]["capabilities"]["power"] is True
    assert ents["light.bed_light"]["capabilities"] == {"brightness": True, "color": True, "color_temp": [2000, 6535]}
    assert ents[DISABLED]["capabilities"] == {"brightness": True, "color": True}, "from the registry's capabilities"
    assert ents["climate.hvac"]["capabilities"]["hvac_modes"] == ["auto", "cool", "dry", "fan_only", "heat", "off"]
    assert ents["climate.hvac"]["capabilities"]["temp_range"] == [7, 35]
    assert ents["fan.living_room_fan"]["capabilities"] == {"speed": True}
    assert ents["cover.living_room_window"]["capabilities"] == {"position": True, "stop": True}
    assert ents["cover.garage_door"]["capabilities"] == {}
    assert ents["media_player.kitchen"]["capabilities"].get("inputs") is None
    # the live snapshot: whitelisted attributes, TV source slugified
    live = export.snapshots[0]
    assert live.source == "live"
    assert DISABLED not in live.states
    assert live.states[UNAVAILABLE] == {"state": "unavailable"}
    assert live.states[LOUNGE_TV]["source"] == "dvd"
    assert set(live.states["light.bed_light"]) <= {"state", "brightness", "color_temp_kelvin"}


async def test_export_redaction(hass: HomeAssistant, demo_home: DemoHome) -> None:
    """entity_picture tokens, access tokens and other attributes never reach the export."""
    picture = hass.states.get(LOUNGE_TV).attributes["entity_picture"]
    token = demo_home.entity(LOUNGE_TV).access_token
    assert token in picture
    secret = "eyJhbGciOiJIUzI1NiJ9.SECRET-ACCESS-TOKEN"
    state = hass.states.get("light.kitchen_lights")
    hass.states.async_set(
        "light.kitchen_lights",
        state.state,
        {**state.attributes, "access_token": secret, "entity_picture": f"/api/camera_proxy/x?token={secret}", "password": "hunter2"},
    )
    response = await _export(hass, history_samples=0)
    files = await _read_files(hass, response["path"])
    assert sorted(files) == ["manifest.json", "ontology.json", "snapshots.json"]
    blob = "\n".join(files.values())
    for needle in (token, secret, "hunter2", "entity_picture", "access_token", "api/media_player_proxy", "api/camera_proxy"):
        assert needle not in blob, needle


async def test_export_versioned_folders(hass: HomeAssistant, demo_home: DemoHome) -> None:
    """Two exports never overwrite each other; no temporary folder is left behind."""
    first = await _export(hass, history_samples=0)
    second = await _export(hass, history_samples=0)
    assert first["path"] != second["path"]
    assert first["content_hash"] == second["content_hash"], "same home, same content"
    names = await hass.async_add_executor_job(lambda: sorted(p.name for p in Path(first["path"]).parent.iterdir()))
    assert names == sorted([first["export_id"], second["export_id"]])


def test_write_export_concurrent_writers_do_not_clobber(tmp_path: Path) -> None:
    """Writer B starting while A is half way (same second) must not delete A's files: both exports complete."""
    files = {"manifest.json": "{}", "ontology.json": "[]", "snapshots.json": "[]"}
    a_paused, b_done = threading.Event(), threading.Event()
    real_fsync = os.fsync
    results: dict[str, Any] = {}

    def fsync(fd: int) -> None:
        real_fsync(fd)
        if threading.current_thread().name == "A" and not a_paused.is_set():
            a_paused.set()  # A wrote its first file; let B run to the end
            b_done.wait(5)

    def run(name: str) -> None:
        try:
            results[name] = _write_export(tmp_path, "20261120T000000Z", files)
        except Exception as err:  # noqa: BLE001 - recorded for the assertion
            results[name] = err

    with patch.object(os, "fsync", fsync):
        a = threading.Thread(target=run, args=("A",), name="A")
        a.start()
        assert a_paused.wait(5)
        b = threading.Thread(target=run, args=("B",), name="B")
        b.start()
        b.join(5)
        b_done.set()
        a.join(5)

    assert not isinstance(results["A"], Exception), results["A"]
    assert not isinstance(results["B"], Exception), results["B"]
    assert {results["A"][0], results["B"][0]} == {"20261120T000000Z", "20261120T000000Z-1"}
    for _export_id, folder in results.values():
        assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20261120T000000Z", "20261120T000000Z-1"]


async def test_exports_at_the_same_instant(hass: HomeAssistant, demo_home: DemoHome) -> None:
    """Several exports at once (same second) give distinct, complete, valid folders."""
    now = dt_util.utcnow()
    results = await asyncio.gather(*(async_export_training_seed(hass, history_samples=0, now=now) for _ in range(4)))
    assert len({r.export_id for r in results}) == 4
    for result in results:
        export = await hass.async_add_executor_job(load_export, result.path)
        assert len(export.ontology.entities) == result.entity_count


async def test_export_admin_only(hass: HomeAssistant, demo_home: DemoHome, hass_read_only_user: Any) -> None:
    """The action is an admin service."""
    from homeassistant.core import Context

    assert await async_setup_component(hass, DOMAIN, {})
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            SERVICE_EXPORT_TRAINING_SEED,
            {},
            blocking=True,
            return_response=True,
            context=Context(user_id=hass_read_only_user.id),
        )


def test_sample_history_rules() -> None:
    """Last state at or before each instant; entities without one are left out; duplicates dropped."""
    t0 = dt_util.parse_datetime("2026-11-20T00:00:00+00:00")
    assert t0 is not None

    def st(eid: str, state: str, minutes: int) -> State:
        when = t0 + timedelta(minutes=minutes)
        return State(eid, state, {}, last_changed=when, last_updated=when)

    history = {"switch.a": [st("switch.a", "off", 0), st("switch.a", "on", 50)], "switch.b": [st("switch.b", "on", 70)]}
    snaps = sample_history(history, ["switch.a", "switch.b"], t0, t0 + timedelta(minutes=100), 4)
    # instants at 20, 40, 60, 80 minutes: (a off), (a off) dropped, (a on), (a on, b on)
    assert [s.states for s in snaps] == [
        {"switch.a": {"state": "off"}},
        {"switch.a": {"state": "on"}},
        {"switch.a": {"state": "on"}, "switch.b": {"state": "on"}},
    ]
    assert all(s.source == "recorder" for s in snaps)
    assert sample_history(history, ["switch.a"], t0, t0, 4) == []
