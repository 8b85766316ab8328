"""Sensitive actions: which ones, when the user's own words ask for them, and confirmations.

An action is sensitive when the tool registry says so for its value and device
class (``unlock``, ``open`` a garage door, gate or door, a gas valve:
``x-statewise.sensitive`` in :mod:`.tools`) or when its entity is one the user
listed in the agent's options (a gate relay switch, an alarm script). The agent's
policy decides what happens to a plan that holds one:

- *block*: nothing runs, and the agent says why;
- *confirm*: nothing runs; the agent asks back, keeps the plan (:class:`PendingPlans`)
  and runs exactly that plan, checked again against the live home, only after an
  affirmative reply in the same conversation from the same user within
  :data:`CONFIRM_TTL` seconds (:func:`is_affirmative`); anything else cancels it;
- *allow*: runs only when the user's own command asks for it (:func:`asked_for`): a
  clause of the command that is one of the language's request frames for that action
  (English: it starts with the verb, after at most a polite "please" / "can you";
  German also "schließ die Haustür auf", "die Haustür aufschließen"), names the entity
  by its name or an alias (not inside a longer name of another device; an area alone is
  not enough), says the value of a position it sets, and a command that holds no
  negation anywhere ("don't", "nicht", "ne ... pas", "niet"). A question ("is the garage
  door open?", "how do I unlock...") asks for nothing. An entity the user listed has no
  frame to say, and a language without frames for an action has none either: under
  *allow* those are asked back as under *confirm*, never run.

The words are the request's language's (:mod:`.language`, ``languages/<lang>/agent.yaml``);
everything that is not in those lists is refused, never guessed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .language import AgentWords, Frame, load_agent_words, words
from .tools import ToolCall, is_sensitive, load_tools

POLICY_BLOCK = "block"
POLICY_CONFIRM = "confirm"
POLICY_ALLOW = "allow"
POLICIES = (POLICY_BLOCK, POLICY_CONFIRM, POLICY_ALLOW)
# The evaluator scores the model's plan, not Home Assistant's safety policy: never offered to users.
POLICY_EVALUATE = "evaluate"

CONFIRM_TTL = 30.0  # seconds an asked-back plan waits for "yes"


def _english() -> AgentWords:
    return load_agent_words("en")


def negated(text: str, lang: AgentWords | None = None) -> bool:
    """True when the text holds a negation anywhere: such a request never counts as asking for a sensitive action."""
    lang = lang or _english()
    normal = words(text)
    return any(p.search(normal) for p in lang.negation_patterns) or any(f" {n} " in normal for n in lang.negations)


def clauses(command: str, lang: AgentWords | None = None) -> list[str]:
    """The command's requests, each as :func:`words` ("porch light on and unlock the door" -> two)."""
    lang = lang or _english()
    return [w for part in lang.clause_break.split(command.casefold()) if (w := words(part)).strip()]


def is_affirmative(text: str, lang: AgentWords | None = None) -> bool:
    """True when the whole reply is a plain "yes" (polite phrases aside); "yes but not the door" is not."""
    lang = lang or _english()
    kept = words(text)
    for phrase in lang.polite:
        while f" {phrase} " in kept:
            kept = kept.replace(f" {phrase} ", " ")
    return kept.strip() in lang.affirmatives


def is_sensitive_action(call: ToolCall, entity_id: str, entity: Mapping[str, Any], extra: Iterable[str] = ()) -> bool:
    """The registry's rule for the call's value and device class, or an entity the user listed as sensitive."""
    return entity_id in set(extra) or is_sensitive(call, entity.get("device_class"))


def _names(entity: Mapping[str, Any]) -> list[str]:
    return [words(n) for n in (entity.get("name"), *(entity.get("aliases") or [])) if isinstance(n, str) and words(n).strip()]


def _fits(tokens: Sequence[str], frame: Frame, allowed: frozenset[str] | None) -> bool:
    """The tokens are the frame: its words first and last, the slot between them.

    When words close the frame (a separable or final verb), the slot may hold only ``allowed`` words
    (the device's names, fillers, the position); ``allowed=None`` only checks the shape.
    """
    before, after = frame.before, frame.after
    if tuple(tokens[: len(before)]) != before:
        return False
    if not after:
        return True
    middle = tokens[len(before) : len(tokens) - len(after)]
    if len(tokens) < len(before) + len(after) + 1 or tuple(tokens[len(tokens) - len(after) :]) != after:
        return False
    return allowed is None or all(token in allowed for token in middle)


