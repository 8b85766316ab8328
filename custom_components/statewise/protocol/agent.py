"""The Statewise agent loop: ask the model, check its answer, fetch state, act.

One loop for serving and evaluation: Home Assistant's conversation entity runs
it against its live home, the trainer's evaluator against the simulator
(:class:`.simulate.SimulatedHome`), so "multi-turn execution behaves
deterministically" is proven on the loop users run. It does not import Home
Assistant: a caller gives it a :class:`Home` (state reads, feature checks,
action execution) and an ``ask`` coroutine (one chat completion).

Everything the model sees and says goes through the protocol:
:func:`.prompt.render_messages` builds the prompt, :func:`.validate.check_output`
parses and validates the answer, and the tool registry (:mod:`.tools`) turns
calls into actions and confirmations.

One turn:

1. render ``ONTOLOGY`` (+ ``STATE`` once fetched) and the command, ask the model;
2. invalid output -> nothing is executed, a clear spoken message, a logged reason;
3. text -> spoken as is;
4. fetch -> read the requested states, ask again with ``STATE``; at most
   ``fetch_rounds`` times;
5. actions -> the whole plan is prepared first (live entity check, the entity's
   live supported features, then the sensitive-action policy of :mod:`.sensitive`:
   block, ask back and wait for "yes", or allow on the user's own words); then
   executed in order, stopping at the first failure; the reply is one
   confirmation per executed action.

Replies are phrase keys with placeholders; the texts are the integration's
translations (category ``agent``, English in ``translations/en.json``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from .errors import ErrorCode
from .export_format import Ontology
from .language import AgentWords, load_agent_words
from .parser import KIND_ACTION, KIND_FETCH, KIND_INVALID, KIND_TEXT, Verdict
from .prompt import render_answer, render_messages
from .sensitive import POLICY_ALLOW, POLICY_BLOCK, POLICY_CONFIRM, POLICY_EVALUATE, asked_for, has_words_for, is_sensitive_action
from .tools import ToolCall, action_data, call_entity_ids, resolve_target, service_for
from .validate import check_output

_LOGGER = logging.getLogger(__name__)

DEFAULT_FETCH_ROUNDS = 1
MIN_FETCH_ROUNDS = 0
MAX_FETCH_ROUNDS = 3

# Outcomes of one turn.
OUTCOME_TEXT = "text"  # the model's own words (clarification, refusal, no-op)
OUTCOME_DONE = "done"  # every action executed
OUTCOME_PARTIAL = "partial"  # stopped at a failing action
OUTCOME_REFUSED = "refused"  # nothing executed: invalid, unknown, not present, blocked...
OUTCOME_ERROR = "error"  # the model server could not be used
OUTCOME_CONFIRM = "confirm"  # nothing executed yet: the plan waits for the user's "yes" (``TurnResult.pending``)

PHRASE_CATEGORY = "agent"  # the translation category of the spoken replies
CONFIRM_PREFIX = "done_"  # confirmation keys: done_<the tool's ``confirm`` key>
GENERIC_CONFIRMATION = "done_generic"
QUESTION_PREFIX = "ask_"  # asked-back questions: ask_<the tool's ``confirm`` key>
GENERIC_QUESTION = "ask_generic"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

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


@cache
def translated_phrases(language: str) -> dict[str, str]:
    """The replies in ``language``, read from the integration's ``translations/<language>.json`` (empty when not shipped).

    Inside Home Assistant the same files are read through its translation helper; this reader serves the
    evaluator and tests, which run without Home Assistant.
    """
    path = TRANSLATIONS_DIR / f"{language}.json"
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get(PHRASE_CATEGORY, {}))


def english_phrases() -> dict[str, str]:
    """The English replies (the fallback for any key a language lacks)."""
    return translated_phrases("en")


class ModelUnavailableError(Exception):
    """The model server could not give an answer; ``key`` is the spoken reply."""

    def __init__(self, key: str, reason: str) -> None:
        """``key``: ``server_unreachable``, ``server_timeout`` or ``server_error``."""
        super().__init__(reason)
        self.key = key
        self.reason = reason


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
    pending: tuple[ToolCall, ...] | None = None  # OUTCOME_CONFIRM: the exact plan to run after "yes"

    def speech(self, phrases: Mapping[str, str] | None = None) -> str:
        """The reply as one string, with ``phrases`` (default: English)."""
        return render_replies(self.replies, phrases)


class Home(Protocol):
    """What the agent needs from the home (Home Assistant, the simulator, or a test's fake)."""

    def read_states(self, entity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """STATE entries (protocol ``entity_state``) for these ids."""

    def source_list(self, entity_id: str) -> Sequence[str]:
        """The media player's ``source_list`` (for tools that map an input back to a source)."""

    def exists(self, entity_id: str) -> bool:
        """True when the entity is live in the home right now."""

    def supports(self, action: PreparedAction) -> bool:
        """False when the entity's live supported features rule the action out (checked before anything runs)."""

    async def async_execute(self, action: PreparedAction) -> None:
        """Run the action; raise on failure."""


AskFn = Callable[[list[dict[str, str]]], Awaitable[str]]


def render_replies(replies: Sequence[Reply], phrases: Mapping[str, str] | None = None) -> str:
    """Join the replies into one spoken string (an unknown confirmation key falls back to the generic one)."""
    phrases = english_phrases() if phrases is None else phrases
    parts: list[str] = []
    for reply in replies:
        if reply.key is None:
            parts.append(reply.text or "")
            continue
        key = reply.key
        if key not in phrases and key.startswith(CONFIRM_PREFIX):
            key = GENERIC_CONFIRMATION
        if key not in phrases and key.startswith(QUESTION_PREFIX):
            key = GENERIC_QUESTION
        template = phrases.get(key) or english_phrases().get(key) or key
        try:
            parts.append(template.format(**reply.placeholders))
        except (KeyError, IndexError, ValueError):
            parts.append((english_phrases().get(key) or key).format(**reply.placeholders))
    return " ".join(p for p in parts if p)


def _value_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def confirmation(action: PreparedAction, ontology: Ontology) -> Reply:
    """The confirmation for one executed action: the tool's ``confirm`` key and value."""
    key, value = action.call.spec.confirmation(action.call.arguments, action.data)
    return Reply(CONFIRM_PREFIX + str(key), {"name": entity_name(ontology, action.entity_id), "value": _value_text(value)})


def question(action: PreparedAction, ontology: Ontology) -> Reply:
    """The asked-back question for one sensitive action ("Unlock Front Door?"): ``ask_`` + the tool's ``confirm`` key."""
    key, value = action.call.spec.confirmation(action.call.arguments, action.data)
    return Reply(QUESTION_PREFIX + str(key), {"name": entity_name(ontology, action.entity_id), "value": _value_text(value)})


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
        target, _ = resolve_target(calls, index, ontology.entities)
        if target is None:  # check_output refuses these; keep the invariant local
            raise ValueError(f"{call.name}: no target")
        source_list = home.source_list(target) if call.spec.needs_source_list else ()
        domain, _, service = service_for(call).partition(".")
        prepared.append(PreparedAction(call, target, domain, service, action_data(call, source_list)))
    return prepared


class StatewiseAgent:
    """Runs turns for one conversation agent's settings."""

    def __init__(self, ask: AskFn, home: Home, *, fetch_rounds: int = DEFAULT_FETCH_ROUNDS, sensitive_policy: str = POLICY_BLOCK,
                 sensitive_entities: Iterable[str] = (), action_timeout: float | None = None, lang: AgentWords | None = None) -> None:  # fmt: skip
        """``ask`` sends messages and returns the model's text (or raises :class:`ModelUnavailableError`).

        ``sensitive_policy``: ``block``, ``confirm`` or ``allow`` (:mod:`.sensitive`); ``evaluate`` runs every
        valid plan (the trainer scores the model's plan, not this safety rule). ``sensitive_entities``: entity
        ids the user made sensitive on top of the registry's rules.
        ``action_timeout``: seconds one action may take; a device that does not answer in time stops the
        plan there ("X did not respond") and nothing after it runs (``None``: no bound, the evaluator's case).
        ``lang``: the words of the language the user speaks (:mod:`.language`; English by default), which
        decide under *allow* whether the command asks for a sensitive action.
        """
        if sensitive_policy not in (POLICY_BLOCK, POLICY_CONFIRM, POLICY_ALLOW, POLICY_EVALUATE):
            raise ValueError(f"unknown sensitive-action policy {sensitive_policy!r}")
        self._ask = ask
        self._home = home
        self.action_timeout = action_timeout
        self.fetch_rounds = max(MIN_FETCH_ROUNDS, min(MAX_FETCH_ROUNDS, int(fetch_rounds)))
        self.sensitive_policy = sensitive_policy
        self.sensitive_entities = frozenset(sensitive_entities)
        self.lang = lang if lang is not None else load_agent_words("en")

    async def async_run(self, command: str, ontology: Ontology, state: Mapping[str, Mapping[str, Any]] | None = None) -> TurnResult:
        """One turn for ``command`` against ``ontology``. Never raises for model or action failures.

        ``state``: STATE already fetched when the turn starts (the evaluator replays
        dataset rows whose prompt carries it); Home Assistant starts without.
        """
        result = TurnResult(OUTCOME_REFUSED)
        state = {k: dict(v) for k, v in state.items()} if state is not None else None
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
            if verdict.kind == KIND_ACTION:
                return await self._async_act(result, verdict.calls, ontology, command)
        raise AssertionError("unreachable: every round returns or continues")  # pragma: no cover

    async def async_run_confirmed(self, calls: Sequence[ToolCall], command: str, ontology: Ontology) -> TurnResult:
        """Run a plan the user confirmed: that exact plan, validated again against the live home; the model is not asked."""
        result = TurnResult(OUTCOME_REFUSED)
        output = render_answer(calls)
        result.outputs.append(output)
        verdict = check_output(output, ontology)
        result.verdicts.append(verdict)
        if verdict.kind != KIND_ACTION:
            codes = ", ".join(f"{e.code}: {e.message}" for e in verdict.errors) or verdict.kind
            return self._finish(result, OUTCOME_REFUSED, refusal_for(verdict, ontology), f"confirmed plan no longer valid ({codes})")
        return await self._async_act(result, verdict.calls, ontology, command, confirmed=True)

    def _policy_stop(self, result: TurnResult, actions: Sequence[PreparedAction], ontology: Ontology, command: str) -> TurnResult | None:
        """The sensitive-action policy for a plan whose every action could run (``None``: go ahead)."""
        if self.sensitive_policy == POLICY_EVALUATE:
            return None
        sensitive = [a for a in actions if is_sensitive_action(a.call, a.entity_id, ontology.entities[a.entity_id], self.sensitive_entities)]
        if not sensitive:
            return None
        first = sensitive[0]
        name = entity_name(ontology, first.entity_id)
        if self.sensitive_policy == POLICY_BLOCK:
            reason = f"sensitive action blocked by policy: {first.call.to_line()}"
            return self._finish(result, OUTCOME_REFUSED, Reply("sensitive_blocked", {"name": name}), reason)
        if self.sensitive_policy == POLICY_CONFIRM:
            return self._ask_back(result, actions, sensitive, ontology)
        # allow: a registry-sensitive action only on the user's own words; an entity the user listed has no verb to say, and a
        # language may have no words for an action: those are asked back, never run.
        listed = [a for a in sensitive if not has_words_for(a.call, ontology.entities[a.entity_id], self.lang)]
        for action in (a for a in sensitive if a not in listed):
            others = [n for eid, ent in ontology.entities.items() if eid != action.entity_id for n in (ent.get("name"), *(ent.get("aliases") or []))
                      if isinstance(n, str)]  # fmt: skip
            if not asked_for(command, action.call, ontology.entities[action.entity_id], others, self.lang):
                reason = (f"sensitive action the command did not ask for (a clause must start with the action's verb, name {action.entity_id} "
                          f"or an alias, say a position it sets, and not negate it): {action.call.to_line()}")  # fmt: skip
                _LOGGER.warning("Not executed: %s; command %r", reason, command[:200])
                return self._finish(result, OUTCOME_REFUSED, Reply("sensitive_unrequested", {"name": entity_name(ontology, action.entity_id)}), reason)
        if listed:
            return self._ask_back(result, actions, listed, ontology)
        return None

    @staticmethod
    def _ask_back(result: TurnResult, actions: Sequence[PreparedAction], sensitive: Sequence[PreparedAction], ontology: Ontology) -> TurnResult:
        """Nothing runs: the plan waits for the user's "yes" (:class:`.sensitive.PendingPlans`)."""
        result.outcome = OUTCOME_CONFIRM
        result.pending = tuple(a.call for a in actions)
        result.replies.extend(question(a, ontology) for a in sensitive)
        result.reason = f"sensitive action waits for the user's yes: {'; '.join(a.call.to_line() for a in sensitive)}"
        _LOGGER.info("Asked back: %s", result.reason)
        return result

    async def _async_act(self, result: TurnResult, calls: Sequence[ToolCall], ontology: Ontology, command: str, *,
                         confirmed: bool = False) -> TurnResult:  # fmt: skip
        """Check the whole plan (the live home, then the sensitive policy unless ``confirmed``), then execute it in order."""
        actions = prepare_actions(calls, ontology, self._home)
        for action in actions:
            name = entity_name(ontology, action.entity_id)
            if not self._home.exists(action.entity_id):
                return self._finish(result, OUTCOME_REFUSED, Reply("not_present", {"name": name}), f"{action.entity_id} is not in the home now")
            if not self._home.supports(action):
                reason = f"{action.entity_id} lacks the supported feature for {action.action}: {action.call.to_line()}"
                return self._finish(result, OUTCOME_REFUSED, Reply("not_capable", {"name": name}), reason)
        if not confirmed and (stop := self._policy_stop(result, actions, ontology, command)) is not None:
            return stop
        for action in actions:
            try:
                async with asyncio.timeout(self.action_timeout):
                    await self._home.async_execute(action)
            except TimeoutError:
                result.replies.extend(confirmation(done, ontology) for done in result.executed)
                name = entity_name(ontology, action.entity_id)
                reason = f"{action.action} on {action.entity_id} did not respond within {self.action_timeout} s"
                return self._finish(result, OUTCOME_PARTIAL, Reply("action_timeout", {"name": name}), reason)
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
        # A refusal is the agent working as designed; a failed action or a down server is not.
        level = logging.INFO if outcome == OUTCOME_REFUSED else logging.WARNING
        _LOGGER.log(level, "%s: %s", "Stopped" if outcome == OUTCOME_PARTIAL else "Not executed", reason)
        return result
