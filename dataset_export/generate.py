"""Example families: commands + states labelled by the policy, as contract rows.

Each family returns one unit (a list of rows) or ``None`` when this home or this
split cannot produce it. A family decides what to ask (an intent kind, a target,
a value), a template says it (:func:`dataset_export.templates.fill`, with
:mod:`.phrasing`'s variations), and then the sentence is *read* by the home's
recogniser: the row's intent is what the words say, not what the family meant,
so the teacher is a function of (ontology, STATE, text) (:class:`LabelBook`
checks it). Rows carry every ``docs/CONTRACTS.md`` field except ``id``.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hassil.intents import RangeSlotList, TextSlotList, WildcardSlotList
from hassil.parse_expression import parse_sentence
from statewise_protocol import Export, Ontology, allowed_entry, dumps, render_messages, state_json, state_subset

from .injection import INJECTED_SHARE, inject
from .intents import (
    OK,
    OUT_OF_SCOPE,
    STATEFUL as STATEFUL_KINDS,
    Intent,
    capability_gap,
    device_nouns,
    kind_tool,
    kinds,
    list_nouns,
    norm,
    noun_matches,
    resolve,
)
from .language import Language
from .phrasing import say_number, variations
from .policy import FETCH, TEXT, decide
from .recognize import Recognizer
from .states import random_entry, variants
from .templates import AMOUNT_SLOTS, Template, Unfillable, fill, fillable, hassil_intents, value_slot
from .variants import CHANGES, VARIANT_SHARE, Variant, make_variant

KELVINS = (2200, 2700, 3000, 3500, 4000, 5000, 6000, 6500)
AREA_ALIAS_SHARE = 0.4  # how often an area with aliases is named by one of them
# Values of the stateful kinds (the absolute kinds' values are their tool's argument enum, see :func:`enum_values`).
STATEFUL_VALUES: dict[str, tuple[Any, ...]] = {
    "brightness_step": ("up", "down"), "climate_step": ("up", "down"), "volume_step": ("up", "down"),
    "media": ("pause", "resume", "next", "previous", "stop"),
}
STATEFUL = tuple(STATEFUL_KINDS)
# How a family may name its target, with weights: by name, by alias, by device type (alone or with its area), or not at all.
NAMING = (("name", 6.0), ("alias", 3.0), ("noun", 1.0), ("area_noun", 1.5), ("implied", 0.7))
OTHER_NAMING = tuple((style, w) for style, w in NAMING if style != "name")  # the ``other_name`` family: never the entity's own name


def absolute_kinds() -> tuple[str, ...]:
    """The kinds a tool performs directly (its ``intent``), in registry order."""
    return tuple(k for k in kinds() if k not in STATEFUL_KINDS and k != OUT_OF_SCOPE)


def enum_values(kind: str) -> tuple[Any, ...]:
    """The values of an enumerated kind (empty when its values are not an enum): up/down, or the tool's argument enum."""
    if kind in STATEFUL_VALUES:
        return STATEFUL_VALUES[kind]
    domains = sorted(kinds().get(kind, ()))
    spec = kind_tool(kind, domains[0]) if domains else None
    value_arg = (spec.intent or {}).get("value") if spec else None
    if spec and value_arg and spec.arguments.get(value_arg, {}).get("type") == "boolean":
        return (True, False)
    return spec.enum(value_arg) if spec and value_arg else ()


def intent_label(intent: Intent) -> str:
    """The ``intent`` row field: canonical JSON of the intent (reusable by the evaluator)."""
    return dumps(intent.as_dict())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


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


@dataclass
class Home:
    """One ontology rows are drawn in: the export's own, or a variant of it."""

    variant: Variant
    lang: Language
    recognizer: Recognizer = field(init=False)
    present: list[str] = field(init=False)
    absent: list[str] = field(init=False)

    def __post_init__(self) -> None:
        """Index the home."""
        o = self.variant.ontology
        self.recognizer = Recognizer(o, self.lang)
        self.present = [eid for eid, e in o.entities.items() if e.get("present", True)]
        self.absent = [eid for eid, e in o.entities.items() if not e.get("present", True)]

    @property
    def ontology(self) -> Ontology:
        """The home's ontology."""
        return self.variant.ontology


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