def _is_request(text: str, frames: Iterable[Frame], lang: AgentWords, allowed: frozenset[str] | None, *, polite: bool = False) -> bool:
    """``text`` (as :func:`words`) is one request frame, after at most one of the language's request prefixes.

    ``polite``: only after a prefix that is said ("can you ...?"), for a command that ends with "?".
    """
    tokens = text.split()
    if any(tuple(tokens[: len(q)]) == q for q in lang.questions):
        return False
    frames = tuple(frames)
    prefixes = [p for p in lang.request_prefixes if p or not polite]
    return any(tuple(tokens[: len(prefix)]) == prefix and any(_fits(tokens[len(prefix) :], f, allowed) for f in frames) for prefix in prefixes)


def _names_it(clause: str, entity: Mapping[str, Any], others: Iterable[str]) -> bool:
    """The clause names the entity: one of its names, not only as part of a longer name of another device."""
    own_names = _names(entity)
    for other in sorted({words(o) for o in others}, key=len, reverse=True):
        # "back door lock" holds "door": that mention is the other device's
        if other.strip() and other in clause and other not in own_names and any(own in other for own in own_names):
            clause = clause.replace(other, " ")
    return any(own in clause for own in own_names)


def can_be_sensitive(domain: str, device_class: str | None) -> bool:
    """True when some tool's sensitive rule applies to an entity of this domain and class (a lock, a garage door...)."""
    for spec in load_tools().values():
        rule = spec.mapping.get("sensitive")
        if rule and domain in spec.domains and (rule.get("device_classes") is None or device_class in rule["device_classes"]):
            return True
    return False


def has_words_for(call: ToolCall, entity: Mapping[str, Any], lang: AgentWords | None = None) -> bool:
    """True when the language has request frames for this registry-sensitive action (else *allow* asks back)."""
    return is_sensitive(call, entity.get("device_class")) and bool((lang or _english()).frames_for(call))


def asked_for(command: str, call: ToolCall, entity: Mapping[str, Any], other_names: Iterable[str] = (), lang: AgentWords | None = None) -> bool:
    """True when the user's own command asks for this sensitive action on this entity (see the module docstring).

    ``other_names``: the names and aliases of the home's other devices, so that "Door" is not
    named by "unlock the back door lock". ``lang``: the command's language's words (English by default).
    """
    lang = lang or _english()
    frames = lang.frames_for(call) if is_sensitive(call, entity.get("device_class")) else ()
    if not frames or negated(command, lang):
        return False
    rule = call.spec.mapping.get("sensitive") or {}
    value = call.arguments.get(rule.get("arg", "")) if "min" in rule else None  # a position: the number must be said
    said = None if value is None else str(int(value) if isinstance(value, float) and value.is_integer() else value)
    # What may stand between a separable or final verb and its frame's first words: the device's names, its area, fillers, the position.
    places = [words(p) for p in (entity.get("area"), *(entity.get("area_aliases") or [])) if isinstance(p, str)]
    allowed = lang.fillers | {w for name in (*_names(entity), *places) for w in name.split()} | ({said} if said else set())
    if command.strip().endswith("?") and not _is_request(words(command), frames, lang, allowed, polite=lang.questions_need_prefix):
        return False
    others = list(other_names)
    for clause in clauses(command, lang):
        if not _is_request(clause, frames, lang, allowed) or not _names_it(clause, entity, others):
            continue
        if said is None or f" {said} " in clause:
            return True
    return False


@dataclass(frozen=True, slots=True)
class PendingPlan:
    """A plan waiting for the user's "yes": the exact calls, the command and who asked."""

    calls: tuple[ToolCall, ...]
    command: str
    user_id: str | None
    expires: float


@dataclass
class PendingPlans:
    """Asked-back plans by conversation id; any next message takes the plan out (it is used at most once)."""

    ttl: float = CONFIRM_TTL
    clock: Callable[[], float] | None = None  # default: time.monotonic, read at each use
    _plans: dict[str, PendingPlan] = field(default_factory=dict)

    def _now(self) -> float:
        return self.clock() if self.clock is not None else time.monotonic()

    def put(self, conversation_id: str, calls: Iterable[ToolCall], command: str, user_id: str | None) -> PendingPlan:
        """Keep a plan for ``conversation_id`` (replacing an older one there)."""
        self._drop_expired()
        plan = PendingPlan(tuple(calls), command, user_id, self._now() + self.ttl)
        self._plans[conversation_id] = plan
        return plan

    def take(self, conversation_id: str | None, user_id: str | None) -> PendingPlan | None:
        """The conversation's plan, removed; ``None`` when there is none, it expired, or another user answers."""
        self._drop_expired()
        plan = self._plans.pop(conversation_id, None) if conversation_id else None
        if plan is None or plan.user_id != user_id:
            return None
        return plan

    def __len__(self) -> int:
        """Plans still waiting."""
        self._drop_expired()
        return len(self._plans)

    def _drop_expired(self) -> None:
        now = self._now()
        for key in [k for k, plan in self._plans.items() if plan.expires <= now]:
            del self._plans[key]
