"""When a spoken target may be answered "no such device": only a clean mention that names nothing in the home.

A reader that cannot place a target must not answer as if the home lacked it. The
fallback reading (hassil's unmatched name) takes whatever words are left over, so
the words it calls a name may be a fragment of the command ("boiler to 40 3
degrees", "wine fridge please", "kitchen to netflix") or a real device said the way
people say it ("the dyson", "the back door lock", "every lock"). :class:`Mentions`
tells these apart from a device the home really lacks ("the hot tub"):

``fragment``
    the words hold a number, start with a template's verb ("lock my projector"), tie
    words that are no place of the home on with a preposition ("robot vacuum at noon"), or
    hold a word the templates use to say a command (a value, a preposition, a number
    word, a polite word) that is no word of the home;
``placeable``
    every word is a word of the home: a name or alias word (also misspelt), an area
    or floor, a device-type noun, a device class or domain;
``fuzzy``
    the whole mention is a misspelling of a name or alias.

Any of these is "not understood" for the reader that produced it; ``None`` means the
mention may be quoted in a "no such device" answer.
"""

from __future__ import annotations

import difflib
import re
from functools import cache

from hassil.expression import Alternative, Expression, ListReference, Permutation, RuleReference, Sequence, TextChunk
from hassil.intents import TextSlotList
from statewise_protocol import Ontology, load_tools

from .intents import device_nouns, list_nouns, norm, spoken_forms
from .language import Language
from .phrasing import number_words

# The language's word lists used here (words.yaml): ``articles``, ``place_prepositions``, ``generic``, ``glue`` (words inside
# type nouns, "to do list", that are no type themselves), ``place_words`` (floors and places said without their names),
# ``dwelling`` (a whole home or a room in general: a mention holding one is a place, never a device), ``media_sources``.
# ``prepositions``: words that tie a time, a place or a condition to a command ("robot vacuum at noon").
FUZZY_WORD = 0.85  # a word this close to a word of the home is that word, misspelt ("bedrom")
FUZZY_NAME = 0.8  # a mention this close to a whole name or alias is that name
TARGET_LISTS = frozenset({"name", "name_2", "area", "floor", "device_noun", "list_noun", "cover_classes"})
FRAGMENT, PLACEABLE, FUZZY = "fragment", "placeable", "fuzzy"


def _words(text: str, lang: Language) -> list[str]:
    return [w.removesuffix("'s") for w in re.split(r"[\s_-]+", norm(text, lang)) if w]


def _filler(lang: Language) -> frozenset[str]:
    return lang.word_set("articles") | lang.word_set("place_prepositions") | lang.word_set("generic")


def _literal_words(expr: Expression, rules: dict, lang: Language, seen: frozenset[str] = frozenset()) -> set[str]:
    """The words a template says itself (its text chunks, through its expansion rules)."""
    if isinstance(expr, TextChunk):
        return set(_words(expr.original_text, lang))
    if isinstance(expr, RuleReference):
        if expr.rule_name in seen or expr.rule_name not in rules:
            return set()
        return _literal_words(rules[expr.rule_name].expression, rules, lang, seen | {expr.rule_name})
    if isinstance(expr, Alternative | Sequence | Permutation):
        return set().union(*(_literal_words(item, rules, lang, seen) for item in expr.items)) if expr.items else set()
    if isinstance(expr, ListReference):
        return set()
    return set()


@cache
def type_words(lang: Language) -> frozenset[str]:
    """Words that name a kind of device: the device and list nouns, device classes, domains."""
    words: set[str] = set()
    for table in (device_nouns(lang), list_nouns(lang)):
        for noun in table.values():
            words |= {w for form in spoken_forms(noun.spoken, lang) for w in _words(form, lang)}
            words |= {w for word in noun.words for w in _words(word, lang)}
            words |= {w for c in noun.classes for w in _words(c, lang)}
    for spec in load_tools().values():
        for domain in spec.domains:
            words |= set(_words(domain, lang))
    return frozenset(words - _filler(lang) - lang.word_set("glue"))


@cache
def leading_words(lang: Language) -> frozenset[str]:
    """The first words of the templates (the verbs: "lock", "light up", "set"): a mention starting with one holds the command.

    A verb that is also a device type ("vacuum the house", "the vacuum cleaner") starts a noun, not a command.
    """
    from .templates import all_templates

    out: set[str] = set()
    for t in all_templates(lang):
        first = t.sentence.text.split(" ", 1)[0].strip("([").split("|")[0]
        if first.isalpha():
            out.add(first.casefold())
    return frozenset(out - _filler(lang) - type_words(lang))


