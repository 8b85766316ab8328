"""The cached live ontology: the next prompt after any change is the one a fresh build gives; nothing else rebuilds it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr, entity_registry as er, floor_registry as fr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.statewise.ontology import build_ontology
from custom_components.statewise.protocol import system_text

from .conftest import LOUNGE_TV, DemoHome, user_aliases
from .model_server import ModelServer
from .test_conversation import converse


def _where(system: str, entity_id: str) -> tuple[str | None, str | None, dict[str, Any]]:
    """(floor, area, entry) of an entity in a system text's ONTOLOGY."""
    ontology = json.loads(system.removeprefix("ONTOLOGY: ").split("\nSTATE: ")[0])
    return next((f.get("floor"), a.get("area"), a["entities"][entity_id]) for f in ontology for a in f["areas"] if entity_id in a["entities"])


async def _prompt(hass: HomeAssistant, entry: MockConfigEntry, server: ModelServer) -> str:
    server.reset()
    server.script("Which one do you mean?")
    await converse(hass, entry, "turn it on")
    (request,) = server.chat_requests
    return request.json["messages"][0]["content"]


async def test_next_prompt_follows_every_change(hass: HomeAssistant, demo_home: DemoHome, init_integration: MockConfigEntry,
                                                model_server: ModelServer) -> None:  # fmt: skip
    live = init_integration.runtime_data.live
    ent_reg, area_reg, floor_reg = er.async_get(hass), ar.async_get(hass), fr.async_get(hass)
    first = await _prompt(hass, init_integration, model_server)
    assert first == system_text(build_ontology(hass))

    async def rename() -> None:
        ent_reg.async_update_entity("light.bed_light", name="Night Light")

    async def alias() -> None:
        ent_reg.async_update_entity("switch.ac", aliases=user_aliases("office ac", "air con"))

    async def move() -> None:
        ent_reg.async_update_entity("fan.ceiling_fan", area_id=area_reg.async_get_area_by_name("Kitchen").id)

    async def area_alias() -> None:
        area = area_reg.async_get_area_by_name("Kitchen")
        area_reg.async_update(area.id, aliases={*area.aliases, "galley"})

    async def floor() -> None:
        floor_reg.async_update(floor_reg.async_get_floor_by_name("Ground Floor").floor_id, name="Street Level")

    async def no_area() -> None:  # neither the entity nor its device (where 2026.10 keeps the area of a device-named entity)
        ent_reg.async_update_entity("cover.garage_door", area_id=None)
        dr.async_get(hass).async_update_device(ent_reg.async_get("cover.garage_door").device_id, area_id=None)

    async def device_area() -> None:  # an entity whose own area is unset inherits its device's
        device_id = ent_reg.async_get("cover.garage_door").device_id
        dr.async_get(hass).async_update_device(device_id, area_id=area_reg.async_get_area_by_name("Office").id)

    async def unexpose() -> None:
        async_expose_entity(hass, "conversation", "switch.decorative_lights", False)

    async def sources() -> None:
        await demo_home.async_set_source_list(LOUNGE_TV, ["DVD", "Plex", "YouTube", "Netflix"])

    async def state_name() -> None:  # only the state machine knows it: no registry event
        state = hass.states.get("switch.ac")
        hass.states.async_set("switch.ac", state.state, {**state.attributes, "friendly_name": "Office Cooler"})

    async def unavailable() -> None:
        await demo_home.async_set_unavailable("media_player.kitchen")

    checks: list[tuple[Callable[[], Awaitable[None]], Callable[[str], bool]]] = [
        (rename, lambda t: '"names":["Night Light"' in t),
        (alias, lambda t: '"air con"' in t),
        (move, lambda t: _where(t, "fan.ceiling_fan")[1] == "Kitchen"),
        (area_alias, lambda t: '"galley"' in t),
        (floor, lambda t: '"floor":"Street Level"' in t),
        (no_area, lambda t: _where(t, "cover.garage_door")[:2] == (None, None)),
        (device_area, lambda t: _where(t, "cover.garage_door")[:2] == ("First Floor", "Office")),
        (unexpose, lambda t: "switch.decorative_lights" not in t),
        (sources, lambda t: '"inputs":["dvd","netflix","plex","youtube"]' in t),
        (state_name, lambda t: _where(t, "switch.ac")[2]["names"][0] == "Office Cooler"),
        (unavailable, lambda t: _where(t, "media_player.kitchen")[2].get("present") is False),
    ]  # fmt: skip
    previous = first
    for change, seen in checks:
        await change()
        await hass.async_block_till_done()
        prompt = await _prompt(hass, init_integration, model_server)
        assert prompt == system_text(build_ontology(hass)), change.__name__
        assert prompt != previous and seen(prompt), change.__name__
        previous = prompt
    assert live.builds >= len(checks) + 1


async def test_unrelated_changes_keep_the_cache(hass: HomeAssistant, demo_home: DemoHome, init_integration: MockConfigEntry,
                                                model_server: ModelServer) -> None:  # fmt: skip
    live = init_integration.runtime_data.live
    await _prompt(hass, init_integration, model_server)
    builds = live.builds
    # A state change of an exposed entity that changes no ontology field, an unexposed entity, a new attribute value of a media player.
    hass.states.async_set("light.bed_light", "off", hass.states.get("light.bed_light").attributes)
    hass.states.async_set("climate.ecobee", "cool", hass.states.get("climate.ecobee").attributes)
    tv = hass.states.get(LOUNGE_TV)
    hass.states.async_set(LOUNGE_TV, tv.state, {**tv.attributes, "media_position": 42})
    await hass.async_block_till_done()
    for _ in range(3):
        await _prompt(hass, init_integration, model_server)
    assert live.builds == builds
    # The stop function of an unloaded entry forgets the cache and stops listening.
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    ent_reg: Any = er.async_get(hass)
    ent_reg.async_update_entity("light.bed_light", name="After Unload")
    assert live.builds == builds
