"""Validator: check a parsed output against the ontology (and STATE, if given).

Every call must name entities that exist and are present, apply to their
domain, and stay within their capabilities (an input the TV has, a colour
temperature in range, ...). A fetch must ask for something STATE lacks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ErrorCode, ProtocolError
from .export_format import Ontology
from .parser import KIND_FETCH, KIND_INVALID, Verdict, parse_output
from .tools import ToolCall, call_entity_ids, load_tools, resolve_plex_target


def _check_entity(call: ToolCall, eid: str, entities: Mapping[str, Mapping[str, Any]], line: int) -> list[ProtocolError]:
    ent = entities.get(eid)
    if ent is None:
        return [ProtocolError(ErrorCode.UNKNOWN_ENTITY, f"{call.name}: {eid!r} is not in ONTOLOGY", line)]
    if not ent.get("present", True):
        return [ProtocolError(ErrorCode.ENTITY_NOT_PRESENT, f"{call.name}: {eid} is present:false", line)]
    mapping = load_tools()[call.name].mapping
    if mapping["kind"] == "fetch":
        return []
    if ent["domain"] not in mapping["domains"]:
        return [ProtocolError(ErrorCode.WRONG_DOMAIN, f"{call.name} does not apply to {ent['domain']} entity {eid}", line)]
    caps = ent.get("capabilities") or {}
    needed = list(mapping.get("requires", []))
    for arg, by_value in mapping.get("requires_when", {}).items():
        needed += by_value.get(call.arguments.get(arg), [])
    for cap in needed:
        if not caps.get(cap):
            return [ProtocolError(ErrorCode.MISSING_CAPABILITY, f"{call.name}: {eid} lacks capability {cap!r}", line)]
    for arg, cap in mapping.get("member_of", {}).items():
        if call.arguments.get(arg) not in caps.get(cap, []):
            return [ProtocolError(ErrorCode.UNSUPPORTED_VALUE, f"{call.name}: {arg}={call.arguments.get(arg)!r} is not one of {eid}'s {cap}", line)]
    for arg, cap in mapping.get("within", {}).items():
        low, high = caps[cap]
        if not low <= call.arguments[arg] <= high:
            return [ProtocolError(ErrorCode.UNSUPPORTED_VALUE, f"{call.name}: {arg}={call.arguments[arg]} is outside {eid}'s {cap} [{low}, {high}]", line)]
    return []


def validate_calls(calls: Sequence[ToolCall], ontology: Ontology) -> list[ProtocolError]:
    """Errors of schema-valid calls against the ontology (line numbers are 1-based call positions)."""
    errors: list[ProtocolError] = []
    entities = ontology.entities
    for index, call in enumerate(calls):
        line = index + 1
        if load_tools()[call.name].mapping.get("target") == "plex":
            target, candidates = resolve_plex_target(calls, index, entities)
            if target is None:
                code = ErrorCode.TARGET_AMBIGUOUS if len(candidates) > 1 else ErrorCode.NO_TARGET
                detail = f"candidates {', '.join(candidates)}" if candidates else "no present player has a plex input"
                errors.append(ProtocolError(code, f"plex_play: no single target ({detail})", line))
            else:
                errors += _check_entity(ToolCall("tv_input", {"entity_id": target, "input": "plex"}), target, entities, line)
            continue
        for eid in call_entity_ids(call):
            errors += _check_entity(call, eid, entities, line)
    return errors


def check_output(output: Any, ontology: Ontology, state: Mapping[str, Mapping[str, Any]] | None = None) -> Verdict:
    """Parse and validate. Never raises; ``verdict.kind`` is ``invalid`` on any error."""
    verdict = parse_output(output)
    if verdict.kind == KIND_INVALID:
        return verdict
    errors = validate_calls(verdict.calls, ontology)
    if verdict.kind == KIND_FETCH and state is not None:
        wanted = set(call_entity_ids(verdict.calls[0]))
        if wanted and wanted <= set(state):
            errors.append(ProtocolError(ErrorCode.STATE_ALREADY_GIVEN, "every requested entity is already in STATE", 1))
    if errors:
        return Verdict(KIND_INVALID, calls=verdict.calls, text=verdict.text, errors=errors)
    return verdict
