"""State snapshots v0: one entity's state plus its domain's whitelisted attributes.

The Home Assistant exporter, the agent's fetch step and the dataset builder all
turn raw states into snapshot entries through :func:`entity_state`, so STATE
text is identical at training and serving time. Attributes not listed here
never leave Home Assistant (that is the redaction rule for state).

STATE carries no more device- or third-party-written text than a decision needs
(``docs/SECURITY.md``): no media titles (the teacher never reads them, and whoever
publishes a video writes its title), a source only as a short slug
(:func:`device_slug`, the same form as the ontology's ``inputs``), which is all
the policy compares, and a state only as a number or a short slug
(:func:`state_value`: a text sensor's message never reaches the model).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .canonical import dumps, slugify

# domain -> snapshot key -> Home Assistant attribute it comes from
STATE_ATTRIBUTES: dict[str, dict[str, str]] = {
    "light": {"brightness": "brightness", "color_temp_kelvin": "color_temp_kelvin"},
    "media_player": {"source": "source", "volume": "volume_level", "muted": "is_volume_muted"},
    "climate": {"temperature": "temperature", "current_temperature": "current_temperature"},
    "fan": {"percentage": "percentage"},
    "cover": {"position": "current_position"},
    "valve": {"position": "current_position"},
    "humidifier": {"humidity": "humidity", "current_humidity": "current_humidity"},
    "water_heater": {"temperature": "temperature", "current_temperature": "current_temperature"},
}


# Device-supplied names (sources, inputs) in the prompt: lower-case slugs of at most this many characters.
MAX_DEVICE_SLUG = 32
STATE_KEYS: dict[str, frozenset[str]] = {domain: frozenset({"state", *keys}) for domain, keys in STATE_ATTRIBUTES.items()}


def device_slug(text: Any) -> str | None:
    """A device-supplied name as the prompt carries it: slugified, at most :data:`MAX_DEVICE_SLUG` characters."""
    if not isinstance(text, str):
        return None
    slug = slugify(text)[:MAX_DEVICE_SLUG].strip("_")
    return slug or None


# A state string is a number as Home Assistant wrote it, else a slug (every enumerated state already is one).
_NUMBER = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,11})?")
MAX_STATE_SLUG = MAX_DEVICE_SLUG
UNKNOWN_STATE = "unknown"


def state_value(raw: Any) -> str:
    """A state string as STATE carries it: never free text.

    ``on``, ``heat_cool``, ``21.5``: kept (enumerated states are slugs; numbers as written).
    Anything else (a text sensor's message, an ``input_text``, a timestamp) becomes a slug
    of at most :data:`MAX_STATE_SLUG` characters, or ``unknown`` when nothing is left.
    """
    text = raw if isinstance(raw, str) else str(raw)
    if _NUMBER.fullmatch(text):
        return text
    slug = slugify(text)[:MAX_STATE_SLUG].strip("_")
    return slug or UNKNOWN_STATE


def allowed_entry(domain: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """A stored snapshot entry reduced to what STATE may carry now (older exports hold media titles)."""
    keys = STATE_KEYS.get(domain, frozenset({"state"}))
    out = {k: v for k, v in entry.items() if k in keys}
    if "state" in out:
        out["state"] = state_value(out["state"])
    if "source" in out:
        slug = device_slug(out["source"])
        out.pop("source")
        if slug:
            out["source"] = slug
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def entity_state(domain: str, state: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Snapshot entry for one entity, from its raw Home Assistant state."""
    entry: dict[str, Any] = {"state": state_value(state)}
    for key, attr in STATE_ATTRIBUTES.get(domain, {}).items():
        raw = attributes.get(attr)
        if raw is None:
            continue
        if key == "brightness":
            num = _number(raw)
            if num is not None and state == "on":
                entry[key] = max(1, min(100, round(num * 100 / 255)))
        elif key == "volume":
            num = _number(raw)
            if num is not None:
                entry[key] = max(0, min(100, round(num * 100)))
        elif key == "source":
            if slug := device_slug(raw):
                entry[key] = slug
        elif key == "muted":
            if isinstance(raw, bool):
                entry[key] = raw
        elif key in ("color_temp_kelvin", "percentage", "position", "humidity", "current_humidity"):
            num = _number(raw)
            if num is not None:
                entry[key] = round(num)
        else:
            num = _number(raw)
            if num is not None:
                # 20.0 and 20 are the same temperature: one text for both (canonical, fewer tokens).
                entry[key] = int(num) if float(num).is_integer() else num
    return entry


def state_subset(states: Mapping[str, Mapping[str, Any]], entity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The entries for ``entity_ids`` (those present in ``states``), sorted by id."""
    return {eid: dict(states[eid]) for eid in sorted(set(entity_ids)) if eid in states}


def state_json(states: Mapping[str, Mapping[str, Any]]) -> str:
    """Canonical STATE JSON: entities sorted by id, ``state`` first, then attributes sorted."""
    ordered = {
        eid: {"state": entry["state"], **{k: entry[k] for k in sorted(entry) if k != "state"}}
        for eid, entry in sorted(states.items())
    }
    return dumps(ordered, sort_keys=False)
