"""Base entity for the Statewise integration (one device per agent subentry, like core ollama)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity

from .const import CONF_MODEL, DOMAIN


class StatewiseBaseEntity(Entity):
    """An entity bound to one config subentry of a Statewise model server."""

    _attr_has_entity_name = True
    _attr_name = None

    def __init__(self, entry: ConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialize the entity."""
        self.entry = entry
        self.subentry = subentry
        self._attr_unique_id = subentry.subentry_id
        model = self.settings.get(CONF_MODEL)
        self._attr_device_info = dr.DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer="Statewise",
            model=model if isinstance(model, str) else None,
            entry_type=dr.DeviceEntryType.SERVICE,
        )

    @property
    def settings(self) -> dict[str, Any]:
        """Server settings overlaid with this agent's options."""
        return {**self.entry.data, **self.subentry.data}
