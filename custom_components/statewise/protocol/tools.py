"""The v0 tool registry: each tool defined once, as data inside its JSON Schema.

Each ``schemas/v0/tools/<name>.json`` is a draft 2020-12 JSON Schema for one
whole output line (``{"tool_call":{"name":..,"arguments":{..}}}``). Its
``x-statewise`` block is everything else the project knows about the tool;
the validator, the Home Assistant mapping, the simulator, the teacher's direct
calls and refusals, the agent's feature check and its confirmations all read
it from here (adding a tool is one new file plus its confirmation phrase):

- ``kind``: ``fetch`` or ``action``; ``domains``: entity domains it applies to;
- ``target``: the argument naming the entity (``entity_id``/``entity_ids``), or
  ``{"via_input": X}``: no entity argument; the target is the entity switched to
  input ``X`` earlier in the plan, else the only present entity with input ``X``
  (see :func:`resolve_target`);
- ``requires`` / ``requires_when``: ontology capabilities the entity must have
  (always / for some argument values); ``member_of`` / ``within``: argument
  values checked against a capability list or ``[min, max]`` range;
- ``service``: the one Home Assistant action a call maps to; ``data``: its
  fields, each ``{"arg": name[, "scale": k]}``, ``{"const": v}``,
  ``{"source_of": arg}`` (an input name mapped back to the entity's exact
  ``source_list`` value) or ``{"plex_title": arg}``;
- ``features``: per action, the entity features Home Assistant needs for it
  (any one of the list, ``EnumClass.MEMBER`` of the action's domain);
- ``sensitive``: argument values (``values``, or a position from ``min``),
  optionally only for some device classes, that are not executed unless the
  agent's policy allows them; the words a user says to ask for them are the
  language's (``languages/<lang>/agent.yaml``, :mod:`.language`), not the wire
  format's;
- ``effect``: what the call does to a STATE entry (interpreted by
  :mod:`.simulate`); ``observable: false`` when STATE cannot show all of it
  (a colour, a scene), so a goal is never judged "already satisfied";
- ``intent``: the absolute intent the tool performs (``kind``, and the
  argument that takes its ``value``), for the teacher's direct calls;
- ``hass``: the Home Assistant intents whose sentences ask for this tool
  (``home-assistant-intents``), each with the ``value`` it implies or the HA
  ``slot`` that carries it, and a ``kind`` when that is not the tool's own;
- ``confirm`` (+ ``confirm_value``): the phrase key spoken after it ran;

Spoken words are not part of the wire format: the teacher's words about a tool
(what an entity "can't" do, how a goal that already holds reads) are in each
language's ``languages/<code>/phrases.yaml`` under ``tools``.

Any rule may depend on one argument's value as ``{"by": arg, "map": {value: rule}}``.
v1 may only add tools or optional arguments (see ``SCHEMA_VERSION``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .canonical import dumps, slugify
from .schema_validator import schema_validator

SCHEMA_VERSION = "v0"
TOOLS_DIR = Path(__file__).parent / "schemas" / SCHEMA_VERSION / "tools"
FETCH_TOOL = "get_entity_state"
INPUTS_CAPABILITY = "inputs"
_EXTRA_DIRS: list[Path] = []  # see :func:`extra_tools` (tests)


def _map_key(value: Any) -> Any:
    """A map key for an argument value (JSON object keys are strings: ``true``/``false`` for booleans)."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def by_value(rule: Any, arguments: Mapping[str, Any]) -> Any:
    """``rule`` itself, or its entry for the argument it depends on (``{"by": arg, "map": {..}}``)."""
    if isinstance(rule, dict) and set(rule) == {"by", "map"}:
        return rule["map"].get(_map_key(arguments.get(rule["by"])))
    return rule


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One v0 tool: its schema, validator and everything in ``x-statewise``."""

    name: str
    description: str
    schema: dict[str, Any]
    mapping: dict[str, Any]
    validator: Draft202012Validator = field(repr=False, compare=False)

    @property
    def arguments(self) -> dict[str, Any]:
        """Argument name -> its JSON Schema, in schema (canonical output) order."""
        return self.schema["properties"]["tool_call"]["properties"]["arguments"]["properties"]

    @property
    def argument_order(self) -> list[str]:
        """Argument names in schema order (the canonical output order)."""
        return list(self.arguments)

    @property
    def is_fetch(self) -> bool:
        """True for ``get_entity_state``."""
        return self.mapping["kind"] == "fetch"

    @property
    def domains(self) -> frozenset[str]:
        """Entity domains the tool acts on (none for the fetch)."""
        return frozenset(self.mapping.get("domains", ()))

    @property
    def target_arg(self) -> str | None:
        """The argument naming the target entity (``None`` for ``via_input`` tools)."""
        target = self.mapping["target"]
        return target if isinstance(target, str) else None

    @property
    def via_input(self) -> str | None:
        """The input whose player is the implicit target (``plex`` for ``plex_play``)."""
        target = self.mapping["target"]
        return target.get("via_input") if isinstance(target, dict) else None

    @property
    def needs_source_list(self) -> bool:
        """True when the action data maps an input name back to the entity's ``source_list``."""
        return any("source_of" in rule for rule in self.mapping.get("data", {}).values())

    def observable(self, arguments: Mapping[str, Any]) -> bool:
        """False when STATE cannot show everything the call changes (never "already satisfied")."""
        return bool(by_value(self.mapping.get("observable", True), arguments))

    @property
    def intent(self) -> dict[str, Any] | None:
        """``{"kind": .., "value": arg}``: the absolute intent this tool performs, if any."""
        return self.mapping.get("intent")

    def enum(self, arg: str) -> tuple[Any, ...]:
        """The allowed values of an enumerated argument (empty when not an enum)."""
        return tuple(self.arguments.get(arg, {}).get("enum", ()))

    @property
    def hass(self) -> list[dict[str, Any]]:
        """The Home Assistant intents that ask for this tool (see the module docstring)."""
        return list(self.mapping.get("hass", []))

    def service(self, arguments: Mapping[str, Any]) -> str:
        """``domain.service`` of the one Home Assistant action a valid call maps to."""
        return by_value(self.mapping["service"], arguments)

    def features(self, action: str) -> tuple[str, ...]:
        """``EnumClass.MEMBER`` names of which the entity needs one for ``action`` (empty: none)."""
        return tuple(self.mapping.get("features", {}).get(action, ()))

    def effect(self, arguments: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The effect operations of a call (see :mod:`.simulate`)."""
        return list(by_value(self.mapping.get("effect", []), arguments) or [])

    def confirmation(self, arguments: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[str, Any]:
        """``(phrase key, value)`` spoken after the call ran."""
        key = by_value(self.mapping["confirm"], arguments)
        rule = self.mapping.get("confirm_value")
        if rule is None:
            value = arguments.get((self.intent or {}).get("value", ""), "")
        elif "data" in rule:
            value = data.get(rule["data"], arguments.get(rule.get("arg", ""), ""))
        else:
            value = arguments.get(rule["arg"], "")
        return key, value


def _read_spec(path: Path) -> ToolSpec:
    schema = json.loads(path.read_text(encoding="utf-8"))
    return ToolSpec(schema["title"], schema["description"], schema, schema["x-statewise"], schema_validator(schema))


@cache
def load_tools() -> dict[str, ToolSpec]:
    """All v0 tools by name, read once from the schema folder (plus :func:`extra_tools` folders)."""
    tools: dict[str, ToolSpec] = {}
    for folder in (TOOLS_DIR, *_EXTRA_DIRS):
        for path in sorted(Path(folder).glob("*.json")):
            spec = _read_spec(path)
            tools[spec.name] = spec
    return tools


@contextmanager
def extra_tools(folder: str | Path) -> Iterator[dict[str, ToolSpec]]:
    """A temporary registry: the v0 tools plus the tool files in ``folder`` (for tests of new tools)."""
    _EXTRA_DIRS.append(Path(folder))
    load_tools.cache_clear()
    try:
        yield load_tools()
    finally:
        _EXTRA_DIRS.remove(Path(folder))
        load_tools.cache_clear()


def tools_for(kind: str, domain: str) -> list[ToolSpec]:
    """Tools whose ``intent`` is ``kind`` and that act on ``domain``."""
    return [s for s in load_tools().values() if (s.intent or {}).get("kind") == kind and domain in s.domains]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A parsed call: tool name and arguments."""

    name: str
    arguments: dict[str, Any]

    @property
    def spec(self) -> ToolSpec:
        """The tool's definition."""
        return load_tools()[self.name]

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


def call_key(call: ToolCall) -> str:
    """A call's identity by value: canonical line with integral floats as ints (``21`` and ``21.0`` are one call)."""
    args = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in call.arguments.items()}
    return ToolCall(call.name, args).to_line()


