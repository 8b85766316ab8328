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
from pathlib import Path
from typing import Any

from .export_format import ExportError, Ontology, load_json, parse_ontology
from .ontology_json import entities_from_prompt
from .sanitize import clean_text
from .state import state_json
from .tools import ToolCall

ONTOLOGY_PREFIX = "ONTOLOGY: "
STATE_PREFIX = "STATE: "
# Passed to the chat template at training and serving time: no <think> block.
CHAT_TEMPLATE_KWARGS: dict[str, Any] = {"enable_thinking": False}
# The plan's max sequence length: the token budget of one example (prompt + answer) at training and serving time.
PLAN_MAX_LENGTH = 2048
# ``--max-length auto``: the plan's 2048 when the home's longest example fits it, else the smallest of these that does.
AUTO_MAX_LENGTHS = (PLAN_MAX_LENGTH, 3072, 4096, 6144, 8192)


# Characters per Qwen3 token of a system text, a lower bound measured on the example homes (4.0 to 4.4):
# where the tokenizer is not at hand (Home Assistant), ``len(text) / CHARS_PER_TOKEN`` never underestimates.
CHARS_PER_TOKEN = 3.9


def auto_max_length(longest: int) -> int | None:
    """The budget ``--max-length auto`` chooses for a longest example of ``longest`` tokens (``None``: none holds it)."""
    return next((n for n in AUTO_MAX_LENGTHS if longest <= n), None)


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
    """Chat messages for one request (plus the assistant answer for training).

    The system text and the command go through :func:`.sanitize.clean_text`: no text, whoever
    wrote it, reaches the chat template as a control token (the ontology's names are already
    clean; STATE values are bounded by :func:`.state.entity_state`; this is the last gate).
    """
    messages = [
        {"role": "system", "content": clean_text(system_text(ontology, state))},
        {"role": "user", "content": clean_text(command)},
    ]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def render_answer(answer: str | Sequence[ToolCall]) -> str:
    """Assistant text: plain text as is, or one canonical JSON line per call."""
    if isinstance(answer, str):
        return answer
    return "\n".join(call.to_line() for call in answer)


def _ontology_from_prompt(document: Any) -> Ontology:
    """The ontology an ONTOLOGY JSON value describes (``ValueError`` naming the field when it is not one)."""
    return Ontology.from_entities(entities_from_prompt(document))


def load_home(path: str | Path) -> tuple[Ontology, dict[str, dict[str, Any]] | None]:
    """An ontology (and STATE, if the file has one) from any form a user has at hand, validated.

    ``ontology.json`` of an export; the ONTOLOGY JSON exactly as it appears in a prompt;
    or a whole system text (``ONTOLOGY: ...`` and perhaps ``STATE: ...``). Errors name the
    file and field in one line and never repeat the document.
    """
    path = Path(path)
    if not path.is_file():
        raise ExportError(str(path), "", "file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ExportError(str(path), "", f"not UTF-8 text ({err.reason})") from None
    if text.startswith(ONTOLOGY_PREFIX):
        try:
            ontology, state = parse_system_text(text.rstrip("\n"))
        except (KeyError, TypeError, ValueError) as err:
            raise ExportError(str(path), "ONTOLOGY", f"not a v0 system text ({type(err).__name__}: {str(err)[:80]})") from None
    else:
        document = load_json(path)
        if isinstance(document, dict) and document.get("format") == "statewise.ontology":
            return parse_ontology(document, str(path)), None
        try:
            ontology, state = _ontology_from_prompt(document), None
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ExportError(str(path), "$", "neither an export's ontology.json nor the ONTOLOGY JSON of a prompt "
                                             f"({type(err).__name__}: {str(err)[:80]})") from None
    return parse_ontology(ontology.document(), str(path)), state


def parse_system_text(text: str) -> tuple[Ontology, dict[str, dict[str, Any]] | None]:
    """Inverse of :func:`system_text`: the ontology (validation-equivalent) and STATE, if any.

    Lets evaluators score self-contained dataset rows. Entities come back with
    ``domain`` from the id, ``present`` true unless stated, and the defaults
    :mod:`.ontology_json` leaves out; re-rendering gives the same text.
    """
    if not text.startswith(ONTOLOGY_PREFIX):
        raise ValueError("system text does not start with ONTOLOGY")
    body, sep, state_text = text[len(ONTOLOGY_PREFIX) :].partition("\n" + STATE_PREFIX)
    state = json.loads(state_text) if sep else None
    return _ontology_from_prompt(json.loads(body)), state
