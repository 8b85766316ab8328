r"""Prompt v0: the plan's strict format as chat messages.

system    = ``ONTOLOGY: <json>`` and, only when state was fetched, ``\\nSTATE: <json>``
user      = the natural-language command
assistant = JSON tool-call lines (one per line) or plain text

Training rows and the Home Assistant agent both call :func:`render_messages`;
nothing else builds prompt text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .export_format import Ontology
from .state import state_json
from .tools import ToolCall

ONTOLOGY_PREFIX = "ONTOLOGY: "
STATE_PREFIX = "STATE: "
# Passed to the chat template at training and serving time: no <think> block.
CHAT_TEMPLATE_KWARGS: dict[str, Any] = {"enable_thinking": False}


def system_text(ontology: Ontology, state: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The system message; STATE only when ``state`` is given (even if empty)."""
    text = ONTOLOGY_PREFIX + ontology.prompt_json
    if state is not None:
        text += "\n" + STATE_PREFIX + state_json(state)
    return text


def render_messages(
    ontology: Ontology,
    command: str,
    state: Mapping[str, Mapping[str, Any]] | None = None,
    answer: str | None = None,
) -> list[dict[str, str]]:
    """Chat messages for one request (plus the assistant answer for training)."""
    messages = [
        {"role": "system", "content": system_text(ontology, state)},
        {"role": "user", "content": command},
    ]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def render_answer(answer: str | Sequence[ToolCall]) -> str:
    """Assistant text: plain text as is, or one canonical JSON line per call."""
    if isinstance(answer, str):
        return answer
    return "\n".join(call.to_line() for call in answer)


def parse_system_text(text: str) -> tuple[Ontology, dict[str, dict[str, Any]] | None]:
    """Inverse of :func:`system_text`: the ontology (validation-equivalent) and STATE, if any.

    Lets evaluators score self-contained dataset rows. Entities come back with
    ``domain`` from the id, ``present`` true unless stated, and the defaults
    :func:`~.export_format.prompt_entity` leaves out; re-rendering gives the same text.
    """
    if not text.startswith(ONTOLOGY_PREFIX):
        raise ValueError("system text does not start with ONTOLOGY")
    body, sep, state_text = text[len(ONTOLOGY_PREFIX) :].partition("\n" + STATE_PREFIX)
    entities = [
        {
            "id": ent["id"],
            "name": ent["name"],
            "aliases": ent.get("aliases", []),
            "area": ent.get("area"),
            "area_aliases": ent.get("area_aliases", []),
            "floor": ent.get("floor"),
            "domain": ent["id"].split(".", 1)[0],
            "device_class": ent.get("device_class"),
            "capabilities": ent.get("capabilities", {}),
            "present": ent.get("present", True),
        }
        for ent in json.loads(body)
    ]
    state = json.loads(state_text) if sep else None
    return Ontology.from_entities(entities), state
