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
- *allow*: runs only when the user's own command asks for it (:func:`asked_for`):
  the entity's name or alias (an area alone is not enough), the tool's verb for that
  action when it has one, and no negation ("don't", "never"...).

The words here are English, like the model's training data (the language seam is
issue 19's); everything that is not in these lists is refused, never guessed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .tools import ToolCall, is_sensitive

POLICY_BLOCK = "block"
POLICY_CONFIRM = "confirm"
POLICY_ALLOW = "allow"
POLICIES = (POLICY_BLOCK, POLICY_CONFIRM, POLICY_ALLOW)
# The evaluator scores the model's plan, not Home Assistant's safety policy: never offered to users.
POLICY_EVALUATE = "evaluate"

CONFIRM_TTL = 30.0  # seconds an asked-back plan waits for "yes"

# Whole replies that confirm (after dropping politeness words), and words that negate a request.
AFFIRMATIVE = frozenset({
    "yes", "yeah", "yep", "yup", "sure", "ok", "okay", "confirm", "confirmed", "do it", "go ahead", "go for it",
    "yes do it", "yes go ahead", "yes confirm", "yes please do", "please do", "correct", "affirmative", "that s right",
})  # fmt: skip
_POLITE = frozenset({"please", "thanks", "thank", "you"})
NEGATIONS = ("not", "never", "don t", "dont", "do not", "doesn t", "didn t", "won t", "shouldn t", "mustn t", "can t",
             "cannot", "no", "nope", "stop", "cancel", "without")  # fmt: skip


def words(text: str) -> str:
    """Lower-case words separated by single spaces, padded with spaces, for whole-word matching."""
    return " " + " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split()) + " "


def says(text: str, phrase: str) -> bool:
    """True when ``text`` holds ``phrase`` as whole words."""
    wanted = words(phrase)
    return bool(wanted.strip()) and wanted in words(text)


def negated(text: str) -> bool:
    """True when the text holds a negation: such a request never counts as asking for a sensitive action."""
    return any(says(text, word) for word in NEGATIONS)


def is_affirmative(text: str) -> bool:
    """True when the whole reply is a plain "yes" (politeness words aside); "yes but not the door" is not."""
    kept = [w for w in words(text).split() if w not in _POLITE]
    return " ".join(kept) in AFFIRMATIVE


def is_sensitive_action(call: ToolCall, entity_id: str, entity: Mapping[str, Any], extra: Iterable[str] = ()) -> bool:
    """The registry's rule for the call's value and device class, or an entity the user listed as sensitive."""
    return entity_id in set(extra) or is_sensitive(call, entity.get("device_class"))


def asked_for(command: str, call: ToolCall, entity: Mapping[str, Any]) -> bool:
    """True when the user's own command asks for this sensitive action on this entity (see the module docstring)."""
    if negated(command):
        return False
    names = [entity.get("name"), *(entity.get("aliases") or [])]
    if not any(isinstance(n, str) and says(command, n) for n in names):
        return False
    verbs = call.spec.sensitive_verbs if is_sensitive(call, entity.get("device_class")) else ()
    return not verbs or any(says(command, verb) for verb in verbs)


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
