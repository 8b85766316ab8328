"""Runtime data of a Statewise config entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from homeassistant.config_entries import ConfigEntry

from .client import StatewiseClient
from .const import CONF_LANGUAGES, LEGACY_LANGUAGES
from .live_ontology import LiveOntology


@dataclass
class StatewiseData:
    """What ``entry.runtime_data`` holds while the entry is loaded."""

    client: StatewiseClient
    live: LiveOntology
    models: list[str] = field(default_factory=list)


StatewiseConfigEntry: TypeAlias = ConfigEntry[StatewiseData]


def agent_languages(options: Mapping[str, Any]) -> list[str]:
    """The languages an agent subentry's model was trained for; an agent set up before the option was English-only."""
    languages = options.get(CONF_LANGUAGES)
    return [str(lang) for lang in languages] if isinstance(languages, list | tuple) and languages else list(LEGACY_LANGUAGES)