@cache
def command_words(lang: Language) -> frozenset[str]:
    """Words the templates use to say a command (literal text, value lists, polite words), less the words of device types."""
    from .templates import all_templates, hassil_intents

    intents = hassil_intents(lang)
    words: set[str] = set()
    for t in all_templates(lang):
        words |= _literal_words(t.sentence.expression, {**intents.expansion_rules, **t.data.expansion_rules}, lang)
    for name, slot_list in intents.slot_lists.items():
        if name not in TARGET_LISTS and isinstance(slot_list, TextSlotList):
            for value in slot_list.values:
                words |= {w for text in _sample(value.text_in) for w in _words(text, lang)}
    for spec in load_tools().values():
        for arg in spec.arguments:
            for value in spec.enum(arg) or ():
                if isinstance(value, str):
                    words |= set(_words(value, lang))
    for n in range(101):
        words |= set(_words(number_words(n, lang), lang))
    for polite in (*lang.words["polite_prefixes"], *lang.words["polite_suffixes"]):
        words |= set(_words(polite, lang))
    words |= lang.word_set("joining")
    return frozenset(words - _filler(lang) - type_words(lang))


def _sample(expr: Expression) -> list[str]:
    from hassil.sample import sample_expression

    try:
        return list(sample_expression(expr))
    except Exception:  # noqa: BLE001 - a list value hassil cannot expand says nothing about commands
        return []


class Mentions:
    """The words of one home, to judge a mention a reader could not resolve."""

    def __init__(self, ontology: Ontology, lang: Language) -> None:
        """Index the home's names, aliases, areas and floors, read in ``lang``."""
        self.lang = lang
        self.names = sorted({norm(n, lang) for e in ontology.entities.values() for n in [e["name"], *e.get("aliases", [])]})
        places = {p for e in ontology.entities.values() for p in [e.get("area"), e.get("floor"), *(e.get("area_aliases") or [])] if p}
        self.home_words = frozenset(w for text in [*self.names, *places] for w in _words(text, lang)) - _filler(lang)
        classes = {w for e in ontology.entities.values() if e.get("device_class") for w in _words(e["device_class"], lang)}
        self.known = self.home_words | type_words(lang) | classes | lang.word_set("place_words")
        inputs = {i for e in ontology.entities.values() for i in (e.get("capabilities") or {}).get("inputs", [])}
        self.values = frozenset(w for text in [*inputs, *lang.words["media_sources"]] for w in _words(text, lang)) - self.home_words

    def _known(self, word: str) -> bool:
        if word in self.known:
            return True
        return len(word) >= 4 and bool(difflib.get_close_matches(word, self.home_words, n=1, cutoff=FUZZY_WORD))

    def problem(self, mention: str) -> str | None:
        """Why ``mention`` must not be quoted as a device the home lacks (module docstring), or ``None``."""
        lang = self.lang
        said = _words(mention, lang)
        if any(w in lang.word_set("articles") for w in said[1:]):
            return FRAGMENT  # an article inside: words of the command around a noun ("bright the lights")
        words = [w for w in said if w not in _filler(lang)]
        if not words:
            return FRAGMENT
        if any(ch.isdigit() for ch in mention):
            return FRAGMENT
        filler = _filler(lang)
        prepositions = lang.word_set("prepositions")
        tails = [said[i + 1:] for i, w in enumerate(said) if 0 < i < len(said) - 1 and w in prepositions]
        if any(not all(self._known(w) for w in tail if w not in filler) for tail in tails):
            return FRAGMENT  # a preposition and words that are no place of the home: a time or condition ("at noon")
        if len(words) > 1 and words[0] in leading_words(lang):
            return FRAGMENT
        known = [self._known(w) for w in words]
        if any(w in lang.word_set("dwelling") for w in words):
            return PLACEABLE
        if any(w in command_words(lang) or w in self.values for w, k in zip(words, known, strict=True) if not k):
            return FRAGMENT
        if all(known):
            return PLACEABLE
        if difflib.get_close_matches(norm(mention, lang), self.names, n=1, cutoff=FUZZY_NAME):
            return FUZZY
        return None
