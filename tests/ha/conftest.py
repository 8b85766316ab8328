"""Shared fixtures for the Home Assistant tests (real HA core, demo entities).

- custom integrations are enabled for every test;
- ``demo_home``: the ``demo`` integration's lights, media players, climate,
  covers, locks, fans, switches and valves, with floors, areas, aliases and
  Assist exposure as in ``examples/demo_home`` (the lounge room TV also has a
  ``Plex`` input); see :class:`DemoHome` for helpers;
- ``model_server``: the scripted OpenAI-compatible server (``model_server.py``);
- ``mock_config_entry`` / ``init_integration``: a Statewise entry pointing at
  it, with one conversation subentry.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr, entity_registry as er, floor_registry as fr
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_component import DATA_INSTANCES
from homeassistant.setup import async_setup_component
from homeassistant.util import slugify
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.statewise.const import (
    CONF_BASE_URL,
    CONF_FETCH_ROUNDS,
    CONF_MODEL,
    CONF_REQUEST_TIMEOUT,
    CONF_SENSITIVE_POLICY,
    CONF_TRAINED_EXPORT,
    DEFAULT_CONVERSATION_NAME,
    DEFAULT_FETCH_ROUNDS,
    DEFAULT_SENSITIVE_POLICY,
    DOMAIN,
    SUBENTRY_CONVERSATION,
)

from .model_server import DEFAULT_MODEL, ModelServer

DEMO_PLATFORMS = [
    Platform.CLIMATE,
    Platform.COVER,
    Platform.FAN,
    Platform.HUMIDIFIER,
    Platform.LIGHT,
    Platform.LOCK,
    Platform.MEDIA_PLAYER,
    Platform.SWITCH,
    Platform.VALVE,
    Platform.WATER_HEATER,
]

# name -> level
FLOORS: dict[str, int] = {"Ground Floor": 0, "First Floor": 1}
# name -> (floor, aliases)
AREAS: dict[str, tuple[str, set[str]]] = {
    "Living Room": ("Ground Floor", {"lounge"}),
    "Kitchen": ("Ground Floor", set()),
    "Hallway": ("Ground Floor", {"entrance"}),
    "Garage": ("Ground Floor", set()),
    "Garden": ("Ground Floor", {"yard"}),
    "Bedroom": ("First Floor", set()),
    "Office": ("First Floor", {"study"}),
}
# Exposed entities: id -> (area, aliases, device class set in the registry or None)
EXPOSED: dict[str, tuple[str, set[str], str | None]] = {
    "climate.heatpump": ("Bedroom", {"heat pump"}, None),
    "climate.hvac": ("Living Room", {"air conditioning", "thermostat"}, None),
    "cover.garage_door": ("Garage", set(), None),
    "cover.kitchen_window": ("Kitchen", {"kitchen blind"}, "window"),
    "cover.living_room_window": ("Living Room", {"lounge blinds"}, "window"),
    "fan.ceiling_fan": ("Bedroom", {"bedroom fan"}, None),
    "fan.living_room_fan": ("Living Room", {"lounge fan"}, None),
    "humidifier.dehumidifier": ("Garage", set(), None),
    "humidifier.humidifier": ("Bedroom", set(), None),
    "light.bed_light": ("Bedroom", {"bedside lamp", "lamp"}, None),
    "light.ceiling_lights": ("Living Room", {"big light"}, None),
    "light.entrance_color_white_lights": ("Hallway", {"porch light"}, None),
    "light.kitchen_lights": ("Kitchen", set(), None),
    "light.living_room_rgbww_lights": ("Living Room", {"mood lights"}, None),
    "light.office_rgbw_lights": ("Office", {"desk lamp", "lamp"}, None),
    "lock.front_door": ("Hallway", {"front lock"}, None),
    "lock.kitchen_door": ("Kitchen", {"back door"}, None),
    "media_player.bedroom": ("Bedroom", {"bedroom tv"}, "tv"),
    "media_player.kitchen": ("Kitchen", {"kitchen speaker"}, "speaker"),
    "media_player.lounge_room": ("Living Room", {"movie room tv", "tv"}, "tv"),
    "switch.ac": ("Office", {"office ac"}, None),
    "switch.decorative_lights": ("Living Room", {"fairy lights"}, None),
    "valve.front_garden": ("Garden", {"sprinkler"}, "water"),
    "water_heater.demo_water_heater": ("Garage", {"boiler"}, None),
}
LOUNGE_TV = "media_player.lounge_room"
LOUNGE_TV_SOURCES = ["dvd", "youtube", "Plex"]


def pytest_configure(config: pytest.Config) -> None:
    """Home Assistant's fixtures are async: run pytest-asyncio in auto mode (as HA core does)."""
    config.option.asyncio_mode = "auto"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Generator[None]:
    """Load custom_components/statewise in every test."""
    return