def call_entity_ids(call: ToolCall) -> list[str]:
    """Entity ids a call names directly (none for ``via_input`` tools)."""
    args = call.arguments
    if isinstance(args.get("entity_ids"), list):
        return [e for e in args["entity_ids"] if isinstance(e, str)]
    if isinstance(args.get("entity_id"), str):
        return [args["entity_id"]]
    return []


def service_for(call: ToolCall) -> str:
    """``domain.service`` of the one Home Assistant action a (valid) call maps to."""
    return call.spec.service(call.arguments)


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
    for key, rule in call.spec.mapping["data"].items():
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


def _switches_to(call: ToolCall, wanted: str) -> bool:
    """True when ``call`` sets an entity's input (a ``member_of: inputs`` argument) to ``wanted``."""
    spec = load_tools().get(call.name)
    members = spec.mapping.get("member_of", {}) if spec else {}
    return any(cap == INPUTS_CAPABILITY and call.arguments.get(arg) == wanted for arg, cap in members.items())


def resolve_target(calls: Sequence[ToolCall], index: int, entities: Mapping[str, Mapping[str, Any]]) -> tuple[str | None, list[str]]:
    """The entity ``calls[index]`` acts on, and the candidates (``None`` when there is not exactly one).

    A ``via_input: X`` tool acts on the entity of the nearest preceding call in the
    same plan that switches an entity to input ``X``; otherwise on the only present
    entity of its domains whose capabilities list input ``X``.
    """
    call = calls[index]
    spec = call.spec
    wanted = spec.via_input
    if wanted is None:
        ids = call_entity_ids(call)
        return (ids[0] if len(ids) == 1 else None), ids
    for prev in reversed(calls[:index]):
        if _switches_to(prev, wanted):
            target = prev.arguments.get("entity_id")
            return (target if isinstance(target, str) else None), [target] if isinstance(target, str) else []
    candidates = sorted(
        eid
        for eid, ent in entities.items()
        if ent.get("present", True) and ent.get("domain", eid.split(".", 1)[0]) in spec.domains
        and wanted in (ent.get("capabilities") or {}).get(INPUTS_CAPABILITY, [])
    )
    return (candidates[0] if len(candidates) == 1 else None), candidates
