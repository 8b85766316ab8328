"""Tool schemas v0 and their mapping to Home Assistant actions, as data.

Each ``schemas/v0/tools/<name>.json`` is a draft 2020-12 JSON Schema for one
whole output line (``{"tool_call":{"name":..,"arguments":{..}}}``). Its
``x-statewise`` block is the documented mapping:

- ``domains``: entity domains the tool applies to; ``target``: which argument
  names the entity (``entity_id``, ``entity_ids`` or ``plex``, see
  :func:`resolve_plex_target`);
- ``requires`` / ``requires_when``: ontology capabilities the entity must have;
  ``member_of`` / ``within``: argument values checked against a capability list
  or ``[min, max]`` range;
- ``service``: the one Home Assistant action a call maps to, fixed or picked
  by an argument value (``{"by": "state", "map": {"on": .., "off": ..}}``);
- ``data``: action fields, each ``{"arg": name[, "scale": k]}``,
  ``{"const": v}``, ``{"source_of": arg}`` (an ontology input name mapped back
  to the entity's exact ``source_list`` value) or ``{"plex_title": arg}``;
- ``sensitive``: argument values (optionally only for some device classes)
  that the Home Assistant agent does not execute unless allowed.

v1 may only add tools or optional arguments (see ``SCHEMA_VERSION``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .canonical import dumps, slugify

SCHEMA_VERSION = "v0"
TOOLS_DIR = Path(__file__).parent / "schemas" / SCHEMA_VERSION / "tools"
FETCH_TOOL = "get_entity_state"
PLEX_INPUT = "plex"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One v0 tool: its schema, validator and Home Assistant mapping."""

    name: str
    description: str
    schema: dict[str, Any]
    mapping: dict[str, Any]
    validator: Draft202012Validator = field(repr=False, compare=False)

    @property
    def argument_order(self) -> list[str]:
        """Argument names in schema order (the canonical output order)."""
        return list(self.schema["properties"]["tool_call"]["properties"]["arguments"]["properties"])

    @property
    def is_fetch(self) -> bool:
        """True for ``get_entity_state``."""
        return self.mapping["kind"] == "fetch"


@cache
def load_tools() -> dict[str, ToolSpec]:
    """All v0 tools by name, read once from the schema folder."""
    tools: dict[str, ToolSpec] = {}
    for path in sorted(TOOLS_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        tools[schema["title"]] = ToolSpec(
            name=schema["title"],
            description=schema["description"],
            schema=schema,
            mapping=schema["x-statewise"],
            validator=Draft202012Validator(schema),
        )
    return tools


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A parsed call: tool name and arguments."""

    name: str
    arguments: dict[str, Any]

    def to_line(self) -> str:
        """Canonical one-line JSON, ``name`` before ``arguments`` in schema order."""
        return render_call(self.name, self.arguments)

    def as_dict(self) -> dict[str, Any]:
        """``{"name": .., "arguments": ..}``."""
        return {"name": self.name, "arguments": self.arguments}


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """The one canonical text of a call line, exactly as training targets use it."""
    spec = load_tools().get(name)
    order = spec.argument_order if spec else sorted(arguments)
    ordered = {key: arguments[key] for key in order if key in arguments}
    ordered.update({key: arguments[key] for key in sorted(arguments) if key not in ordered})
    return dumps({"tool_call": {"name": name, "arguments": ordered}}, sort_keys=False)


def call_entity_ids(call: ToolCall) -> list[str]:
    """Entity ids a call names directly (none for ``plex_play``)."""
    args = call.arguments
    if isinstance(args.get("entity_ids"), list):
        return [e for e in args["entity_ids"] if isinstance(e, str)]
    if isinstance(args.get("entity_id"), str):
        return [args["entity_id"]]
    return []


def service_for(call: ToolCall) -> str:
    """``domain.service`` of the one Home Assistant action a (valid) call maps to."""
    service = load_tools()[call.name].mapping["service"]
    if isinstance(service, str):
        return service
    return service["map"][call.arguments[service["by"]]]


def input_to_source(input_name: str, source_list: Sequence[str]) -> str | None:
    """Map an ontology input name back to the entity's exact ``source_list`` value."""
    for source in source_list:
        if slugify(source) == input_name:
            return source
    return None


def plex_content_id(title: str) -> str:
    """Media content id for the Plex integration's ``play_media``."""
    return "plex://" + dumps({"title": title})


def action_data(call: ToolCall, source_list: Sequence[str] = ()) -> dict[str, Any]:
    """Service data for a valid call (without the target entity)."""
    data: dict[str, Any] = {}
    for key, rule in load_tools()[call.name].mapping["data"].items():
        if "arg" in rule:
            value = call.arguments[rule["arg"]]
            if "scale" in rule:
                value = round(value * rule["scale"], 4)
            data[key] = value
        elif "const" in rule:
            data[key] = rule["const"]
        elif "source_of" in rule:
            wanted = call.arguments[rule["source_of"]]
            data[key] = input_to_source(wanted, source_list) or wanted
        elif "plex_title" in rule:
            data[key] = plex_content_id(call.arguments[rule["plex_title"]])
    return data


def is_sensitive(call: ToolCall, device_class: str | None) -> bool:
    """True when the call is a sensitive action (unlock, open a garage door...)."""
    spec = load_tools().get(call.name)
    rule = spec.mapping.get("sensitive") if spec else None
    if not rule:
        return False
    classes = rule.get("device_classes")
    if classes is not None and device_class not in classes:
        return False
    value = call.arguments.get(rule["arg"])
    if "values" in rule:
        return value in rule["values"]
    return isinstance(value, int | float) and value >= rule["min"]


def resolve_plex_target(calls: Sequence[ToolCall], index: int, entities: Mapping[str, Mapping[str, Any]]) -> tuple[str | None, list[str]]:
    """Resolve the player for ``calls[index]`` (a ``plex_play``).

    Rule: the entity of the nearest preceding ``tv_input`` with input ``plex``
    in the same plan; otherwise the only present media player whose
    capabilities list a ``plex`` input. Returns ``(entity_id, candidates)``;
    the id is ``None`` when there is no candidate or more than one.
    """
    for prev in reversed(calls[:index]):
        if prev.name == "tv_input" and prev.arguments.get("input") == PLEX_INPUT:
            target = prev.arguments.get("entity_id")
            return (target if isinstance(target, str) else None), [target] if isinstance(target, str) else []
    candidates = sorted(
        eid
        for eid, ent in entities.items()
        if ent.get("present", True) and PLEX_INPUT in ent.get("capabilities", {}).get("inputs", [])
    )
    return (candidates[0] if len(candidates) == 1 else None), candidates
