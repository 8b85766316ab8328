"""The agent's words per language: what a household says to ask for, refuse or confirm a sensitive action.

Each language is a folder ``languages/<lang>/``; the agent's part of it is ``agent.yaml``
(the dataset builder's files sit beside it). The tool JSON schemas describe the wire
format only; the words a user says live here, so a language is added by adding a folder:

- ``verbs``: per sensitive tool, per sensitive value (or, for a position rule, its
  argument name), the request *frames* that ask for that action. A frame is words with
  one ``*`` for the rest of the request: ``unlock *`` (the clause starts with the verb),
  ``schließ * auf`` (a separable verb around its object), ``* aufschließen`` (verb last).
  When words follow the ``*``, what the ``*`` covers may hold only the device's name or
  alias, ``fillers`` (articles, "bitte") and the position said, so "wer kann die
  Haustür aufschließen" asks for nothing;
- ``request_prefixes``: what may stand before a frame ("please", "can you");
- ``negations`` (whole words anywhere in the command) and ``negation_patterns``
  (regular expressions over the normalised words, English "n't"): a negated command never
  asks for a sensitive action, wherever the negation stands (fr "ne ... pas", de/nl
  "nicht"/"niet" after the object);
- ``questions``: words that open a question; a clause that starts with one asks for nothing;
- ``questions_need_prefix`` (default true): a command that ends with "?" asks only when it opens with
  a request prefix ("kannst du ... ?", "¿puedes ... ?"): a bare "Haustür aufschließen?" or "¿abre la
  puerta?" (also "does it open the door?") is a question. English keeps its rule from before the
  languages (false: "unlock the front door?" asks);
- ``clause_breaks``: words between two requests ("and then", "und");
- ``affirmatives`` and ``polite``: the whole replies that confirm an asked-back plan once
  the polite phrases are dropped.

A language without an ``agent.yaml`` has no words: under *allow* the agent asks back
instead of acting, and no reply confirms (:mod:`.sensitive`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from .tools import ToolCall, load_tools

LANGUAGES_DIR = Path(__file__).resolve().parent / "languages"
AGENT_FILE = "agent.yaml"
SLOT = "*"
DEFAULT_LANGUAGE = "en"

_PHRASES = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 80}, "uniqueItems": True}
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["verbs", "request_prefixes", "negations", "questions", "clause_breaks", "affirmatives", "polite"],
    "properties": {
        "verbs": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": {**_PHRASES, "minItems": 1}},
        },
        "request_prefixes": _PHRASES,
        "negations": {**_PHRASES, "minItems": 1},
        "negation_patterns": _PHRASES,
        "questions": _PHRASES,
        "fillers": _PHRASES,
        "clause_breaks": _PHRASES,
        "affirmatives": {**_PHRASES, "minItems": 1},
        "polite": _PHRASES,
        "questions_need_prefix": {"type": "boolean"},
    },
}
_VALIDATOR = Draft202012Validator(_SCHEMA)


class LanguageError(ValueError):
    """A language folder that cannot be used: one line naming the file and the field."""


def words(text: str) -> str:
    """Lower-case words separated by single spaces, padded with spaces, for whole-word matching.

    ``casefold`` makes "ß" "ss", so "aufschließen" and a Swiss "aufschliessen" are the same words.
    """
    return " " + " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split()) + " "


@dataclass(frozen=True, slots=True)
class Frame:
    """One request frame: the words before the slot and the words after it (either may be empty)."""

    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgentWords:
    """One language's words for the sensitive-action policy (see the module docstring). Empty: no words at all."""

    language: str
    verbs: Mapping[str, Mapping[str, tuple[Frame, ...]]] = field(default_factory=lambda: MappingProxyType({}))
    request_prefixes: tuple[tuple[str, ...], ...] = ((),)
    negations: tuple[str, ...] = ()
    negation_patterns: tuple[re.Pattern[str], ...] = ()
    questions: tuple[tuple[str, ...], ...] = ()
    fillers: frozenset[str] = frozenset()
    clause_break: re.Pattern[str] = re.compile(r"[,;.!?¿¡]+")
    affirmatives: frozenset[str] = frozenset()
    polite: tuple[str, ...] = ()
    questions_need_prefix: bool = True

    def frames_for(self, call: ToolCall) -> tuple[Frame, ...]:
        """The frames that ask for this call's sensitive action: keyed by its value, or by the argument of a position rule."""
        rule = call.spec.mapping.get("sensitive") or {}
        if not rule:
            return ()
        key = rule["arg"] if "min" in rule else call.arguments.get(rule["arg"])
        return self.verbs.get(call.name, {}).get(str(key), ())


@cache
def _folders() -> tuple[str, ...]:
    if not LANGUAGES_DIR.is_dir():
        return ()
    return tuple(sorted(p.name for p in LANGUAGES_DIR.iterdir() if (p / AGENT_FILE).is_file()))


def available_languages() -> list[str]:
    """The languages the agent has words for: the folders under ``languages/`` that hold an ``agent.yaml`` (read once)."""
    return list(_folders())


@cache
def shipped_words() -> Mapping[str, AgentWords]:
    """Every shipped language's words, read and checked once (Home Assistant calls this in its executor at setup)."""
    return MappingProxyType({language: load_agent_words(language) for language in _folders()})


