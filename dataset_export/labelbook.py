"""The teacher is a function: one answer per (ontology, STATE, command text), across a build's splits."""

from __future__ import annotations

import hashlib
from typing import Any

from statewise_protocol import Ontology, dumps, state_json

from .intents import Intent


def intent_label(intent: Intent) -> str:
    """The ``intent`` row field: canonical JSON of the intent (reusable by the evaluator)."""
    return dumps(intent.as_dict())


class LabelBook:
    """The teacher is a function: one (ontology, STATE or none, command text) has one answer, across train and held-out.

    :meth:`claim` records an answer and refuses a different one for the same key (the
    generator then drops that candidate); :meth:`phrasing` picks the text phrasing from the
    key, so a refusal is worded the same way every time its sentence comes up.
    """

    def __init__(self) -> None:
        """An empty book."""
        self.answers: dict[str, tuple[str, str]] = {}
        self.conflicts = 0

    @staticmethod
    def key(ontology: Ontology, state: dict[str, dict[str, Any]] | None, text: str) -> str:
        """The teacher's input, as one string."""
        return hashlib.sha256("\x1f".join((ontology.prompt_json, state_json(state) if state is not None else "-", text)).encode()).hexdigest()

    @staticmethod
    def phrasing(key: str) -> int:
        """The phrasing variant for a key."""
        return int(key[:8], 16)

    def claim(self, key: str, text: str, answer: str) -> bool:
        """Record ``answer`` for ``key``; False (and counted) when the key already has another one."""
        known = self.answers.get(key)
        if known is not None and known[1] != answer:
            self.conflicts += 1
            return False
        self.answers.setdefault(key, (text, answer))
        return True