@pytest.fixture(autouse=True)
async def setup_homeassistant_component(hass: HomeAssistant, tmp_path: Path) -> None:
    """A private config dir (exports are written there) and the ``homeassistant`` integration.

    The harness's config dir is shared by all tests; exports must not leak between them.
    The ``homeassistant`` integration holds the Assist exposure settings, as in a real install.
    """
    hass.config.config_dir = str(tmp_path)
    assert await async_setup_component(hass, "homeassistant", {})


@dataclass
class DemoHome:
    """The demo home in a running ``hass``, with helpers to change it."""

    hass: HomeAssistant
    exposed: list[str]

    def entity(self, entity_id: str) -> Entity:
        """The real entity object behind an entity id."""
        domain = entity_id.split(".", 1)[0]
        entity = self.hass.data[DATA_INSTANCES][domain].get_entity(entity_id)
        assert entity is not None, entity_id
        return entity

    async def async_set_unavailable(self, entity_id: str) -> None:
        """Make the real entity report ``unavailable``."""
        entity = self.entity(entity_id)
        entity._attr_available = False
        entity.async_write_ha_state()
        await self.hass.async_block_till_done()
        assert self.hass.states.get(entity_id).state == STATE_UNAVAILABLE

    async def async_set_available(self, entity_id: str) -> None:
        """Undo :meth:`async_set_unavailable`."""
        entity = self.entity(entity_id)
        entity._attr_available = True
        entity.async_write_ha_state()
        await self.hass.async_block_till_done()

    async def async_disable(self, entity_id: str) -> None:
        """Disable the entity in the registry (its state goes away)."""
        er.async_get(self.hass).async_update_entity(entity_id, disabled_by=er.RegistryEntryDisabler.USER)
        await self.hass.async_block_till_done()
        assert self.hass.states.get(entity_id) is None

    async def async_set_source_list(self, entity_id: str, sources: list[str]) -> None:
        """Give a media player another ``source_list`` (written to its state)."""
        entity = self.entity(entity_id)
        entity._attr_source_list = list(sources)
        entity.async_write_ha_state()
        await self.hass.async_block_till_done()


def user_aliases(*aliases: str) -> Any:
    """Entity aliases as the UI writes them: 2026.2 takes a set of names; since 2026.10 a list in which the
    ``COMPUTED_NAME`` sentinel stands for the entity's own name (the UI keeps it first unless the user removes it)."""
    computed = getattr(er, "COMPUTED_NAME", None)
    return [computed, *aliases] if computed is not None else set(aliases)


def async_set_area(hass: HomeAssistant, entry: er.RegistryEntry, area_id: str | None) -> None:
    """Put an entity in an area as a user would: on the entity, or on its device where the entity has no name of its own.

    Since 2026.10 Home Assistant refuses an area on an entity that is named only by its device
    (``has_entity_name`` without a name); 2026.2 accepted both. The ontology reads the device's area then.
    """
    ent_reg = er.async_get(hass)
    try:
        ent_reg.async_update_entity(entry.entity_id, area_id=area_id)
    except ValueError:
        if entry.device_id is None:
            raise
        dr.async_get(hass).async_update_device(entry.device_id, area_id=area_id)


