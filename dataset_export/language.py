"""A language the teacher reads and writes: Home Assistant's intents for it plus Statewise's own folder.

Everything spoken lives in data, never in code: Home Assistant's sentences, lists and
expansion rules come from ``home-assistant-intents`` (``get_intents(code)``; a language it
lacks is read with Statewise's templates alone), and Statewise's folder
``custom_components/statewise/protocol/languages/<code>/`` adds what those lack:

- ``sentences.yaml``: templates in hassil's format for what Home Assistant's intents do not say;
- ``words.yaml``: device and list nouns, articles, polite words, sample values (see the English file);
- ``phrases.yaml``: the teacher's replies, and per tool what an entity "can't" do and how a goal
  that already holds reads.

Adding a language is adding that folder (``docs/DATASET.md``, "Adding a language"). A
:class:`Language` is loaded once per code (:func:`load_language`) and handed down to the
reader, the generator and the teacher.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml
from home_assistant_intents import get_intents
from jsonschema import Draft202012Validator
from statewise_protocol import ExportError, __file__ as _protocol_file
from statewise_protocol.tools import by_value

from .variants import CATALOGUE, VARIANT_WORDS

LANGUAGES_DIR = Path(_protocol_file).resolve().parent / "languages"
FILES = ("sentences.yaml", "words.yaml", "phrases.yaml")

_LIST = {"type": "array", "items": {"type": "string"}}
_NOUNS = {"type": "object", "additionalProperties": {
    "type": "object", "required": ["spoken"], "additionalProperties": False,
    "properties": {"say": {"type": "string"}, "spoken": {**_LIST, "minItems": 1}, "words": _LIST}}}
WORDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["device_nouns", "list_nouns", "trailing_type_words", "light_words", "generic", "leading_articles", "articles",
                 "place_prepositions", "mention_filler", "in_place", "every_words", "glue", "place_words", "dwelling", "joining", "sequence", "and",
                 "polite_prefixes", "polite_suffixes", "media_sources", "inputs", "items", "unknown_names", "titles", "out_of_scope_values",
                 *VARIANT_WORDS],
    "properties": {"device_nouns": _NOUNS, "list_nouns": _NOUNS, "sequence": {"type": "string"}, "and": {"type": "string"},
                   "out_of_scope_values": {"type": "object", "additionalProperties": {"type": "string"}},
                   "class_words": {"type": "object", "additionalProperties": {"type": "string"}},
                   "domain_words": {"type": "object", "additionalProperties": {"type": "string"}},
                   "number_words": {"type": "string"},
                   "variant_added": {"type": "string", "pattern": "\\{device\\}"},
                   "variant_devices": {"type": "object", "required": [key for _, key, _, _ in CATALOGUE], "additionalProperties": {"type": "string"}},
                   "variant_renames": {**_LIST, "minItems": 1, "items": {"type": "string", "pattern": "\\{name\\}"}},
                   "variant_aliases": {**_LIST, "minItems": 1, "items": {"type": "string", "pattern": "\\{noun\\}"}}},
    "additionalProperties": _LIST,
}
REPLIES = ("unknown", "none_there", "none_at_all", "ambiguous", "many", "not_present", "missing", "noop", "unknown_level", "partly",
           "too_many")
PHRASES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [*REPLIES, "out_of_scope", "with_area", "the_place", "or", "others", "do_that", "set_to", "that", "device_that_can", "and_list",
                 "level", "already", "media_state", "media_verb", "tools"],
    "properties": {
        **{key: {**_LIST, "minItems": 1} for key in REPLIES},
        "level": {"type": "object", "required": ["brightness_step", "volume_step", "climate_step"], "additionalProperties": {"type": "string"}},
        "already": {"type": "object", "required": ["light_off", "full_brightness", "lowest_brightness", "highest_setting", "lowest_setting",
                                                   "playing", "player_off", "nothing_to", "no_volume", "full_volume", "zero_volume", "on_input"],
                    "additionalProperties": {"type": "string"}},
        "media_state": {"type": "object", "additionalProperties": {"type": "string"}},
        "media_verb": {"type": "object", "required": ["pause", "next", "previous", "stop"], "additionalProperties": {"type": "string"}},
        "out_of_scope": {"type": "object", "required": ["unsupported"], "additionalProperties": {**_LIST, "minItems": 1}},
        "tools": {"type": "object", "additionalProperties": {"type": "object"}},
    },
    "additionalProperties": {"type": "string"},
}
SENTENCES_SCHEMA: dict[str, Any] = {"type": "object", "required": ["language", "intents"],
                                    "properties": {"intents": {"type": "object"}, "lists": {"type": "object"},
                                                   "expansion_rules": {"type": "object"}}}
SCHEMAS = {"sentences.yaml": SENTENCES_SCHEMA, "words.yaml": WORDS_SCHEMA, "phrases.yaml": PHRASES_SCHEMA}


def buildable_languages(root: Path = LANGUAGES_DIR) -> tuple[str, ...]:
    """The codes whose folder has every file the teacher needs (a dataset can be built in them)."""
    if not root.is_dir():
        return ()
    return tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and all((p / f).is_file() for f in FILES)))


def _read(folder: Path, name: str) -> dict[str, Any]:
    path = folder / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ExportError(str(path), f"line {mark.line + 1}" if mark else "", "not valid YAML") from None
    error = next(iter(sorted(Draft202012Validator(SCHEMAS[name]).iter_errors(data), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "(top level)"
        raise ExportError(str(path), where, error.message[:200])
    return data


@dataclass(eq=False)
class Language:
    """One language's words, phrases and templates (compared by identity: one object per loaded code)."""

    code: str
    folder: Path
    sentences: dict[str, Any]
    words: dict[str, Any]
    phrases: dict[str, Any]
    hass: dict[str, Any] | None = field(repr=False)

    def __hash__(self) -> int:
        """Identity hash: the caches keyed by a language keep one entry per loaded language."""
        return id(self)

    def word_set(self, key: str) -> frozenset[str]:
        """One of ``words.yaml``'s word lists as a set (an optional list the language lacks: empty)."""
        return frozenset(self.words.get(key, ()))

    @cached_property
    def sequence(self) -> re.Pattern[str]:
        """Where a request said in steps divides ("..., then ...")."""
        return re.compile(self.words["sequence"], re.IGNORECASE)

    @property
    def number_language(self) -> str:
        """The language the number words are spelt in (``unicode-rbnf``; ``words.yaml``'s ``number_words`` overrides the code)."""
        return str(self.words.get("number_words", self.code))

    def replies(self, key: str) -> Sequence[str]:
        """The phrasings of one reply (``phrases.yaml``)."""
        return self.phrases[key]

    def out_of_scope(self, topic: str) -> Sequence[str]:
        """The phrasings of an out-of-scope refusal for ``topic``."""
        table = self.phrases["out_of_scope"]
        return table.get(topic, table["unsupported"])

    def phrase(self, key: str, **fields: Any) -> str:
        """One fixed phrase (``with_area``, ``the_place``, ...) with its fields."""
        return str(self.phrases[key]).format(**fields)

    def join_or(self, items: Sequence[str]) -> str:
        """``a, b or c`` in this language."""
        return items[0] if len(items) == 1 else self.phrase("or", items=", ".join(items[:-1]), last=items[-1])

    def join_and(self, items: Sequence[str]) -> str:
        """``a, b and c`` in this language."""
        return items[0] if len(items) == 1 else self.phrase("and_list", items=", ".join(items[:-1]), last=items[-1])

    def already_said(self, key: str, **fields: Any) -> str:
        """A no-op description of a change planned from STATE (``phrases.yaml`` ``already``)."""
        return str(self.phrases["already"][key]).format(**fields)

    def tool_words(self, tool: str, say: str, fields: Mapping[str, str] | None = None, arguments: Mapping[str, Any] | None = None) -> str:
        """What an entity "can't" do with ``tool`` (``say``: ``cannot``, ``requires.<cap>``, ``member_of``, ``within``, ``value``).

        A phrase the language lacks falls back to the tool's ``cannot``, then to ``do_that``
        (a value: to ``set_to``).
        """
        words = self.phrases["tools"].get(tool, {})
        head, _, cap = say.partition(".")
        text = by_value(words.get(head), arguments or {})
        if isinstance(text, dict):
            text = text.get(cap)
        if not text and head == "value":
            text = self.phrases["set_to"]
        text = text or by_value(words.get("cannot"), arguments or {}) or self.phrases["do_that"]
        return str(text).format(**(fields or {}))

    def already(self, tool: str, arguments: Mapping[str, Any]) -> str:
        """How ``tool``'s goal reads when it already holds ("locked", "set to 21 degrees"), ``""`` when the language has no words."""
        return str(by_value(self.phrases["tools"].get(tool, {}).get("already"), arguments) or "")


