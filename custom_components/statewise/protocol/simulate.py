"""Deterministic effects of v0 actions on STATE entries, read from each tool's ``effect``.

Used by the teacher (is a goal already satisfied? does a plan reach it?), by
the evaluator's simulated home (multi-turn final-state checks) and by tests.
States are snapshot entries as :func:`.state.entity_state` writes them.

Effect operations (a list, or ``{"by": arg, "map": {value: [..]}}``):

- ``{"power": bool | value}``: switch on or off as the domain does
  (:data:`POWER_ON_DEFAULTS` when turned on from off, :data:`OFF_CLEARS` when off);
- ``{"open": bool}``: open or close a cover or valve (its position to 100 or 0);
- ``{"set": {key: value}}``: set entry keys.

A value is a literal, ``{"arg": name}`` (the call's argument), with
``"above": n`` a test (``"then"``/``"else"``, default true/false), or
``{"from_state": {current: new}}`` (the new state from the current one,
unchanged when not listed).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .export_format import Ontology
from .state import allowed_entry, state_subset
from .tools import INPUTS_CAPABILITY, ToolCall, resolve_target

if TYPE_CHECKING:
    from .agent import PreparedAction

States = dict[str, dict[str, Any]]
ON_STATES = frozenset({"on", "playing", "paused", "idle", "buffering"})
# Keys a domain gains when switched on from off (if it has none), and loses when switched off.
POWER_ON_DEFAULTS: dict[str, dict[str, Any]] = {"light": {"brightness": 100}, "fan": {"percentage": 100}}
OFF_CLEARS: dict[str, tuple[str, ...]] = {"light": ("brightness", "color_temp_kelvin"), "media_player": ("source", "volume")}
OFF_SETS: dict[str, dict[str, Any]] = {"fan": {"percentage": 0}}


def is_on(domain: str, entry: Mapping[str, Any]) -> bool:
    """True when the entry is switched on (a media player that is idle or playing is on)."""
    return entry.get("state") in (ON_STATES if domain == "media_player" else {"on"})


def _value(spec: Any, args: Mapping[str, Any], entry: Mapping[str, Any]) -> Any:
    if not isinstance(spec, dict):
        return spec
    if "from_state" in spec:
        return spec["from_state"].get(entry.get("state"), entry.get("state"))
    value = args[spec["arg"]]
    if "above" in spec:
        return spec.get("then", True) if value > spec["above"] else spec.get("else", False)
    return value


def _power(entry: dict[str, Any], domain: str, on: bool) -> None:
    if on:
        if not is_on(domain, entry):
            entry["state"] = "on"
            for key, default in POWER_ON_DEFAULTS.get(domain, {}).items():
                if not entry.get(key):
                    entry[key] = default
    else:
        entry["state"] = "off"
        for key in OFF_CLEARS.get(domain, ()):
            entry.pop(key, None)
        entry.update(OFF_SETS.get(domain, {}))


def apply_effect(states: States, call: ToolCall, target: str) -> None:
    """Apply one call's effect to ``states[target]`` in place."""
    domain = target.split(".", 1)[0]
    entry = states.setdefault(target, {"state": "unknown"})
    for op in call.spec.effect(call.arguments):
        if "power" in op:
            _power(entry, domain, bool(_value(op["power"], call.arguments, entry)))
        elif "open" in op:
            opened = bool(_value(op["open"], call.arguments, entry))
            entry["state"] = "open" if opened else "closed"
            if "position" in entry:
                entry["position"] = 100 if opened else 0
        elif "set" in op:
            entry.update({key: _value(spec, call.arguments, entry) for key, spec in op["set"].items()})


def apply_calls(states: Mapping[str, Mapping[str, Any]], calls: Sequence[ToolCall], ontology: Ontology) -> States:
    """New states after executing ``calls`` in order (the input is not modified; unresolved targets are skipped)."""
    out: States = copy.deepcopy({k: dict(v) for k, v in states.items()})
    for index, call in enumerate(calls):
        if call.spec.is_fetch:
            continue
        target, _ = resolve_target(calls, index, ontology.entities)
        if target is not None:
            apply_effect(out, call, target)
    return out


def changes(entry: Mapping[str, Any], calls: Sequence[ToolCall], ontology: Ontology, eid: str) -> bool:
    """True when ``calls`` would change ``eid``'s entry (or do something STATE cannot show)."""
    if any(not c.spec.observable(c.arguments) for c in calls):
        return True
    return apply_calls({eid: entry}, calls, ontology)[eid] != dict(entry)


class SimulatedHome:
    """A :class:`~.agent.Home` over simulated STATE: the evaluator runs the agent loop against it.

    Reads return the entries of ``states`` (what a fetch gets); actions change
    them through each tool's ``effect``; an entity exists while it is present
    in the ontology and its entry is not ``unavailable``.
    """

    def __init__(self, ontology: Ontology, states: Mapping[str, Mapping[str, Any]]) -> None:
        """Start from a copy of ``states`` (the whole home)."""
        self.ontology = ontology
        # Stored snapshots may hold what STATE no longer carries (media titles of older exports): reads return STATE's form.
        self.states: States = copy.deepcopy({k: allowed_entry(k.split(".", 1)[0], v) for k, v in states.items()})

    def read_states(self, entity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """STATE entries for the ids the home has, sorted by id."""
        return state_subset(self.states, entity_ids)

    def source_list(self, entity_id: str) -> Sequence[str]:
        """The ontology's input names stand for the sources."""
        return list((self.ontology.entities.get(entity_id, {}).get("capabilities") or {}).get(INPUTS_CAPABILITY, []))

    def exists(self, entity_id: str) -> bool:
        """Present in the ontology and not unavailable in STATE."""
        entity = self.ontology.entities.get(entity_id)
        return bool(entity and entity.get("present", True)) and self.states.get(entity_id, {}).get("state") != "unavailable"

    def supports(self, action: PreparedAction) -> bool:
        """The ontology's capabilities are all the simulator knows: the validator has checked them."""
        return True

    async def async_execute(self, action: PreparedAction) -> None:
        """Apply the action's effect to its target."""
        apply_effect(self.states, action.call, action.entity_id)
