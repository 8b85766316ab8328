"""Validator: check a parsed output against the ontology (and STATE, if given).

Every call must name entities that exist and are present, apply to their
domain, and stay within their capabilities (an input the TV has, a colour
temperature in range, ...), as the tool's registry entry says
(:mod:`.tools`). A fetch must ask for something STATE lacks.
:func:`capability_problem` is the same check for one entity and (possibly
partial) arguments, with the teacher's words for it: the dataset's
capability refusals are this rule, not a copy of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ErrorCode, ProtocolError
from .export_format import Ontology
from .parser import KIND_FETCH, KIND_INVALID, Verdict, parse_output
from .schema_validator import StrictValidator
from .tools import INPUTS_CAPABILITY, ToolCall, ToolSpec, call_entity_ids, resolve_target


def _spoken(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("_", " ")


@dataclass(frozen=True, slots=True)
class CapabilityProblem:
    """Why an entity cannot take a call: the error code, a message, and what the teacher says about it.

    ``say`` names the phrase of the tool's words in a language (``cannot``, ``requires.<capability>``,
    ``member_of``, ``within``, ``value``; ``dataset_export.language`` renders it with ``fields``): the
    protocol itself holds no spoken text.
    """

    code: ErrorCode
    message: str
    say: str = "cannot"
    fields: Mapping[str, str] = field(default_factory=dict)


def _schema_problem(spec: ToolSpec, arguments: Mapping[str, Any]) -> str | None:
    """The first given argument whose value the tool's schema refuses (a colour it has no word for, 0% brightness)."""
    for arg, value in arguments.items():
        schema = spec.arguments.get(arg)
        if schema is not None and not StrictValidator(schema).is_valid(value):
            return arg
    return None


def capability_problem(spec: ToolSpec, eid: str, entity: Mapping[str, Any], arguments: Mapping[str, Any], *,
                       check_schema: bool = True) -> CapabilityProblem | None:
    """The first rule of ``spec`` that ``entity`` breaks for ``arguments`` (arguments left out are not checked).

    ``check_schema``: also refuse values the tool's schema does not allow (the teacher asks
    this of a spoken value; the validator has already checked the whole call's schema).
    """
    mapping = spec.mapping
    domain = entity.get("domain") or eid.split(".", 1)[0]
    if spec.is_fetch:
        return None
    if check_schema and (arg := _schema_problem(spec, arguments)) is not None:
        return CapabilityProblem(ErrorCode.UNSUPPORTED_VALUE, f"{spec.name}: {arg}={arguments[arg]!r} is not a v0 value", "value",
                                 {"value": _spoken(arguments[arg])})
    if domain not in spec.domains:
        return CapabilityProblem(ErrorCode.WRONG_DOMAIN, f"{spec.name} does not apply to {domain} entity {eid}")
    caps = entity.get("capabilities") or {}
    needed = list(mapping.get("requires", []))
    for arg, by_value in mapping.get("requires_when", {}).items():
        needed += by_value.get(arguments.get(arg), [])
    for cap in needed:
        if not caps.get(cap):
            return CapabilityProblem(ErrorCode.MISSING_CAPABILITY, f"{spec.name}: {eid} lacks capability {cap!r}", f"requires.{cap}")
    if spec.via_input and spec.via_input not in caps.get(INPUTS_CAPABILITY, []):  # the implicit target has that input
        return CapabilityProblem(ErrorCode.MISSING_CAPABILITY, f"{spec.name}: {eid} lacks input {spec.via_input!r}")
    for arg, cap in mapping.get("member_of", {}).items():
        if arg in arguments and arguments[arg] not in caps.get(cap, []):
            return CapabilityProblem(ErrorCode.UNSUPPORTED_VALUE, f"{spec.name}: {arg}={arguments[arg]!r} is not one of {eid}'s {cap}",
                                     "member_of", {"value": _spoken(arguments[arg])})
    for arg, cap in mapping.get("within", {}).items():
        if arg in arguments and isinstance(caps.get(cap), list | tuple):
            low, high = caps[cap]
            if not low <= arguments[arg] <= high:
                return CapabilityProblem(ErrorCode.UNSUPPORTED_VALUE, f"{spec.name}: {arg}={arguments[arg]} is outside {eid}'s {cap} [{low}, {high}]",
                                         "within", {"value": _spoken(arguments[arg]), "low": _spoken(low), "high": _spoken(high)})
    return None


def _check_entity(call: ToolCall, eid: str, entities: Mapping[str, Mapping[str, Any]], line: int) -> list[ProtocolError]:
    ent = entities.get(eid)
    if ent is None:
        return [ProtocolError(ErrorCode.UNKNOWN_ENTITY, f"{call.name}: {eid!r} is not in ONTOLOGY", line)]
    if not ent.get("present", True):
        return [ProtocolError(ErrorCode.ENTITY_NOT_PRESENT, f"{call.name}: {eid} is present:false", line)]
    problem = capability_problem(call.spec, eid, ent, call.arguments, check_schema=False)
    return [ProtocolError(problem.code, problem.message, line)] if problem else []


def validate_calls(calls: Sequence[ToolCall], ontology: Ontology) -> list[ProtocolError]:
    """Errors of schema-valid calls against the ontology (line numbers are 1-based call positions)."""
    errors: list[ProtocolError] = []
    entities = ontology.entities
    for index, call in enumerate(calls):
        line = index + 1
        if call.spec.via_input:
            target, candidates = resolve_target(calls, index, entities)
            if target is None:
                code = ErrorCode.TARGET_AMBIGUOUS if len(candidates) > 1 else ErrorCode.NO_TARGET
                detail = f"candidates {', '.join(candidates)}" if candidates else f"no present player has a {call.spec.via_input} input"
                errors.append(ProtocolError(code, f"{call.name}: no single target ({detail})", line))
            else:
                errors += _check_entity(call, target, entities, line)
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
