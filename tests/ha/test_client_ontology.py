"""Client against the scripted server; ontology helpers; packaging files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from custom_components.statewise.client import (
    AuthenticationError,
    BadResponseError,
    ServerDownError,
    ServerHTTPError,
    ServerTimeoutError,
    StatewiseClient,
    normalize_base_url,
)
from custom_components.statewise.ontology import _clean_names, build_ontology, capabilities, live_states
from custom_components.statewise.protocol import CHAT_TEMPLATE_KWARGS

from .conftest import LOUNGE_TV, DemoHome, user_aliases
from .model_server import DEFAULT_MODEL, ModelServer

PACKAGE = Path(__file__).parents[2] / "custom_components" / "statewise"


async def test_client_chat_payload(hass: HomeAssistant, model_server: ModelServer) -> None:
    """Temperature 0, bounded max_tokens, thinking off, Bearer key, model from the entry."""
    client = StatewiseClient(async_get_clientsession(hass), model_server.url + "/v1/", "k", DEFAULT_MODEL)
    assert await client.async_list_models() == ["other-model", DEFAULT_MODEL]
    model_server.script("hello")
    result = await client.async_chat([{"role": "user", "content": "hi"}], max_tokens=64)
    assert result.content == "hello"
    assert result.finish_reason == "stop"
    payload = model_server.chat_requests[0].json
    assert payload["temperature"] == 0
    assert payload["max_tokens"] == 64
    assert payload["chat_template_kwargs"] == CHAT_TEMPLATE_KWARGS == {"enable_thinking": False}
    assert payload["model"] == DEFAULT_MODEL
    assert payload["messages"] == [{"role": "user", "content": "hi"}]
    assert model_server.chat_requests[0].authorization == "Bearer k"


async def test_client_errors(hass: HomeAssistant, model_server: ModelServer) -> None:
    """Each failure is one typed exception."""
    client = StatewiseClient(async_get_clientsession(hass), model_server.url, None, DEFAULT_MODEL)
    messages = [{"role": "user", "content": "hi"}]
    model_server.fail_status = 500
    with pytest.raises(ServerHTTPError) as err:
        await client.async_chat(messages)
    assert err.value.status == 500
    model_server.reset()
    model_server.api_key = "x"
    with pytest.raises(AuthenticationError):
        await client.async_chat(messages)
    model_server.api_key = None
    model_server.bad_json = True
    with pytest.raises(BadResponseError):
        await client.async_chat(messages)
    model_server.reset()
    model_server.script({"choices": []})
    with pytest.raises(BadResponseError):
        await client.async_chat(messages)
    model_server.delay = 1.0
    with pytest.raises(ServerTimeoutError):
        await client.async_chat(messages, timeout=0.05)
    model_server.reset()
    await model_server.go_down()
    with pytest.raises(ServerDownError):
        await client.async_list_models()
    await model_server.come_up()


def test_normalize_base_url() -> None:
    """/v1 and trailing slashes are dropped."""
    assert normalize_base_url(" http://h:8000/v1/ ") == "http://h:8000"
    assert normalize_base_url("http://h:8000") == "http://h:8000"


def test_clean_names_drops_non_strings() -> None:
    """2026.11 aliases may hold a non-str sentinel (COMPUTED_NAME): only str items are kept."""
    sentinel = object()
    assert _clean_names(["lamp", sentinel, " ", "lamp", " desk lamp "]) == ["lamp", "desk lamp"]
    assert _clean_names(None) == []


def test_capabilities_from_attributes() -> None:
    """Derived from supported features and attributes only."""
    assert capabilities("fan", {"supported_features": 0}) == {}
    assert capabilities("fan", {"supported_features": 1}) == {"speed": True}
    assert capabilities("cover", {"supported_features": 1 | 2 | 4 | 8}) == {"position": True, "stop": True}
    tv = capabilities("media_player", {"supported_features": 2048 | 128, "source_list": ["HDMI 1", "Plex", "hdmi-1", 3]})
    assert tv == {"inputs": ["hdmi_1", "plex"], "power": True}
    assert "inputs" not in capabilities("media_player", {"supported_features": 0, "source_list": ["Plex"]}), "needs SELECT_SOURCE"
    assert capabilities("light", {"supported_color_modes": ["onoff"]}) == {}
    assert capabilities("light", {"supported_color_modes": ["color_temp"], "min_color_temp_kelvin": 2000, "max_color_temp_kelvin": 6500}) == {
        "brightness": True,
        "color_temp": [2000, 6500],
    }
    assert capabilities("climate", {"supported_features": 1, "hvac_modes": ["off", "heat"], "min_temp": 7, "max_temp": 35.5}) == {
        "hvac_modes": ["heat", "off"],
        "temp_range": [7, 35.5],
    }


async def test_ontology_follows_registry(hass: HomeAssistant, demo_home: DemoHome) -> None:
    """Unexposing removes an entity; a registry name and new aliases show up; live_states uses the protocol."""
    from homeassistant.components.homeassistant.exposed_entities import async_expose_entity

    async_expose_entity(hass, "conversation", "switch.ac", False)
    er.async_get(hass).async_update_entity("light.kitchen_lights", name="Cooking Lights", aliases=user_aliases("stove light"))
    await hass.async_block_till_done()
    ontology = build_ontology(hass)
    assert "switch.ac" not in ontology.entities
    kitchen = ontology.entities["light.kitchen_lights"]
    assert (kitchen["name"], kitchen["aliases"]) == ("Cooking Lights", ["stove light"])
    states = live_states(hass, [LOUNGE_TV, "light.nope"])
    assert list(states) == [LOUNGE_TV]
    assert states[LOUNGE_TV]["source"] == "dvd"
    assert "entity_picture" not in states[LOUNGE_TV]


async def test_ontology_area_aliases(hass: HomeAssistant, demo_home: DemoHome, monkeypatch: pytest.MonkeyPatch) -> None:
    """Area aliases come from the area registry: str items only (2026.11 may add a sentinel), never the area's name."""
    area_reg = ar.async_get(hass)
    office = area_reg.async_get_area_by_name("Office")
    area_reg.async_update(office.id, aliases={"study", "work room", "Office"})
    sentinel = object()
    get_area = area_reg.async_get_area
    monkeypatch.setattr(area_reg, "async_get_area", lambda area_id: (a := get_area(area_id)) and replace(a, aliases={*a.aliases, sentinel}))
    ontology = build_ontology(hass)
    assert ontology.entities["switch.ac"]["area_aliases"] == ["study", "work room"]
    assert ontology.entities["light.living_room_rgbww_lights"]["area_aliases"] == ["lounge"]
    assert "area_aliases" not in ontology.entities["media_player.kitchen"], "Kitchen has no aliases"
    assert '{"area":"Office","aliases":["study","work room"],"entities":{' in ontology.prompt_json


