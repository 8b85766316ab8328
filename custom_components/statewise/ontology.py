"""Build the live ontology and live states from Home Assistant's registries.

The ontology lists every entity exposed to Assist (``conversation``), as
:func:`homeassistant.components.homeassistant.exposed_entities.async_should_expose`
decides, with the names the user says: entity name, entity aliases, area and
floor, domain and device class, plus capabilities derived from the entity's
real attributes and supported features.

``present`` rule (written down once, used by the exporter and the agent):

    An exposed entity is ``present: false`` when any of these holds:

    1. it is in the entity registry but has no state object (not loaded,
       integration missing, entity removed from its integration);
    2. it is disabled in the entity registry (``disabled_by`` set);
    3. its state was only restored by the entity registry (attribute
       ``restored: true``: the integration has not provided it since start);
    4. its state is ``unavailable``.

    Otherwise it is ``present: true`` (``unknown`` is present: the entity
    exists, its value is just not known yet).

Area aliases go into each entity's optional ``area_aliases`` (the aliases of
its area, ``str`` items only, without the area's name); floors have names only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.components.climate import ATTR_HVAC_MODES, ATTR_MAX_TEMP, ATTR_MIN_TEMP, ClimateEntityFeature
from homeassistant.components.conversation import DOMAIN as CONVERSATION_DOMAIN
from homeassistant.components.cover import CoverEntityFeature
from homeassistant.components.fan import FanEntityFeature
from homeassistant.components.homeassistant.exposed_entities import async_should_expose
from homeassistant.components.light import (
    ATTR_MAX_COLOR_TEMP_KELVIN,
    ATTR_MIN_COLOR_TEMP_KELVIN,
    ATTR_SUPPORTED_COLOR_MODES,
    brightness_supported,
    color_supported,
    color_temp_supported,
)
from homeassistant.components.media_player import ATTR_INPUT_SOURCE_LIST, MediaPlayerEntityFeature
from homeassistant.components.valve import ValveEntityFeature
from homeassistant.components.water_heater import WaterHeaterEntityFeature
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_RESTORED,
    ATTR_SUPPORTED_FEATURES,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant, State, callback, split_entity_id
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
)

from .protocol import Ontology, device_slug, entity_state

_ID_RE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_SLUG_RE = re.compile(r"^[a-z0-9_]+$")
MAX_NAME = 200


def _clean_names(values: Iterable[Any] | None) -> list[str]:
    """Only ``str`` items (2026.11 aliases can hold a non-str sentinel), stripped, non-empty."""
    out: list[str] = []
    for value in values or ():
        if isinstance(value, str) and (text := value.strip()) and len(text) <= MAX_NAME and text not in out:
            out.append(text)
    return out


def _features(attrs: Mapping[str, Any]) -> int:
    value = attrs.get(ATTR_SUPPORTED_FEATURES)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _range(key: str, attrs: Mapping[str, Any], low_attr: str, high_attr: str) -> dict[str, list[float | int]]:
    """``{key: [low, high]}`` from two numeric attributes (empty when either is missing or they are reversed)."""
    low, high = _number(attrs.get(low_attr)), _number(attrs.get(high_attr))
    return {key: [low, high]} if low is not None and high is not None and low <= high else {}


def capabilities(domain: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Ontology capabilities from an entity's attributes (state or registry capabilities)."""
    caps: dict[str, Any] = {}
    features = _features(attrs)
    if domain == "light":
        modes = attrs.get(ATTR_SUPPORTED_COLOR_MODES)
        modes = [str(m) for m in modes] if isinstance(modes, list | set | tuple) else None
        if brightness_supported(modes):
            caps["brightness"] = True
        if color_supported(modes):
            caps["color"] = True
        if color_temp_supported(modes):
            low = _number(attrs.get(ATTR_MIN_COLOR_TEMP_KELVIN))
            high = _number(attrs.get(ATTR_MAX_COLOR_TEMP_KELVIN))
            if low is not None and high is not None and low <= high:
                caps["color_temp"] = [low, high]
    elif domain == "media_player":
        if features & (MediaPlayerEntityFeature.TURN_ON | MediaPlayerEntityFeature.TURN_OFF):
            caps["power"] = True
        if features & MediaPlayerEntityFeature.VOLUME_SET:
            caps["volume"] = True
        if features & MediaPlayerEntityFeature.VOLUME_MUTE:
            caps["mute"] = True
        if features & (MediaPlayerEntityFeature.PLAY | MediaPlayerEntityFeature.PAUSE):
            caps["playback"] = True
        sources = attrs.get(ATTR_INPUT_SOURCE_LIST)
        if features & MediaPlayerEntityFeature.SELECT_SOURCE and isinstance(sources, list | tuple):
            inputs = sorted({slug for s in sources if (slug := device_slug(s))})
            if inputs:
                caps["inputs"] = inputs
    elif domain == "climate":
        modes = attrs.get(ATTR_HVAC_MODES)
        if isinstance(modes, list | tuple):
            hvac = sorted({slug for m in modes if (slug := device_slug(m))})  # enumerations: a slug of at most 32 characters
            if hvac:
                caps["hvac_modes"] = hvac
        if features & ClimateEntityFeature.TARGET_TEMPERATURE:
            caps.update(_range("temp_range", attrs, ATTR_MIN_TEMP, ATTR_MAX_TEMP))
        if features & (ClimateEntityFeature.TURN_ON | ClimateEntityFeature.TURN_OFF):
            caps["power"] = True
    elif domain == "humidifier":
        caps.update(_range("humidity_range", attrs, "min_humidity", "max_humidity"))
    elif domain == "water_heater":
        if features & WaterHeaterEntityFeature.TARGET_TEMPERATURE:
            caps.update(_range("temp_range", attrs, ATTR_MIN_TEMP, ATTR_MAX_TEMP))
    elif domain == "fan":
        if features & FanEntityFeature.SET_SPEED:
            caps["speed"] = True
    elif domain == "cover":
        if features & CoverEntityFeature.SET_POSITION:
            caps["position"] = True
        if features & CoverEntityFeature.STOP:
            caps["stop"] = True
    elif domain == "valve":
        if features & ValveEntityFeature.SET_POSITION:
            caps["position"] = True
        if features & ValveEntityFeature.STOP:
            caps["stop"] = True
    return caps


