"""One cleaning step for every text that enters a prompt: no chat-template control text.

A name, alias, area, floor, state string or typed command can hold the text of a
chat-template control token (``<|im_end|>``, ``<|im_start|>user``, ``<think>``,
``<tool_call>``...). Tokenizers and llama.cpp servers parse such text in a prompt
as the special token itself, so one entity name could close the system turn and
forge a user turn. :func:`clean_text` removes every such marker (Qwen3's special
tokens, ``<think>``/``<tool_call>``/``<tool_response>`` tags and any ``<|...|>``
marker, in ASCII or full-width bars) until none is left, plus lone surrogates
(not text, cannot be encoded). :func:`clean_name` also folds control characters
and line breaks into single spaces: a name is one line.

Used by :func:`.prompt.render_messages` (the command and the whole system text)
and by :meth:`.export_format.Ontology.from_entities` (so exports, the live
ontology and dataset rows never carry it); ``docs/SECURITY.md`` lists the paths.
"""

from __future__ import annotations

import re
import unicodedata

# <|anything|> (also with full-width bars, as some templates write them) and the tag-shaped special tokens.
# Never across a quote or backslash: cleaning a whole JSON text must not join two strings (and no real token holds one).
CONTROL_MARKER = re.compile(r"<\s*[|｜][^<>\n\"\\]{0,64}?[|｜]\s*>|<\s*/?\s*(?:think|tool_call|tool_response)\s*>", re.IGNORECASE)
# What is left of a marker in a name ("Lamp <| left"): the export schema refuses it, so a name never keeps it.
MARKER_START = re.compile(r"<\s*[|｜]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """``text`` without control markers or lone surrogates (repeated until stable: ``<|im_<|x|>end|>`` too)."""
    text = _SURROGATES.sub("", text)
    while True:
        cleaned = CONTROL_MARKER.sub("", text)
        if cleaned == text:
            return cleaned
        text = cleaned


def clean_name(text: str) -> str:
    """A one-line name: :func:`clean_text`, control characters and runs of whitespace folded to one space."""
    text = MARKER_START.sub(" ", clean_text(text))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return _SPACES.sub(" ", text).strip()


def has_control_text(text: str) -> bool:
    """True when :func:`clean_text` would change ``text``."""
    return clean_text(text) != text