def _ref_lists(template: Template) -> dict[str, str]:
    """Slot name -> list name for the template's list references."""
    from .templates import _list_refs, _rules

    return {ref.slot_name: ref.list_name for ref in _list_refs(template.sentence.expression, _rules(template))}


class Generator:
    """Draws example units for one split of one home."""

    def __init__(self, export: Export, split: str, seed: int, templates: list[Template], pair_ok: Callable[[str, dict[str, Any]], bool],
                 lang: Language, book: LabelBook | None = None) -> None:
        """Templates of this split (in ``lang``), the (entity, state) pair filter of this split, and the build's label book."""
        self.export, self.split, self.pair_ok, self.lang = export, split, pair_ok, lang
        self.book = book or LabelBook()
        self.rng = random.Random(f"{seed}/{split}/{export.manifest['content_hash']}" + ("" if lang.code == "en" else f"/{lang.code}"))
        self.by_kind: dict[str, list[Template]] = defaultdict(list)
        for t in templates:
            for kind in t.kinds:
                self.by_kind[kind].append(t)
        self.kinds = kinds()
        self.absolute = absolute_kinds()
        self.base = Home(Variant(export.ontology), lang)
        self.o = self.base.ontology
        self._variants: dict[str, list[Home]] = {}
        snaps = export.snapshots or []
        # What STATE may carry (an older export's media titles are dropped here, as the agent's fetch drops them).
        self.snapshots = [(s.id, {eid: allowed_entry(eid.split(".", 1)[0], e) for eid, e in s.states.items()}) for s in snaps] or [("synthetic", {})]
        self.groups = 0
        self.naming_styles = NAMING
        self.injected = 0  # rows drawn with device-written instruction text (dataset_export/injection.py)
        # held-out rows may only use the held-out share of (entity, state) pairs: draw more candidates
        self.extra = 3 if split == "train" else 12
        self.unread = 0  # filled sentences no reader understands (dropped and counted in the card, never answered "no such device")

    def intent(self, kind: str, value: Any = None, **fields: Any) -> Intent:
        """An :class:`Intent` said in this generator's language."""
        return Intent(kind, value, language=self.lang.code, **fields)

    # ---- homes ----------------------------------------------------------------------------
    def variant_home(self, change: str | None = None) -> Home | None:
        """A variant of the home (of ``change``, or any), drawn once per split and reused."""
        change = change or self.rng.choice(CHANGES)
        pool = self._variants.setdefault(change, [])
        if len(pool) < 4:
            made = make_variant(self.o, change, self.rng)
            if made is not None and all(h.ontology.prompt_json != made.ontology.prompt_json for h in pool):
                pool.append(Home(made, self.lang))
        return self.rng.choice(pool) if pool else None

    def home(self) -> Home:
        """The home a unit is drawn in: a variant for :data:`VARIANT_SHARE` of units."""
        if self.rng.random() < VARIANT_SHARE:
            return self.variant_home() or self.base
        return self.base

    # ---- what to say ------------------------------------------------------------------------
    def value_for(self, kind: str, entity: dict[str, Any] | None, valid: bool = True) -> Any:
        """A value for ``kind`` (``valid=False``: one the entity cannot take, where possible)."""
        rng, caps = self.rng, (entity or {}).get("capabilities") or {}
        if values := enum_values(kind):
            return rng.choice(values)
        if kind in ("brightness", "volume", "humidity"):
            if kind == "humidity":
                low, high = caps.get("humidity_range") or (30, 70)
                return rng.choice(range(int(low), int(high) + 1, 5)) if valid else rng.choice((int(high) + 10, max(0, int(low) - 10)))
            return rng.choice(range(5 if kind == "brightness" else 0, 101, 5))
        if kind == "fan_speed":
            return rng.choice(range(10, 101, 10))
        if kind in ("cover_position", "valve_position"):
            return rng.choice(range(10, 100, 10))
        if kind == "color_temp":
            low, high = caps.get("color_temp") or (2000, 6500)
            inside = [k for k in KELVINS if low <= k <= high]
            return rng.choice(inside or KELVINS) if valid else rng.choice((1500, 1800, 9000, 10000))
        if kind == "climate_temp":
            low, high = caps.get("temp_range") or (7, 35)
            if not valid:
                return rng.choice((high + 5, low - 3))
            value = rng.choice([x / 2 for x in range(int(low * 2), int(high * 2) + 1)][2:-2] or [float(low)])
            return int(value) if float(value).is_integer() else value
        if kind == "climate_mode":
            modes = caps.get("hvac_modes") or []
            if valid and modes:
                return rng.choice(modes)
            return rng.choice([m for m in ("dry", "fan_only", "heat_cool", "auto", "cool") if m not in modes] or ["dry"])
        if kind == "tv_input":
            inputs = caps.get("inputs") or []
            return rng.choice(inputs) if valid and inputs else rng.choice([i for i in ("netflix", "hdmi_2", "game_console", "spotify") if i not in inputs])
        if kind == "play_title":
            return rng.choice(self.lang.words["titles"])
        if kind == "todo_add":
            return rng.choice(self.lang.words["items"])
        return None

    def area_mention(self, home: Home, area: str) -> tuple[str, bool]:
        """``area`` or, sometimes, one of its aliases that names no other area, and whether it is an alias."""
        names: dict[str, set[str]] = defaultdict(set)
        found: set[str] = set()
        for e in home.ontology.entities.values():
            if e.get("area"):
                names[norm(e["area"], self.lang)].add(e["area"])
                for alias in e.get("area_aliases") or ():
                    names[norm(alias, self.lang)].add(e["area"])
                    if e["area"] == area:
                        found.add(alias)
        options = sorted(a for a in found if names[norm(a, self.lang)] == {area})
        if options and self.rng.random() < AREA_ALIAS_SHARE:
            return self.rng.choice(options), True
        return area, False

    def naming(self, home: Home, eid: str, kind: str) -> dict[str, Any] | None:
        """How the command names ``eid``: slot values that resolve to exactly it in this home for ``kind``."""
        entity = home.ontology.entities[eid]
        options = [o for o, _ in self.naming_styles]
        weights = [w for _, w in self.naming_styles]
        for _ in range(4):
            style = self.rng.choices(options, weights)[0]
            target = self._target(home, eid, entity, kind, style)
            if target is not None:
                return target
        return self._target(home, eid, entity, kind, "name")

    def _target(self, home: Home, eid: str, entity: dict[str, Any], kind: str, style: str) -> dict[str, Any] | None:
        rng = self.rng
        if style in ("name", "alias"):
            names = [entity["name"]] if style == "name" else list(entity["aliases"])
            if not names:
                return None
            text = rng.choice(names)
            target: dict[str, Any] = {"name": text.lower() if rng.random() < 0.5 else text}
            if entity.get("area") and rng.random() < 0.3:
                target["area"] = self.area_mention(home, entity["area"])[0]
        elif style in ("noun", "area_noun"):
            nouns = [key for key, noun in device_nouns(self.lang).items() if noun_matches(noun, entity)]
            if not nouns:
                return None
            noun = rng.choice(nouns)
            target = {"device_noun": noun}
            if style == "area_noun":
                if not entity.get("area"):
                    return None
                target["area"] = self.area_mention(home, entity["area"])[0]
        else:
            target = {}
        probe = self.intent(kind, mention=target.get("name"), area=target.get("area") if "name" not in target else None,
                       noun=target.get("device_noun"))
        res = resolve(home.ontology, probe)
        return target if res.status in (OK, "not_present") and res.ids == (eid,) else None

    def say(self, home: Home, kind: str, value: Any, target: dict[str, Any], entity: dict[str, Any] | None = None,
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
                spoken = self._spoken(t, slot, value)
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
                filled["device_class"] = self._spoken(t, "device_class", self.rng.choice(classes))
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

    def _spoken(self, template: Template, slot: str, value: Any) -> Any:
        """How to say ``value`` in ``slot`` of ``template`` (``None`` when that list cannot say it)."""
        list_name = _ref_lists(template).get(slot, slot)
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

    # ---- rows ---------------------------------------------------------------------------------
    def home_state(self, home: Home, overrides: dict[str, dict[str, Any]]) -> tuple[str, dict[str, dict[str, Any]]]:
        """A base snapshot, as the home (variant) has it, with ``overrides``; its id names the variation."""
        snap_id, states = self.rng.choice(self.snapshots)
        full = {eid: dict(entry) for eid, entry in states.items()}
        for eid in self.o.entities:
            if eid not in full:
                full[eid] = random_entry(self.o.entities[eid], self.rng)
        full = home.variant.states(full, self.rng)
        changed = {eid: e for eid, e in overrides.items() if full.get(eid) != e}
        full.update({eid: dict(e) for eid, e in overrides.items()})
        if changed:
            snap_id += "~" + _digest(state_json(changed))
        if home.variant.label:
            snap_id += "@" + _digest(home.variant.label)
        return snap_id, full

    def row(self, home: Home, text: str, template: Template, shown: dict[str, dict[str, Any]] | None, full: dict[str, dict[str, Any]],
            snap_id: str, group: str = "", tags: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """One contract row (without ``id``), labelled from what ``text`` says in ``home``; ``None`` when nothing reads it."""
        intent = home.recognizer.intent(text)
        if intent is None:
            self.unread += 1
            return None
        o = home.ontology
        key = self.book.key(o, shown, text)
        decision = decide(o, shown, intent, self.book.phrasing(key))
        injected = ""
        share = INJECTED_SHARE if self.injected else 5 * INJECTED_SHARE  # every split gets its own, also a small held-out set
        if any(entry.get("state") not in ("off", "unavailable") for eid, entry in (shown or {}).items() if eid.startswith("media_player.")):
            share = 0.5  # STATE shows a player that is on: its source is the field a stream's publisher can write, drawn often
        if decision.output_class != FETCH and self.rng.random() < share and (made := inject(o, shown, text, self.rng)):
            o2, shown2, where = made
            # Kept only when the text changes nothing: the label is exactly the label without it (same phrasing too).
            if decide(o2, shown2, intent, self.book.phrasing(key)).answer == decision.answer:
                if where == "source":
                    full = {**full, **{eid: shown2[eid] for eid in shown2 if shown2[eid] != (shown or {}).get(eid)}}
                o, shown, injected = o2, shown2, where
                self.injected += 1
                key = self.book.key(o, shown, text)
        followup, followup_state = "", {}
        if decision.output_class == FETCH:
            fetched = decision.calls[0].arguments["entity_ids"]
            followup_state = state_subset(full, fetched)
            if {**(shown or {}), **followup_state}.keys() < set(fetched):
                return None
            second = {**(shown or {}), **followup_state}
            fkey = self.book.key(o, second, text)
            followup = decide(o, second, intent, self.book.phrasing(fkey)).answer
            if not self.book.claim(fkey, text, followup):
                return None
        seen_pairs = {**(shown or {}), **followup_state}
        if not all(self.pair_ok(eid, entry) for eid, entry in seen_pairs.items()):
            return None  # an (entity, state) pair of the other split's side of the partition
        if not self.book.claim(key, text, decision.answer):
            return None
        all_tags = set(decision.tags) | set(tags)
        res = resolve(o, intent) if intent.kind != OUT_OF_SCOPE else None
        if res is not None and res.via_alias and res.status in (OK, "not_present") and decision.targets:
            all_tags.add("alias")
        area_names = {norm(e["area"], self.lang) for e in o.entities.values() if e.get("area")}
        if intent.area and norm(intent.area, self.lang) not in area_names and decision.targets:
            all_tags.add("alias")  # the place said by an area alias
        if group:
            all_tags.add("state_sensitive")
        if decision.num_calls > 1:
            all_tags.add("multi_step")
        if home.variant.label:
            all_tags |= {"ontology_variant", f"variant_{home.variant.change}"}
        if injected:
            all_tags |= {"injected", f"injected_{injected}"}
        if shown and decision.output_class != TEXT and (len(decision.calls) < len(decision.targets) or
                                                        (intent.kind == "play_title" and len(decision.calls) < 3)):
            all_tags.add("partly_satisfied")
        targets = decision.targets or (res.candidates if res else ())
        return {
            "messages": render_messages(o, text, shown, decision.answer),
            "output_class": decision.output_class,
            "num_calls": 0 if decision.output_class == TEXT else decision.num_calls,
            "tags": sorted(all_tags),
            "group": group,
            "snapshot": snap_id,
            "state": state_json(full),
            "followup": followup,
            "intent": intent_label(intent),
            "template": template.id,
            "domain": o.entities[targets[0]]["domain"] if targets and targets[0] in o.entities else "",
            "variant": home.variant.label,
            "_shown": shown or {},
            "_followup_state": followup_state if followup else {},
            "_decision": decision,
            "_ontology": o,
        }

    def _ok_entries(self, eid: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in entries if self.pair_ok(eid, e)]

    def _kind_tools(self, kind: str) -> list[Any]:
        return [s for d in sorted(self.kinds[kind]) if (s := kind_tool(kind, d)) is not None]

    def _capable(self, home: Home, kinds_: Sequence[str]) -> list[tuple[str, str]]:
        """(entity, kind) pairs the home can do, among ``kinds_`` with templates in this split."""
        o = home.ontology
        return [(eid, k) for k in kinds_ if self.by_kind.get(k) for eid in home.present if o.entities[eid]["domain"] in self.kinds[k]
                and capability_gap(o.entities[eid], self.intent(k, self.value_for(k, o.entities[eid]))) is None]

    def _command(self, home: Home, kinds_: Sequence[str], value: Any = None) -> tuple[Intent, str, Template, str] | None:
        """A command an entity of the home can do: (intended intent, sentence, template, entity)."""
        options = self._capable(home, kinds_)
        if not options:
            return None
        eid, kind = self.rng.choice(options)
        entity = home.ontology.entities[eid]
        target = self.naming(home, eid, kind)
        if target is None:
            return None
        value = self.value_for(kind, entity) if value is None else value
        extra = {"amount": self.rng.choice((2, 3, 4, 5, 10, 15, 25, 30))} if kind in ("brightness_step", "volume_step") and self.rng.random() < 0.3 else None
        if kind == "climate_step" and self.rng.random() < 0.3:
            extra = {"amount": self.rng.choice((2, 3, 4, 5))}
        made = self.say(home, kind, value, target, entity, extra)
        if made is None:
            return None
        return self.intent(kind, value), made[0], made[1], eid

    def _snapshot_entry(self, home: Home, eid: str) -> dict[str, Any]:
        _, states = self.rng.choice(self.snapshots)
        entry = states.get(eid) if eid in self.o.entities else None
        return dict(entry or random_entry(home.ontology.entities[eid], self.rng))

    def _entries(self, home: Home, eid: str, kind: str, value: Any) -> list[dict[str, Any]]:
        return self._ok_entries(eid, variants(home.ontology, eid, self._snapshot_entry(home, eid), self.intent(kind, value), self.rng, self.extra))

    def _unit(self, home: Home, text: str, template: Template, eid: str | None, entry: dict[str, Any] | None, shown_ids: Sequence[str] | None,
              group: str = "", tags: tuple[str, ...] = ()) -> dict[str, Any] | None:
        snap_id, full = self.home_state(home, {eid: entry} if eid and entry is not None else {})
        shown = state_subset(full, shown_ids) if shown_ids is not None else None
        return self.row(home, text, template, shown, full, snap_id, group, tags)

    # ---- families ---------------------------------------------------------------------------
    def other_name(self) -> list[dict[str, Any]] | None:
        """Absolute command naming its target otherwise than by its name (alias, device type, area and type, the only one) -> direct action.

        Supplies the plan's alias-resolution rule in every home, also where nobody set an alias.
        """
        self.naming_styles = OTHER_NAMING
        try:
            unit = self.direct()
        finally:
            self.naming_styles = NAMING
        return unit if unit and "alias" in unit[0]["tags"] else None

    def direct(self) -> list[dict[str, Any]] | None:
        """Absolute command, no STATE -> direct action."""
        home = self.home()
        picked = self._command(home, self.absolute)
        if not picked:
            return None
        _, text, template, _ = picked
        row = self._unit(home, text, template, None, None, None)
        return [row] if row else None

    def area(self) -> list[dict[str, Any]] | None:
        """A command for every device of a kind in an area or on a floor (one or several calls)."""
        home = self.home()
        o = home.ontology
        scope = self.rng.choice(("area", "area", "area", "floor"))
        kinds_ = [k for k in ("power", "brightness", "cover", "media", "volume", "fan_speed", "climate_temp", "color") if self.by_kind.get(k)]
        places = sorted({(e[scope], k) for eid in home.present if (e := o.entities[eid]).get(scope) for k in kinds_ if e["domain"] in self.kinds[k]})
        self.rng.shuffle(places)
        for place, kind in places[:12]:
            spoken = self.area_mention(home, place)[0] if scope == "area" else place
            domain = self.rng.choice(sorted({o.entities[eid]["domain"] for eid in home.present
                                             if o.entities[eid].get(scope) == place and o.entities[eid]["domain"] in self.kinds[kind]}))
            value = self.value_for(kind, None)
            made = self.say(home, kind, value, {scope: spoken}, {"domain": domain, "capabilities": {}})
            if made is None:
                continue
            text, template = made
            intent = home.recognizer.intent(text)
            if intent is None:
                continue
            res = resolve(o, intent)
            use_state = bool(res.ids) and self.rng.random() < 0.4
            overrides = {}
            if use_state:
                for eid in res.ids:
                    entries = self._entries(home, eid, intent.kind, intent.value)
                    if not entries:
                        return None
                    overrides[eid] = self.rng.choice(entries)
            snap_id, full = self.home_state(home, overrides)
            shown = state_subset(full, res.ids) if use_state else None
            row = self.row(home, text, template, shown, full, snap_id, tags=(f"{scope}_scope",))
            return [row] if row else None
        return None

    def fetch(self) -> list[dict[str, Any]] | None:
        """State-needing command, no STATE -> one get_entity_state (followup from the home state)."""
        home = self.home()
        picked = self._command(home, STATEFUL)
        if not picked:
            return None
        intended, text, template, eid = picked
        entries = self._entries(home, eid, intended.kind, intended.value)
        if not entries:
            return None
        row = self._unit(home, text, template, eid, self.rng.choice(entries), None)
        return [row] if row else None

    def group(self, kinds_: tuple[str, ...] | None = None) -> list[dict[str, Any]] | None:
        """Same command under 2-3 states giving different answers (a state-sensitivity group).

        A small home may have too few (entity, state) pairs on this split's side of the
        partition: then the group is drawn in a variant with an added device.
        """
        home = self.home()
        unit = self._group(home, kinds_)
        if unit is None and (added := self.variant_home("added")) is not None:
            unit = self._group(added, kinds_)
        return unit

    def _group(self, home: Home, kinds_: tuple[str, ...] | None) -> list[dict[str, Any]] | None:
        kinds_ = kinds_ or (*STATEFUL, *[k for k in self.absolute if all(s.mapping.get("observable", True) is True for s in self._kind_tools(k))])
        picked = self._command(home, kinds_)
        if not picked:
            return None
        intended, text, template, eid = picked
        intent = home.recognizer.intent(text)
        if intent is None:
            return None
        entries = self._entries(home, eid, intended.kind, intended.value)
        self.rng.shuffle(entries)
        chosen: list[tuple[dict[str, Any], str]] = []
        for entry in entries:
            answer = decide(home.ontology, {eid: entry}, intent).answer
            if all(answer != a for _, a in chosen):
                chosen.append((entry, answer))
            if len(chosen) == 3:
                break
        if len(chosen) < 2:
            return None
        self.groups += 1
        gid = f"{self.split}-g{self.groups:05d}"
        rows = []
        for entry, _ in chosen[: self.rng.choice((2, 2, 3))]:
            row = self._unit(home, text, template, eid, entry, [eid], group=gid)
            if row is None:
                return None
            rows.append(row)
        return rows

    def multi(self) -> list[dict[str, Any]] | None:
        """Multi-step: a media plan with STATE (power -> input -> play), two devices at once, or an area command."""
        roll = self.rng.random()
        if roll < 0.25:
            return self.area()
        if roll < 0.5:
            return self.compound(valid=True)
        home = self.home()
        picked = self._command(home, ("play_title", "tv_input"))
        if not picked:
            return self.area()
        intended, text, template, eid = picked
        intent = home.recognizer.intent(text)
        if intent is None:
            return None
        entries = [e for e in self._entries(home, eid, intended.kind, intended.value) if decide(home.ontology, {eid: e}, intent).num_calls > 1]
        if not entries:
            return None
        row = self._unit(home, text, template, eid, self.rng.choice(entries), [eid])
        return [row] if row else None

    def noop(self) -> list[dict[str, Any]] | None:
        """Goal already holds in STATE -> explicit no-op text."""
        home = self.home()
        picked = self._command(home, (*STATEFUL, *self.absolute))
        if not picked:
            return None
        intended, text, template, eid = picked
        intent = home.recognizer.intent(text)
        if intent is None:
            return None
        entries = [e for e in self._entries(home, eid, intended.kind, intended.value) if decide(home.ontology, {eid: e}, intent).output_class == TEXT]
        if not entries:
            return None
        row = self._unit(home, text, template, eid, self.rng.choice(entries), [eid])
        return [row] if row else None

    def _text_unit(self, home: Home, made: tuple[str, Template] | None, tags: tuple[str, ...] = ()) -> list[dict[str, Any]] | None:
        if made is None:
            return None
        row = self._unit(home, made[0], made[1], None, None, None, tags=tags)
        return [row] if row and row["output_class"] == TEXT else None

    def unknown(self) -> list[dict[str, Any]] | None:
        """A device the home does not have -> refusal."""
        home = self.home()
        mention = self.rng.choice(self.lang.words["unknown_names"])
        if resolve(home.ontology, self.intent("power", mention=mention)).status != "unknown_entity":
            return None
        kind = self.rng.choice(("power", "power", "toggle", "brightness", "volume", "cover", "lock"))
        return self._text_unit(home, self.say(home, kind, self.value_for(kind, None), {"name": mention}))

    def ambiguous(self) -> list[dict[str, Any]] | None:
        """A name, alias, device type or missing target matching several entities -> clarification."""
        home = self.home()
        o = home.ontology
        names = sorted({n for e in o.entities.values() for n in [e["name"], *e["aliases"]]})
        options: list[tuple[str, dict[str, Any], str]] = []
        for n in names:
            said = norm(n, self.lang)
            ids = [eid for eid, e in o.entities.items() if said in {norm(x, self.lang) for x in [e["name"], *e["aliases"]]} and e.get("present", True)]
            if len(ids) > 1:
                options.append(("name", {"name": n}, ids[0]))
        for key, noun in device_nouns(self.lang).items():
            ids = [eid for eid in home.present if noun_matches(noun, o.entities[eid])]
            if len(ids) > 1:
                options.append(("noun", {"device_noun": key}, ids[0]))
        if not options:
            return None
        style, target, eid = self.rng.choice(options)
        entity = o.entities[eid]
        kinds_ = [k for k in (*self.absolute, *STATEFUL) if entity["domain"] in self.kinds[k] and self.by_kind.get(k)]
        if not kinds_:
            return None
        kind = self.rng.choice(kinds_)
        made = self.say(home, kind, self.value_for(kind, entity), target, entity)
        return self._text_unit(home, made, tags=() if style == "name" else ("generic_noun",))

    def not_present(self) -> list[dict[str, Any]] | None:
        """A present:false entity -> refusal (in a variant with an absent device when the home has none)."""
        home = self.base if self.base.absent and self.rng.random() < 0.6 else (self.variant_home("absent") or self.base)
        if not home.absent:
            return None
        eid = self.rng.choice(home.absent)
        entity = home.ontology.entities[eid]
        kinds_ = [k for k in (*self.absolute, *STATEFUL) if entity["domain"] in self.kinds[k] and self.by_kind.get(k)]
        if not kinds_:
            return None
        kind = self.rng.choice(kinds_)
        target = self.naming(home, eid, kind)
        if target is None:
            return None
        return self._text_unit(home, self.say(home, kind, self.value_for(kind, entity), target, entity))

    def missing(self) -> list[dict[str, Any]] | None:
        """A capability or value the entity lacks -> refusal."""
        home = self.home()
        o = home.ontology
        same = self.rng.random() < 0.8
        options = [(eid, kind) for eid in home.present for kind in sorted(self.by_kind) if kind != OUT_OF_SCOPE
                   and (o.entities[eid]["domain"] in self.kinds[kind]) == same
                   and capability_gap(o.entities[eid], self.intent(kind, self.value_for(kind, o.entities[eid], valid=False))) is not None]
        if not options:
            return None
        eid, kind = self.rng.choice(options)
        entity = o.entities[eid]
        value = self.value_for(kind, entity, valid=False)
        target = self.naming(home, eid, kind) if same else {"name": entity["name"]}
        if target is None:
            return None
        return self._text_unit(home, self.say(home, kind, value, target, entity if same else None))

    def compound(self, valid: bool | None = None) -> list[dict[str, Any]] | None:
        """Two devices in one request: both possible (multi-step), or one impossible (nothing runs, the text says which)."""
        home = self.home()
        o = home.ontology
        valid = self.rng.random() < 0.5 if valid is None else valid
        capable = [eid for eid, k in self._capable(home, ("power",))]
        if len(capable) < 2:
            return None
        first, second = self.rng.sample(sorted(set(capable)), 2)
        value = self.rng.choice(("on", "off"))
        other = o.entities[second]["name"] if valid else self.rng.choice(self.lang.words["unknown_names"])
        made = self.say(home, "power", value, {"name": o.entities[first]["name"], "name_2": other}, o.entities[first])
        if made is None:
            return None
        row = self._unit(home, made[0], made[1], None, None, None)
        return [row] if row else None

    def partly(self) -> list[dict[str, Any]] | None:
        """A request with one impossible part -> nothing runs, the text says which part."""
        return self.compound(valid=False)

    def out_of_scope(self) -> list[dict[str, Any]] | None:
        """Chit-chat, world knowledge, memory, unsupported -> refusal."""
        home = self.home()
        pool = [t for t in self.by_kind.get(OUT_OF_SCOPE, []) if fillable(t, [*self.lang.words["out_of_scope_values"], "area", "name"])]
        if not pool:
            return None
        template = self.rng.choice(pool)
        values: dict[str, Any] = dict(self.lang.words["out_of_scope_values"])
        areas = sorted({e["area"] for e in home.ontology.entities.values() if e.get("area")})
        values.update({"area": self.rng.choice(areas) if areas else "kitchen", "name": "weather"})
        try:
            text = fill(template, values, self.rng)
        except Unfillable:
            return None
        return self._text_unit(home, (text.lower() if self.rng.random() < 0.3 else text, template))