def _with_unique_ids(platform: str, setup_entry: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a demo platform's ``async_setup_entry`` so every entity gets a unique id.

    The demo locks, media players and valves have none, so they would not be in
    the entity registry (no area, aliases or disabling). Entity ids stay the
    same: they are still generated from the entity name.
    """

    async def _setup_entry(hass: HomeAssistant, entry: Any, async_add_entities: Callable[..., Any]) -> None:
        def _add(entities: Any, *args: Any, **kwargs: Any) -> Any:
            entities = list(entities)
            for entity in entities:
                if entity.unique_id is None:
                    entity._attr_unique_id = f"statewise_test_{platform}_{slugify(str(entity.name))}"
            return async_add_entities(entities, *args, **kwargs)

        await setup_entry(hass, entry, _add)

    return _setup_entry


async def async_setup_demo_home(hass: HomeAssistant) -> DemoHome:
    """Set up the demo entities, floors, areas, aliases and exposure."""
    assert await async_setup_component(hass, "homeassistant", {})
    with ExitStack() as stack:
        stack.enter_context(patch("homeassistant.components.demo.COMPONENTS_WITH_CONFIG_ENTRY_DEMO_PLATFORM", DEMO_PLATFORMS))
        for platform in DEMO_PLATFORMS:
            module = importlib.import_module(f"homeassistant.components.demo.{platform.value}")
            stack.enter_context(patch.object(module, "async_setup_entry", _with_unique_ids(platform.value, module.async_setup_entry)))
        assert await async_setup_component(hass, "demo", {})
        await hass.async_block_till_done()

    floor_reg = fr.async_get(hass)
    area_reg = ar.async_get(hass)
    ent_reg = er.async_get(hass)
    floors = {name: floor_reg.async_create(name, level=level).floor_id for name, level in FLOORS.items()}
    areas = {name: area_reg.async_create(name, floor_id=floors[floor], aliases=aliases).id for name, (floor, aliases) in AREAS.items()}
    for entity_id, (area, aliases, device_class) in EXPOSED.items():
        entry = ent_reg.async_get(entity_id)
        assert entry is not None, entity_id
        changes: dict[str, Any] = {"aliases": user_aliases(*aliases)}
        if device_class is not None:
            changes["device_class"] = device_class
        ent_reg.async_update_entity(entity_id, **changes)
        async_set_area(hass, entry, areas[area])
    for entity_id in hass.states.async_entity_ids():
        async_expose_entity(hass, "conversation", entity_id, entity_id in EXPOSED)

    home = DemoHome(hass, sorted(EXPOSED))
    await home.async_set_source_list(LOUNGE_TV, LOUNGE_TV_SOURCES)
    await hass.async_block_till_done()
    return home


@pytest.fixture
async def demo_home(hass: HomeAssistant) -> DemoHome:
    """The demo home (see module docstring)."""
    return await async_setup_demo_home(hass)


@pytest.fixture
async def model_server(socket_enabled: None) -> AsyncGenerator[ModelServer]:
    """A started scripted model server on 127.0.0.1 (sockets enabled, 127.0.0.1 only)."""
    server = ModelServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def conversation_subentry_data(**overrides: Any) -> dict[str, Any]:
    """Default conversation subentry options (override any key)."""
    data: dict[str, Any] = {
        CONF_FETCH_ROUNDS: DEFAULT_FETCH_ROUNDS,
        CONF_REQUEST_TIMEOUT: 5.0,
        CONF_SENSITIVE_POLICY: DEFAULT_SENSITIVE_POLICY,
        CONF_TRAINED_EXPORT: "",
        CONF_MODEL: DEFAULT_MODEL,
    }
    data.update(overrides)
    return data


@pytest.fixture
def subentry_data() -> dict[str, Any]:
    """Override in a test module to change the conversation subentry's options."""
    return conversation_subentry_data()


@pytest.fixture
def mock_config_entry(hass: HomeAssistant, model_server: ModelServer, subentry_data: dict[str, Any]) -> MockConfigEntry:
    """A Statewise entry for ``model_server`` with one conversation subentry (added, not set up)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Statewise",
        data={CONF_BASE_URL: model_server.url},
        version=2,
        minor_version=1,
        subentries_data=[
            ConfigSubentryData(
                data=subentry_data,
                subentry_type=SUBENTRY_CONVERSATION,
                title=DEFAULT_CONVERSATION_NAME,
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def init_integration(hass: HomeAssistant, demo_home: DemoHome, mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The demo home plus a loaded Statewise entry."""
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry
