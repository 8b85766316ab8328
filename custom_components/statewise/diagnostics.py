"""Diagnostics for Statewise: entry, subentries and the live ontology summary (API key and URL credentials redacted)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .client import has_credentials, redact_url
from .const import CONF_API_KEY, CONF_BASE_URL, SUBENTRY_CONVERSATION
from .models import StatewiseConfigEntry, agent_languages
from .ontology import build_ontology
from .protocol.language import available_languages
from .repairs import estimate_tokens

TO_REDACT = {CONF_API_KEY}


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: StatewiseConfigEntry) -> dict[str, Any]:
    """Entry data (redacted), subentries, server models and ontology counts."""
    ontology = build_ontology(hass)
    runtime = getattr(entry, "runtime_data", None)
    data = async_redact_data(dict(entry.data), TO_REDACT)
    title = entry.title
    if isinstance(url := entry.data.get(CONF_BASE_URL), str) and has_credentials(url):  # entries from before the flow refused them
        clean = redact_url(url)
        data[CONF_BASE_URL] = clean
        title = title.replace(url, clean)
    return {
        "entry": {
            "title": title,
            "data": data,
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "subentries": [
            {
                "type": sub.subentry_type,
                "title": sub.title,
                "data": async_redact_data(dict(sub.data), TO_REDACT),
                # What Home Assistant is told the agent speaks (supported_languages), also for agents from before the option.
                "languages": agent_languages(sub.data) if sub.subentry_type == SUBENTRY_CONVERSATION else None,
            }
            for sub in entry.subentries.values()
        ],
        "available_languages": available_languages(),
        "server_models": list(runtime.models) if runtime is not None else None,
        "ontology": {
            "hash": ontology.hash(),
            "entity_count": len(ontology.entities),
            "present_false": [eid for eid, ent in ontology.entities.items() if not ent["present"]],
            "estimated_tokens": estimate_tokens(ontology),
            # The agent's cached copy: the same hash unless the home changed since the last command; builds since setup.
            "cached_hash": runtime.live.ontology.hash() if runtime is not None else None,
            "cached_builds": runtime.live.builds if runtime is not None else None,
        },
    }
