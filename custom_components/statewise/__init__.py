"""The Statewise integration: a fine-tuned local model as an Assist agent.

One config entry per OpenAI-compatible model server; each conversation agent
is a config subentry (as in core's ``ollama``). The action
``statewise.export_training_seed`` (registered in :func:`async_setup`) writes
the training seed export from the live home.
"""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .client import AuthenticationError, InvalidURLError, StatewiseClient, StatewiseClientError
from .const import CONF_API_KEY, CONF_BASE_URL, CONF_MODEL, DOMAIN, LOGGER, SETUP_TIMEOUT, SUBENTRY_CONVERSATION
from .export import async_setup_services
from .http import async_register_views
from .live_ontology import LiveOntology
from .models import StatewiseConfigEntry, StatewiseData
from .protocol.language import LanguageError, shipped_words
from .repairs import async_check_entry_issues, async_delete_stale_issues

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS: tuple[Platform, ...] = (Platform.BUTTON, Platform.CONVERSATION)

__all__ = ["DOMAIN", "StatewiseConfigEntry", "StatewiseData"]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up Statewise: register the export action and the download view."""
    async_setup_services(hass)
    async_register_views(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: StatewiseConfigEntry) -> bool:
    """Set up a model server: check it answers, then forward the conversation platform."""
    client = StatewiseClient(async_get_clientsession(hass), entry.data[CONF_BASE_URL], entry.data.get(CONF_API_KEY))
    try:
        models = await client.async_list_models(timeout=SETUP_TIMEOUT)
    except AuthenticationError as err:
        raise ConfigEntryAuthFailed(f"The model server rejected the API key: {err}") from err
    except InvalidURLError as err:  # reconfigure the entry: retrying cannot help
        raise ConfigEntryError(str(err)) from None
    except StatewiseClientError as err:
        raise ConfigEntryNotReady(f"Model server {client.redacted_url} is not ready: {err}") from err
    for subentry in entry.subentries.values():
        if (model := subentry.data.get(CONF_MODEL)) and model not in models:
            LOGGER.warning("Model %s of %s is not listed by %s (listed: %s)", model, subentry.title, client.redacted_url, models)

    try:  # every language's agent words, read and checked once, off the event loop
        await hass.async_add_executor_job(shipped_words)
    except LanguageError as err:  # a broken languages/<lang>/agent.yaml: one line naming the file and field
        raise ConfigEntryError(str(err)) from None

    live = LiveOntology(hass)
    entry.async_on_unload(live.async_start())
    entry.runtime_data = StatewiseData(client=client, live=live, models=models)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(async_update_options))
    async_check_entry_issues(hass, entry)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: StatewiseConfigEntry) -> bool:
    """Version 1 kept one model on the entry; version 2 keeps it on each agent subentry (as core ``ollama`` does)."""
    if entry.version > 2:
        return False  # a downgrade: this release does not know that layout
    if entry.version == 1:
        data = dict(entry.data)
        model = data.pop(CONF_MODEL, None)
        for subentry in entry.subentries.values():
            if subentry.subentry_type == SUBENTRY_CONVERSATION and model and not subentry.data.get(CONF_MODEL):
                hass.config_entries.async_update_subentry(entry, subentry, data={**subentry.data, CONF_MODEL: model})
        hass.config_entries.async_update_entry(entry, data=data, title=data.get(CONF_BASE_URL, entry.title), version=2, minor_version=1)
        LOGGER.info("Migrated Statewise entry %s to version 2: the model %s is now each agent's", entry.entry_id, model)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: StatewiseConfigEntry) -> bool:
    """Unload a config entry."""
    return bool(await hass.config_entries.async_unload_platforms(entry, PLATFORMS))


async def async_remove_entry(hass: HomeAssistant, entry: StatewiseConfigEntry) -> None:
    """The entry is deleted: its agents' Repairs issues go with it."""
    others = {sub_id for other in hass.config_entries.async_entries(DOMAIN) if other.entry_id != entry.entry_id for sub_id in other.subentries}
    async_delete_stale_issues(hass, others)


async def async_update_options(hass: HomeAssistant, entry: StatewiseConfigEntry) -> None:
    """Reload when the entry or one of its subentries changed."""
    await hass.config_entries.async_reload(entry.entry_id)