_LOADED: dict[str, Language] = {}  # code -> the language last loaded under that code (a folder of one's own included)


def language(code: str) -> Language:
    """The loaded language ``code`` (what an intent's ``language`` names), else the shipped folder of that code."""
    return _LOADED.get(code) or load_language(code)


def resolve_code(code: str, root: Path = LANGUAGES_DIR) -> str:
    """Home Assistant's language tag as a folder: ``de-CH`` -> ``de`` when there is no ``de-CH`` folder."""
    if (root / code).is_dir():
        return code
    base = code.replace("_", "-").split("-", 1)[0].lower()
    return base if (root / base).is_dir() else code


def load_language(code: str, root: Path = LANGUAGES_DIR) -> Language:
    """The language ``code`` from ``root`` (raises ``ExportError`` naming what is missing when there is no folder for it)."""
    found = _load(resolve_code(code, root), root.resolve())
    _LOADED[found.code] = found
    return found


@cache
def _load(code: str, root: Path) -> Language:
    folder = root / code
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        have = ", ".join(buildable_languages(root)) or "none"
        raise ExportError("--language", code, f"Statewise has no {'/'.join(missing)} for {code!r} in {folder} (available: {have})")
    sentences, words, phrases = (_read(folder, name) for name in FILES)
    if sentences["language"] != code:
        raise ExportError(str(folder / "sentences.yaml"), "language", f"says {sentences['language']!r}, the folder is {code!r}")
    return Language(code, folder, sentences, words, phrases, get_intents(code))
