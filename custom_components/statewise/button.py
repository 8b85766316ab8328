"""The "Export training seed" button: the export without Developer tools.

One button per model server entry, on the entry's own device. Pressing it runs the
same export as the ``statewise.export_training_seed`` action (default history) and
posts the persistent notification with the folder, the counts and the download link.
Like the action, it runs for administrators only (and for automations, which have no user).
"""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DEFAULT_HISTORY_HOURS, DEFAULT_HISTORY_SAMPLES, DOMAIN
from .export import async_export_and_notify
from .models import StatewiseConfigEntry


async def async_setup_entry(hass: HomeAssistant, entry: StatewiseConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback) -> None:
    """One export button for the entry."""
    async_add_entities([StatewiseExportButton(entry)])


class StatewiseExportButton(ButtonEntity):
    """Writes a training seed export of the live home."""

    _attr_has_entity_name = True
    _attr_translation_key = "export_training_seed"
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, entry: StatewiseConfigEntry) -> None:
        """On the entry's device (the model server)."""
        self._attr_unique_id = f"{entry.entry_id}-export"
        self._attr_device_info = dr.DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)}, name="Statewise", manufacturer="Statewise", model="Model server",
            configuration_url=None, entry_type=dr.DeviceEntryType.SERVICE,
        )  # fmt: skip

    async def async_press(self) -> None:
        """Export with the default history; the notification says where it is. Administrators only, like the action."""
        user_id = self._context.user_id if self._context is not None else None
        user = await self.hass.auth.async_get_user(user_id) if user_id else None
        if user_id is not None and (user is None or not user.is_admin):
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="export_admin_only")
        await async_export_and_notify(self.hass, history_hours=DEFAULT_HISTORY_HOURS, history_samples=DEFAULT_HISTORY_SAMPLES, user_id=user_id)