def test_strings_match_translations() -> None:
    """translations/en.json is the one English source (no strings.json copy); every service field is translated."""
    assert not (PACKAGE / "strings.json").exists()
    strings = json.loads((PACKAGE / "translations" / "en.json").read_text(encoding="utf-8"))
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
    for service, spec in services.items():
        assert set(spec["fields"]) == set(strings["services"][service]["fields"])
    manifest = json.loads((PACKAGE / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["domain"] == "statewise"
    assert manifest["dependencies"] == ["conversation"]
    assert (PACKAGE / "brand" / "icon.png").read_bytes().startswith(b"\x89PNG")


def test_present_rule() -> None:
    """Disabled, missing, restored and unavailable are not present; unknown is."""
    from homeassistant.core import State

    from custom_components.statewise.ontology import is_present

    # is_present reads only disabled_by from the registry entry
    entry: Any = SimpleNamespace(disabled_by=None)
    disabled: Any = SimpleNamespace(disabled_by=er.RegistryEntryDisabler.USER)
    assert is_present(entry, State("light.x", "on"))
    assert is_present(entry, State("light.x", "unknown"))
    assert is_present(None, State("light.x", "off")), "state-only entities count"
    assert not is_present(entry, None), "registered, no state"
    assert not is_present(disabled, State("light.y", "on"))
    assert not is_present(entry, State("light.x", "unavailable", {"restored": True}))
    assert not is_present(entry, State("light.x", "off", {"restored": True}))
    assert not is_present(entry, State("light.x", "unavailable"))
