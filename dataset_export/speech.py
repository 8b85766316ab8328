"""Saying a command: a template of the split that means the intended kind and value, filled with the target's slot values.

A template is drawn among those whose scope fits how the target is named (a name, a
device type, an area, a floor, nothing) and whose lists can say the value; the filled
sentence then gets :mod:`.phrasing`'s variations.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from functools import cache
from typing import Any

from hassil.intents import RangeSlotList, TextSlotList, WildcardSlotList
from hassil.parse_expression import parse_sentence

from .intents import device_nouns, list_nouns, norm
from .language import Language
from .phrasing import say_number, variations
from .templates import AMOUNT_SLOTS, Template, Unfillable, _list_refs, _rules, fill, fillable, hassil_intents, value_slot


@cache
def _list_value_templates(list_name: str, lang: Language) -> dict[Any, list[Any]]:
    """A values list's ``out`` -> its ``in`` templates (``blind`` -> ``blind[s]``)."""
    slot_list = hassil_intents(lang).slot_lists.get(list_name)
    out: dict[Any, list[Any]] = defaultdict(list)
    if isinstance(slot_list, TextSlotList):
        for value in slot_list.values:
            for one in value.value_out if isinstance(value.value_out, list) else [value.value_out]:  # "stores": blind or shade
                out[one].append(value.text_in)
    return dict(out)


def _stutters(text: str, lang: Language) -> bool:
    """True for a template's word repeated by the name it was filled with ("the desk lamp lamp")."""
    words = norm(text, lang).split()
    light = lang.word_set("light_words")
    return any(a == b or (a in light and b in light) for a, b in itertools.pairwise(words))


def _scope_fits(template: Template, target: dict[str, Any], noun: Any) -> bool:
    """True when the template names a target the way ``target`` does (a name, a device type, an area, a floor, nothing)."""
    slots = template.slots
    typed = "device_noun" in slots or ("device_class" in slots and noun is not None and bool(noun.classes))
    if "name" in target:
        return template.scope == "name" and ("name_2" in slots) == ("name_2" in target)
    if "device_noun" in target:
        return typed and ("area" in slots) == ("area" in target)
    if "list_noun" in target:
        return "list_noun" in slots
    if "area" in target:
        return template.scope == "area" and not typed
    if "floor" in target:
        return template.scope == "floor" and not typed
    return template.scope == "none" and not typed and "list_noun" not in slots


def ref_lists(template: Template) -> dict[str, str]:
    """Slot name -> list name for the template's list references."""
    return {ref.slot_name: ref.list_name for ref in _list_refs(template.sentence.expression, _rules(template))}


class Speaker:
    """Says commands in ``lang`` from the split's templates (``by_kind``), with the split's ``rng``."""

    def __init__(self, lang: Language, rng: random.Random, by_kind: dict[str, list[Template]]) -> None:
        """The split's templates by the kinds they say."""
        self.lang, self.rng, self.by_kind = lang, rng, by_kind

    def say(self, kind: str, value: Any, target: dict[str, Any], entity: dict[str, Any] | None = None,
            extra: dict[str, Any] | None = None) -> tuple[str, Template] | None:
        """A sentence asking ``kind``/``value`` of ``target`` (slot values), from a template of this split."""
        values = {k: v for k, v in target.items() if k != "device_noun"}
        if "device_noun" in target:
            values["device_noun"] = self._noun_words(device_nouns(self.lang), target["device_noun"])
        if "list_noun" in target:
            values["list_noun"] = self._noun_words(list_nouns(self.lang), target["list_noun"])
        values.update(extra or {})
        domain = (entity or {}).get("domain")
        noun = device_nouns(self.lang).get(target.get("device_noun", ""))
        pool = []
        for t in self.by_kind.get(kind, []):
            if not _scope_fits(t, target, noun):
                continue
            meaning = t.meaning_for(domain)
            if meaning is None or meaning.kind != kind or (meaning.value is not None and meaning.value != value):
                continue
            slot = meaning.slot or value_slot(t.slots)
            filled = dict(values)
            if slot is not None:
                if value is None:
                    continue
                spoken = self.spoken(t, slot, value)
                if spoken is None:
                    continue
                filled[slot] = spoken
            if any(s in t.slots for s in AMOUNT_SLOTS) and "amount" not in (extra or {}):
                continue
            if "amount" in (extra or {}):
                filled.update({s: say_number(extra["amount"], self.rng, self.lang) for s in AMOUNT_SLOTS})
                if not any(s in t.slots for s in AMOUNT_SLOTS):
                    continue
            if "device_class" in t.slots and noun is not None:
                classes = sorted(c for c in noun.classes if _list_value_templates("cover_classes", self.lang).get(c))
                if not classes:
                    continue
                filled["device_class"] = self.spoken(t, "device_class", self.rng.choice(classes))
                filled.pop("device_noun", None)
            if not fillable(t, filled):
                continue
            pool.append((t, filled))
        if not pool:
            return None
        template, filled = self.rng.choice(pool)
        try:
            text = fill(template, filled, self.rng)
        except Unfillable:
            return None
        if _stutters(text, self.lang):
            return None
        return variations(text, self.rng, self.lang), template

    def _noun_words(self, table: dict[str, Any], key: str) -> Any:
        return parse_sentence(self.rng.choice(table[key].spoken))

    def spoken(self, template: Template, slot: str, value: Any) -> Any:
        """How to say ``value`` in ``slot`` of ``template`` (``None`` when that list cannot say it)."""
        list_name = ref_lists(template).get(slot, slot)
        slot_list = hassil_intents(self.lang).slot_lists.get(list_name)
        if isinstance(slot_list, RangeSlotList):
            if not isinstance(value, int | float) or isinstance(value, bool) or not slot_list.start <= value <= slot_list.stop:
                return None
            return say_number(value, self.rng, self.lang)
        if isinstance(slot_list, TextSlotList):
            forms = _list_value_templates(list_name, self.lang).get(value)
            return self.rng.choice(forms) if forms else None
        if isinstance(slot_list, WildcardSlotList) or slot_list is None:
            return str(value).replace("_", " ")
        return None