def is_present(entry: er.RegistryEntry | None, state: State | None) -> bool:
    """The ``present`` rule (see the module docstring)."""
    if entry is not None and entry.disabled_by is not None:
        return False
    if state is None:
        return False
    if state.attributes.get(ATTR_RESTORED):
        return False
    return state.state != STATE_UNAVAILABLE


def _entry_name(hass: HomeAssistant, entry: er.RegistryEntry) -> str | None:
    """Display name of a registry entry that has no state object."""
    if entry.name:
        return entry.name
    name = entry.original_name
    if entry.has_entity_name and entry.device_id:
        device = dr.async_get(hass).async_get(entry.device_id)
        device_name = device and (device.name_by_user or device.name)
        if device_name:
            return f"{device_name} {name}" if name else device_name
    return name


def _display_name(hass: HomeAssistant, entity_id: str, entry: er.RegistryEntry | None, state: State | None) -> str:
    name: str | None = None
    if state is not None:
        name = state.name
    elif entry is not None:
        name = _entry_name(hass, entry)
    if not isinstance(name, str) or not name.strip():
        name = split_entity_id(entity_id)[1].replace("_", " ")
    return name.strip()[:MAX_NAME]


def _area_id(hass: HomeAssistant, entry: er.RegistryEntry | None) -> str | None:
    if entry is None:
        return None
    if entry.area_id:
        return entry.area_id
    if entry.device_id and (device := dr.async_get(hass).async_get(entry.device_id)):
        # 2026.10+: a child device without an area of its own is in its parent's (the "effective" area).
        effective = getattr(dr, "async_get_effective_area_id", None)
        return effective(hass, device) if effective is not None else device.area_id
    return None


@callback
def exposed_entity_ids(hass: HomeAssistant) -> list[str]:
    """Every entity id exposed to Assist: registered ones (also without state) and state-only ones."""
    ent_reg = er.async_get(hass)
    candidates = set(ent_reg.entities) | set(hass.states.async_entity_ids())
    return sorted(
        eid for eid in candidates if _ID_RE.fullmatch(eid) and async_should_expose(hass, CONVERSATION_DOMAIN, eid)
    )


@callback
def ontology_entity(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """One ontology entity (all ``ENTITY_KEYS``) for an entity id."""
    ent_reg = er.async_get(hass)
    area_reg = ar.async_get(hass)
    floor_reg = fr.async_get(hass)
    entry = ent_reg.async_get(entity_id)
    state = hass.states.get(entity_id)
    domain = split_entity_id(entity_id)[0]

    attrs: dict[str, Any] = {}
    if entry is not None:
        attrs.update(entry.capabilities or {})
        attrs[ATTR_SUPPORTED_FEATURES] = entry.supported_features
    if state is not None:
        attrs.update(state.attributes)

    area_name = floor_name = None
    area_aliases: list[str] = []
    if (area_id := _area_id(hass, entry)) and (area := area_reg.async_get_area(area_id)):
        area_name = area.name
        area_aliases = [a for a in _clean_names(area.aliases) if a != area_name]
        if area.floor_id and (floor := floor_reg.async_get_floor(area.floor_id)):
            floor_name = floor.name

    device_class = None
    if entry is not None:
        device_class = entry.device_class or entry.original_device_class
    if device_class is None:
        device_class = attrs.get(ATTR_DEVICE_CLASS)
    # StrEnum members (SwitchDeviceClass.OUTLET...) become their plain value.
    device_class = str(device_class) if isinstance(device_class, str) else None
    if device_class is not None and not _SLUG_RE.fullmatch(device_class):
        device_class = None

    name = _display_name(hass, entity_id, entry, state)
    aliases = [a for a in _clean_names(entry.aliases if entry else ()) if a != name]
    return {
        "id": entity_id,
        "name": name,
        "aliases": aliases,
        "area": area_name[:MAX_NAME] if area_name else None,
        "area_aliases": area_aliases,
        "floor": floor_name[:MAX_NAME] if floor_name else None,
        "domain": domain,
        "device_class": device_class,
        "capabilities": capabilities(domain, attrs),
        "present": is_present(entry, state),
    }


@callback
def build_ontology(hass: HomeAssistant, entity_ids: Iterable[str] | None = None) -> Ontology:
    """The live ontology of the entities exposed to Assist (or of ``entity_ids``)."""
    ids = exposed_entity_ids(hass) if entity_ids is None else sorted(set(entity_ids))
    return Ontology.from_entities(ontology_entity(hass, eid) for eid in ids)


@callback
def live_states(hass: HomeAssistant, entity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Snapshot entries (protocol ``entity_state``) for the ids that have a state, sorted by id."""
    out: dict[str, dict[str, Any]] = {}
    for eid in sorted(set(entity_ids)):
        if (state := hass.states.get(eid)) is not None:
            out[eid] = entity_state(split_entity_id(eid)[0], state.state, state.attributes)
    return out
