"""The Statewise agent loop: ask the model, check its answer, fetch state, act.

This module does not import Home Assistant: the conversation entity gives it a
``Home`` (state reads and action execution) and an ``ask`` coroutine (one
``/v1/chat/completions`` request), so the same loop runs in the benchmark.

Everything the model sees and says goes through the protocol package:
:func:`render_messages` builds the prompt, :func:`check_output` parses and
validates the answer, and the tool schemas' Home Assistant mapping
(:func:`service_for`, :func:`action_data`, :func:`is_sensitive`,
:func:`resolve_plex_target`) turns calls into actions.

One turn:

1. render ``ONTOLOGY`` (+ ``STATE`` once fetched) and the command, ask the model;
2. invalid output -> nothing is executed, a clear spoken message, a logged reason;
3. text -> spoken as is;
4. fetch -> read the requested states (protocol :func:`entity_state`), ask again
   with ``STATE``; at most ``fetch_rounds`` times;
5. actions -> the whole plan is prepared first (live entity check, sensitive
   policy, the entity's live supported features); then executed in order, stopping at the first failure; the reply is a
   deterministic confirmation per executed action.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .const import DEFAULT_FETCH_ROUNDS, MAX_FETCH_ROUNDS
from .protocol import (
    KIND_ACTIONS,
    KIND_FETCH,
    KIND_INVALID,
    KIND_TEXT,
    ErrorCode,
    Ontology,
    ToolCall,
    Verdict,
    action_data,
    call_entity_ids,
    check_output,
    is_sensitive,
    load_tools,
    render_messages,
    resolve_plex_target,
    service_for,
)

_LOGGER = logging.getLogger(__name__)

# The model is trained on English commands only.
SUPPORTED_LANGUAGES = ["en"]

# Outcomes of one turn.
OUTCOME_TEXT = "text"  # the model's own words (clarification, refusal, no-op)
OUTCOME_DONE = "done"  # every action executed
OUTCOME_PARTIAL = "partial"  # stopped at a failing action
OUTCOME_REFUSED = "refused"  # nothing executed: invalid, unknown, not present, blocked...
OUTCOME_ERROR = "error"  # the model server could not be used

# Spoken replies, English (the source of the translations; keys are also the
# ``exceptions`` translation keys prefixed with ``agent_``).
DEFAULT_PHRASES: dict[str, str] = {
    # refusals: nothing was executed
    "invalid_output": "Sorry, I didn't get a usable answer from the language model. Nothing was changed.",
    "unknown_entity": "Sorry, I can't find that device. Nothing was changed.",
    "not_present": "{name} is not available right now. Nothing was changed.",
    "not_capable": "{name} can't do that. Nothing was changed.",
    "ambiguous_target": "Sorry, I'm not sure which player to use. Nothing was changed.",
    "sensitive_blocked": "For safety, {name} can't be unlocked or opened by voice. Nothing was changed.",
    "too_many_fetches": "Sorry, I couldn't work that out. Nothing was changed.",
    # the model server
    "server_unreachable": "Sorry, I can't reach the language model server. Nothing was changed.",
    "server_timeout": "Sorry, the language model server took too long to answer. Nothing was changed.",
    "server_error": "Sorry, the language model server returned an error. Nothing was changed.",
    "unexpected_error": "Sorry, something went wrong in the Statewise agent.",
    # execution
    "action_failed": "Sorry, {name} could not be changed, so I stopped there.",
    # confirmations, one per executed action (done_generic: a tool added after v0)
    "done_generic": "Done: {name}.",
    "done_light_power_on": "Turned on {name}.",
    "done_light_power_off": "Turned off {name}.",
    "done_light_brightness": "Set {name} to {value}% brightness.",
    "done_light_color": "Set {name} to {value}.",
    "done_light_color_temp": "Set {name} to {value} K.",
    "done_switch_power_on": "Turned on {name}.",
    "done_switch_power_off": "Turned off {name}.",
    "done_fan_power_on": "Turned on {name}.",
    "done_fan_power_off": "Turned off {name}.",
    "done_fan_speed": "Set {name} to {value}%.",
    "done_tv_power_on": "Turned on {name}.",
    "done_tv_power_off": "Turned off {name}.",
    "done_tv_input": "Switched {name} to {value}.",
    "done_plex_play": "Playing {value} on {name}.",
    "done_media_control_play": "Playing on {name}.",
    "done_media_control_pause": "Paused {name}.",
    "done_media_control_next": "Skipped to the next track on {name}.",
    "done_media_control_previous": "Went back to the previous track on {name}.",
    "done_media_control_stop": "Stopped {name}.",
    "done_media_volume": "Set {name} volume to {value}%.",
    "done_climate_mode": "Set {name} to {value}.",
    "done_climate_temperature": "Set {name} to {value} degrees.",
    "done_cover_control_open": "Opened {name}.",
    "done_cover_control_close": "Closed {name}.",
    "done_cover_control_stop": "Stopped {name}.",
    "done_cover_position": "Set {name} to {value}%.",
    "done_lock_control_lock": "Locked {name}.",
    "done_lock_control_unlock": "Unlocked {name}.",
    "done_scene_activate": "Activated {name}.",
    "done_script_run": "Started {name}.",
    "done_todo_add": "Added {value} to {name}.",
    "done_vacuum_control_start": "Started {name}.",
    "done_vacuum_control_stop": "Stopped {name}.",
    "done_vacuum_control_pause": "Paused {name}.",
    "done_vacuum_control_return_home": "Sent {name} back to its dock.",
    "done_valve_control_open": "Opened {name}.",
    "done_valve_control_close": "Closed {name}.",
}
TRANSLATION_PREFIX = "agent_"

# Validator error codes -> spoken refusal.
_REFUSAL_FOR_CODE: dict[str, str] = {
    ErrorCode.UNKNOWN_ENTITY: "unknown_entity",
    ErrorCode.ENTITY_NOT_PRESENT: "not_present",
    ErrorCode.WRONG_DOMAIN: "not_capable",
    ErrorCode.MISSING_CAPABILITY: "not_capable",
    ErrorCode.UNSUPPORTED_VALUE: "not_capable",
    ErrorCode.TARGET_AMBIGUOUS: "ambiguous_target",
    ErrorCode.NO_TARGET: "ambiguous_target",
}
# Arguments that name the target or pick the service rather than carry a value.
_NON_VALUE_ARGS = frozenset({"entity_id", "entity_ids", "state", "command"})


class ModelUnavailableError(Exception):
    """The model server could not give an answer; ``key`` is the spoken reply."""

    def __init__(self, key: str, reason: str) -> None:
        """``key``: ``server_unreachable``, ``server_timeout`` or ``server_error``."""
        super().__init__(reason)
        self.key = key
        self.reason = reason


class ActionFailedError(Exception):
    """Executing one prepared action failed."""


@dataclass(frozen=True, slots=True)
class PreparedAction:
    """One model call turned into one Home Assistant action."""

    call: ToolCall
    entity_id: str
    domain: str
    service: str
    data: dict[str, Any]

    @property
    def action(self) -> str:
        """``domain.service``."""
        return f"{self.domain}.{self.service}"

    def service_data(self) -> dict[str, Any]:
        """Action data including the target, as the chat log shows it."""
        return {"entity_id": self.entity_id, **self.data}


@dataclass(frozen=True, slots=True)
class Reply:
    """One spoken sentence: a phrase key with placeholders, or the model's text."""

    key: str | None = None
    placeholders: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None