def language_for(requested: str | None, available: list[str] | None = None) -> str | None:
    """The folder for a Home Assistant language tag: the tag itself, else its primary subtag ("de-CH" -> "de")."""
    if not requested:
        return None
    known = available_languages() if available is None else available
    tag = requested.replace("_", "-")
    for candidate in (tag, tag.split("-", 1)[0], tag.casefold(), tag.split("-", 1)[0].casefold()):
        if candidate in known:
            return candidate
    return None


def words_for(requested: str | None) -> AgentWords:
    """The words for a request's language (no words when the agent has none for it)."""
    shipped = shipped_words()
    language = language_for(requested, list(shipped))
    return shipped[language] if language else AgentWords(requested or "")


@cache
def load_agent_words(language: str, directory: Path | None = None) -> AgentWords:
    """Read and check ``<directory or languages>/<language>/agent.yaml`` (cached: read once per process).

    Raises :class:`LanguageError` with one line that names the file and the field.
    """
    path = (directory or LANGUAGES_DIR) / language / AGENT_FILE
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise LanguageError(f"{path}: cannot be read ({err.strerror or err})") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise LanguageError(f"{path}:{where} not YAML ({getattr(err, 'problem', None) or err})") from err
    if not isinstance(doc, dict):
        raise LanguageError(f"{path}: must be a mapping of fields, not {type(doc).__name__}")
    error = next(iter(sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise LanguageError(f"{path}: {where}: {error.message}")
    return _build(language, doc, path)


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(words(text).split())


def _build(language: str, doc: Mapping[str, Any], path: Path) -> AgentWords:
    tools = load_tools()
    verbs: dict[str, Mapping[str, tuple[Frame, ...]]] = {}
    for tool, by_value in doc["verbs"].items():
        rule = (tools[tool].mapping.get("sensitive") or {}) if tool in tools else {}
        if not rule:
            raise LanguageError(f"{path}: verbs.{tool}: not a tool with a sensitive action ({', '.join(_sensitive_tools())})")
        keys = [rule["arg"]] if "min" in rule else [str(v) for v in rule["values"]]
        frames: dict[str, tuple[Frame, ...]] = {}
        for key, texts in by_value.items():
            if key not in keys:
                raise LanguageError(f"{path}: verbs.{tool}.{key}: not its sensitive value ({', '.join(keys)})")
            frames[key] = tuple(_frame(text, f"{path}: verbs.{tool}.{key}") for text in texts)
        verbs[tool] = MappingProxyType(frames)
    patterns = []
    for index, text in enumerate(doc.get("negation_patterns", ())):
        try:
            patterns.append(re.compile(text))
        except re.error as err:
            raise LanguageError(f"{path}: negation_patterns.{index}: not a regular expression ({err})") from err
    breaks = sorted({" ".join(_phrase(b)) for b in doc["clause_breaks"] if _phrase(b)}, key=len, reverse=True)
    alternatives = "|".join(re.escape(b) for b in breaks)
    clause_break = re.compile(r"[,;.!?¿¡]+" + (rf"|\b(?:{alternatives})\b" if alternatives else ""))
    prefixes = sorted({_phrase(p) for p in ("", *doc["request_prefixes"])}, key=len, reverse=True)
    questions = tuple(sorted({_phrase(q) for q in doc["questions"] if _phrase(q)}))
    if clash := sorted(" ".join(p) for p in prefixes if any(p[: len(q)] == q for q in questions)):
        raise LanguageError(f"{path}: request_prefixes: {clash[0]!r} starts with a question word, so it would never count")
    return AgentWords(
        language=language,
        verbs=MappingProxyType(verbs),
        request_prefixes=tuple(prefixes),
        negations=tuple(" ".join(_phrase(n)) for n in doc["negations"] if _phrase(n)),
        negation_patterns=tuple(patterns),
        questions=questions,
        fillers=frozenset(w for f in doc.get("fillers", ()) for w in _phrase(f)),
        clause_break=clause_break,
        affirmatives=frozenset(" ".join(_phrase(a)) for a in doc["affirmatives"] if _phrase(a)),
        polite=tuple(sorted({" ".join(_phrase(p)) for p in doc["polite"] if _phrase(p)}, key=len, reverse=True)),
        questions_need_prefix=bool(doc.get("questions_need_prefix", True)),
    )


def _frame(text: str, where: str) -> Frame:
    """``"schließ * auf"`` -> Frame(("schliess",), ("auf",)); exactly one slot and at least one word."""
    tokens = text.split()
    if tokens.count(SLOT) != 1:
        raise LanguageError(f"{where}: {text!r}: a frame has exactly one {SLOT} (the rest of the request)")
    index = tokens.index(SLOT)
    before, after = _phrase(" ".join(tokens[:index])), _phrase(" ".join(tokens[index + 1 :]))
    if not before and not after:
        raise LanguageError(f"{where}: {text!r}: a frame needs a verb around its {SLOT}")
    return Frame(before, after)


def _sensitive_tools() -> list[str]:
    return sorted(name for name, spec in load_tools().items() if spec.mapping.get("sensitive"))
