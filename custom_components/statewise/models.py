"""Runtime data of a Statewise config entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from homeassistant.config_entries import ConfigEntry

from .client import StatewiseClient
from .live_ontology import LiveOntology


@dataclass
class StatewiseData:
    """What ``entry.runtime_data`` holds while the entry is loaded."""

    client: StatewiseClient
    live: LiveOntology
    models: list[str] = field(default_factory=list)


StatewiseConfigEntry: TypeAlias = ConfigEntry[StatewiseData]