@dataclass
class TurnResult:
    """What one turn did and what to say."""

    outcome: str
    replies: list[Reply] = field(default_factory=list)
    executed: list[PreparedAction] = field(default_factory=list)
    fetched: list[list[str]] = field(default_factory=list)
    reason: str | None = None
    requests: list[list[dict[str, str]]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    def speech(self, phrases: Mapping[str, str] | None = None) -> str:
        """The reply as one string, with ``phrases`` (default: English)."""
        return render_replies(self.replies, phrases)


class Home(Protocol):
    """What the agent needs from the home (Home Assistant, or a fake)."""

    def read_states(self, entity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """STATE entries (protocol ``entity_state``) for these ids."""

    def source_list(self, entity_id: str) -> Sequence[str]:
        """The media player's ``source_list`` (for ``tv_input``)."""

    def exists(self, entity_id: str) -> bool:
        """True when the entity is live in the home right now."""

    # Optional: ``supports(action) -> bool``, False when the entity's live
    # supported features rule the action out (checked for the whole plan
    # before anything runs). Homes without it skip that check.

    async def async_execute(self, action: PreparedAction) -> None:
        """Run the action (blocking); raise on failure."""


AskFn = Callable[[list[dict[str, str]]], Awaitable[str]]


def render_replies(replies: Sequence[Reply], phrases: Mapping[str, str] | None = None) -> str:
    """Join the replies into one spoken string; unknown keys fall back to English."""
    parts: list[str] = []
    for reply in replies:
        if reply.key is None:
            parts.append(reply.text or "")
            continue
        template = (phrases or {}).get(reply.key) or DEFAULT_PHRASES[reply.key]
        try:
            parts.append(template.format(**reply.placeholders))
        except (KeyError, IndexError, ValueError):
            parts.append(DEFAULT_PHRASES[reply.key].format(**reply.placeholders))
    return " ".join(p for p in parts if p)


def _value_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def confirmation(action: PreparedAction, ontology: Ontology) -> Reply:
    """The deterministic confirmation for one executed action."""
    call = action.call
    mapping = load_tools()[call.name].mapping["service"]
    key = f"done_{call.name}"
    if isinstance(mapping, dict):
        key += f"_{call.arguments[mapping['by']]}"
    value = next((v for k, v in call.arguments.items() if k not in _NON_VALUE_ARGS), "")
    if call.name == "tv_input":
        value = action.data.get("source", value)
    if key not in DEFAULT_PHRASES:
        key = "done_generic"
    return Reply(key, {"name": entity_name(ontology, action.entity_id), "value": _value_text(value)})


def entity_name(ontology: Ontology, entity_id: str) -> str:
    """The entity's name as the ontology gives it (the id when unknown)."""
    entity = ontology.entities.get(entity_id)
    return str(entity["name"]) if entity and entity.get("name") else entity_id


def refusal_for(verdict: Verdict, ontology: Ontology) -> Reply:
    """The spoken refusal for an invalid verdict (first error decides)."""
    error = verdict.errors[0] if verdict.errors else None
    key = _REFUSAL_FOR_CODE.get(error.code, "invalid_output") if error else "invalid_output"
    name = ""
    if error is not None and 1 <= error.line <= len(verdict.calls):
        ids = call_entity_ids(verdict.calls[error.line - 1])
        known = [eid for eid in ids if eid in ontology.entities]
        if known:
            name = entity_name(ontology, known[0])
    if key in ("not_present", "not_capable") and not name:
        key = "invalid_output" if key == "not_capable" else "unknown_entity"
    return Reply(key, {"name": name})


def prepare_actions(calls: Sequence[ToolCall], ontology: Ontology, home: Home) -> list[PreparedAction]:
    """Map validated calls to Home Assistant actions (target, service, data)."""
    prepared: list[PreparedAction] = []
    for index, call in enumerate(calls):
        if load_tools()[call.name].mapping.get("target") == "plex":
            target, _ = resolve_plex_target(calls, index, ontology.entities)
        else:
            target = call_entity_ids(call)[0]
        if target is None:  # check_output refuses these; keep the invariant local
            raise ValueError(f"{call.name}: no target")
        source_list = home.source_list(target) if call.name == "tv_input" else ()
        domain, _, service = service_for(call).partition(".")
        prepared.append(PreparedAction(call, target, domain, service, action_data(call, source_list)))
    return prepared


class StatewiseAgent:
    """Runs turns for one conversation agent's settings."""

    def __init__(self, ask: AskFn, home: Home, *, fetch_rounds: int = DEFAULT_FETCH_ROUNDS, allow_sensitive: bool = False) -> None:
        """``ask`` sends messages and returns the model's text (or raises :class:`ModelUnavailableError`)."""
        self._ask = ask
        self._home = home
        self.fetch_rounds = max(0, min(MAX_FETCH_ROUNDS, int(fetch_rounds)))
        self.allow_sensitive = allow_sensitive

    async def async_run(self, command: str, ontology: Ontology) -> TurnResult:
        """One turn for ``command`` against ``ontology``. Never raises for model or action failures."""
        result = TurnResult(OUTCOME_REFUSED)
        state: dict[str, dict[str, Any]] | None = None
        for round_no in range(self.fetch_rounds + 1):
            messages = render_messages(ontology, command, state)
            result.requests.append(messages)
            try:
                output = await self._ask(messages)
            except ModelUnavailableError as err:
                return self._finish(result, OUTCOME_ERROR, Reply(err.key), f"model server: {err.reason}")
            result.outputs.append(output)
            verdict = check_output(output, ontology, state)
            result.verdicts.append(verdict)
            _LOGGER.debug("Round %s: %s output %r", round_no, verdict.kind, output[:500])
            if verdict.kind == KIND_INVALID:
                codes = ", ".join(f"{e.code}: {e.message}" for e in verdict.errors)
                return self._finish(result, OUTCOME_REFUSED, refusal_for(verdict, ontology), f"invalid output ({codes}): {output[:300]!r}")
            if verdict.kind == KIND_TEXT:
                result.outcome = OUTCOME_TEXT
                result.replies.append(Reply(text=verdict.text))
                return result
            if verdict.kind == KIND_FETCH:
                ids = call_entity_ids(verdict.calls[0])
                if round_no >= self.fetch_rounds:
                    return self._finish(result, OUTCOME_REFUSED, Reply("too_many_fetches"), f"fetch beyond {self.fetch_rounds} round(s): {ids}")
                result.fetched.append(ids)
                state = {**(state or {}), **self._home.read_states(ids)}
                continue
            if verdict.kind == KIND_ACTIONS:
                return await self._async_act(result, verdict.calls, ontology)
        raise AssertionError("unreachable: every round returns or continues")  # pragma: no cover

    async def _async_act(self, result: TurnResult, calls: Sequence[ToolCall], ontology: Ontology) -> TurnResult:
        """Check the whole plan, then execute it in order."""
        actions = prepare_actions(calls, ontology, self._home)
        supports = getattr(self._home, "supports", None)
        for action in actions:
            name = entity_name(ontology, action.entity_id)
            if not self._home.exists(action.entity_id):
                return self._finish(result, OUTCOME_REFUSED, Reply("not_present", {"name": name}), f"{action.entity_id} is not in the home now")
            device_class = ontology.entities[action.entity_id].get("device_class")
            if not self.allow_sensitive and is_sensitive(action.call, device_class):
                return self._finish(
                    result, OUTCOME_REFUSED, Reply("sensitive_blocked", {"name": name}), f"sensitive action blocked by policy: {action.call.to_line()}"
                )
            if supports is not None and not supports(action):
                reason = f"{action.entity_id} lacks the supported feature for {action.action}: {action.call.to_line()}"
                return self._finish(result, OUTCOME_REFUSED, Reply("not_capable", {"name": name}), reason)
        for action in actions:
            try:
                await self._home.async_execute(action)
            except Exception as err:  # noqa: BLE001 - any failure stops the plan and is spoken, never raised
                result.replies.extend(confirmation(done, ontology) for done in result.executed)
                name = entity_name(ontology, action.entity_id)
                return self._finish(result, OUTCOME_PARTIAL, Reply("action_failed", {"name": name}), f"{action.action} on {action.entity_id} failed: {err!r}")
            result.executed.append(action)
        result.outcome = OUTCOME_DONE
        result.replies.extend(confirmation(done, ontology) for done in result.executed)
        return result

    @staticmethod
    def _finish(result: TurnResult, outcome: str, reply: Reply, reason: str) -> TurnResult:
        result.outcome = outcome
        result.replies.append(reply)
        result.reason = reason
        _LOGGER.warning("%s: %s", "Stopped" if outcome == OUTCOME_PARTIAL else "Not executed", reason)
        return result
