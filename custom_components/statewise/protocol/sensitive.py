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
  clause of the command that starts with the tool's verb for that action (after at most
  a polite "please" / "can you"), names the entity by its name or an alias (not inside
  a longer name of another device; an area alone is not enough), says the value of a
  position it sets, and holds no negation ("don't", "never", "nobody"...). A question
  ("is the garage door open?", "how do I unlock...") asks for nothing. An entity the
  user listed has no registry verb, so under *allow* it is asked back as under *confirm*.

The words here are English, like the model's training data (the language seam is
issue 19's); everything that is not in these lists is refused, never guessed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .tools import ToolCall, is_sensitive, load_tools

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
NEGATIONS = ("not", "never", "dont", "cannot", "no", "nope", "stop", "cancel", "without", "nobody", "no one", "nothing", "none",
             "neither", "nor", "unless", "except", "instead")  # fmt: skip
# Every "n't" (don't, wouldn't, isn't...): words() turns the apostrophe into a space.
_NT = re.compile(r"\w+n t ")
# What may stand before the verb of a request: "please unlock...", "can you please open...".
REQUEST_PREFIXES = ("", "please ", "can you ", "could you ", "would you ", "will you ", "can you please ", "could you please ",
                    "would you please ", "hey ", "ok ", "okay ", "now ")  # fmt: skip
# Where one request ends and the next begins ("turn on the porch light and unlock the front door").
_CLAUSE_BREAK = re.compile(r"[,;.!?]+|\b(?:and then|then|and|also)\b")


def words(text: str) -> str:
    """Lower-case words separated by single spaces, padded with spaces, for whole-word matching."""
    return " " + " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split()) + " "


def says(text: str, phrase: str) -> bool:
    """True when ``text`` holds ``phrase`` as whole words."""
    wanted = words(phrase)
    return bool(wanted.strip()) and wanted in words(text)


def negated(text: str) -> bool:
    """True when the text holds a negation: such a request never counts as asking for a sensitive action."""
    return bool(_NT.search(words(text))) or any(says(text, word) for word in NEGATIONS)


def clauses(command: str) -> list[str]:
    """The command's requests, each as :func:`words` ("porch light on and unlock the door" -> two)."""
    return [w for part in _CLAUSE_BREAK.split(command.casefold()) if (w := words(part)).strip()]


def is_affirmative(text: str) -> bool:
    """True when the whole reply is a plain "yes" (politeness words aside); "yes but not the door" is not."""
    kept = [w for w in words(text).split() if w not in _POLITE]
    return " ".join(kept) in AFFIRMATIVE


def is_sensitive_action(call: ToolCall, entity_id: str, entity: Mapping[str, Any], extra: Iterable[str] = ()) -> bool:
    """The registry's rule for the call's value and device class, or an entity the user listed as sensitive."""
    return entity_id in set(extra) or is_sensitive(call, entity.get("device_class"))


def _names(entity: Mapping[str, Any]) -> list[str]:
    return [words(n) for n in (entity.get("name"), *(entity.get("aliases") or [])) if isinstance(n, str) and words(n).strip()]


def _starts_with_verb(clause: str, verbs: Iterable[str]) -> bool:
    return any(clause.startswith(" " + prefix + words(verb).strip() + " ") for verb in verbs for prefix in REQUEST_PREFIXES)


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


def asked_for(command: str, call: ToolCall, entity: Mapping[str, Any], other_names: Iterable[str] = ()) -> bool:
    """True when the user's own command asks for this sensitive action on this entity (see the module docstring).

    ``other_names``: the names and aliases of the home's other devices, so that "Door" is not
    named by "unlock the back door lock".
    """
    verbs = call.spec.sensitive_verbs if is_sensitive(call, entity.get("device_class")) else ()
    if not verbs or negated(command) or (command.strip().endswith("?") and not _starts_with_verb(words(command), verbs)):
        return False
    rule = call.spec.mapping.get("sensitive") or {}
    value = call.arguments.get(rule.get("arg", "")) if "min" in rule else None  # a position: the number must be said
    others = list(other_names)
    for clause in clauses(command):
        if not _starts_with_verb(clause, verbs) or not _names_it(clause, entity, others):
            continue
        if value is None or f" {int(value) if isinstance(value, float) and value.is_integer() else value} " in clause:
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
