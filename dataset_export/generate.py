"""Example families drawn for one split of one home, coordinated by :class:`Generator`.

Each family returns one unit (a list of rows) or ``None`` when this home or this
split cannot produce it. A family decides what to ask (an intent kind, a target,
a value: :mod:`.values`), in a home (:mod:`.homes`); the target is named
(:mod:`.naming`) and a template says it (:mod:`.speech`); then the sentence is *read*
by the home's recogniser and labelled by the teacher (:mod:`.rows`).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from statewise_protocol import Export, state_subset

from .homes import Home, Homes
from .intents import OUT_OF_SCOPE, Intent, capability_gap, device_nouns, kind_tool, kinds, norm, noun_matches, resolve
from .labelbook import LabelBook
from .language import Language
from .naming import NAMING, OTHER_NAMING, Namer
from .policy import TEXT, decide
from .rows import Row, Rows
from .speech import Speaker
from .states import variants
from .templates import Template, Unfillable, fill, fillable
from .values import STATEFUL, absolute_kinds, value_for


class Generator:
    """Draws example units for one split of one home: the split's homes, namer, speaker and row labeller, sharing one ``rng``."""

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
        self.homes = Homes(export.ontology, lang, self.rng)
        self.base = self.homes.base
        self.o = self.base.ontology
        self.namer = Namer(lang, self.rng)
        self.speaker = Speaker(lang, self.rng, self.by_kind)
        self.rows = Rows(export, pair_ok, lang, self.rng, self.book)
        self.groups = 0
        # held-out rows may only use the held-out share of (entity, state) pairs: draw more candidates
        self.extra = 3 if split == "train" else 12

    @property
    def unread(self) -> int:
        """Filled sentences no reader understood (dropped and counted in the card)."""
        return self.rows.unread

    def intent(self, kind: str, value: Any = None, **fields: Any) -> Intent:
        """An :class:`Intent` said in this generator's language."""
        return Intent(kind, value, language=self.lang.code, **fields)

    # ---- what to say, where -------------------------------------------------------------------
    def home(self) -> Home:
        """The home a unit is drawn in (:meth:`.Homes.draw`)."""
        return self.homes.draw()

    def variant_home(self, change: str | None = None) -> Home | None:
        """A variant of the home (:meth:`.Homes.variant`)."""
        return self.homes.variant(change)

    def value_for(self, kind: str, entity: dict[str, Any] | None, valid: bool = True) -> Any:
        """A value for ``kind`` (:func:`.values.value_for`)."""
        return value_for(kind, entity, self.rng, self.lang, valid)

    def area_mention(self, home: Home, area: str) -> tuple[str, bool]:
        """``area`` or one of its aliases (:meth:`.Namer.area_mention`)."""
        return self.namer.area_mention(home, area)

    def naming(self, home: Home, eid: str, kind: str) -> dict[str, Any] | None:
        """How the command names ``eid`` (:meth:`.Namer.naming`)."""
        return self.namer.naming(home, eid, kind)

    def say(self, home: Home, kind: str, value: Any, target: dict[str, Any], entity: dict[str, Any] | None = None,
            extra: dict[str, Any] | None = None) -> tuple[str, Template] | None:
        """A sentence asking ``kind``/``value`` of ``target`` in ``home`` (:meth:`.Speaker.say`)."""
        return self.speaker.say(kind, value, target, entity, extra)

    # ---- rows ---------------------------------------------------------------------------------
    def home_state(self, home: Home, overrides: dict[str, dict[str, Any]]) -> tuple[str, dict[str, dict[str, Any]]]:
        """A drawn state of ``home`` with ``overrides`` (:meth:`.Rows.home_state`)."""
        return self.rows.home_state(home, overrides)

    def row(self, home: Home, text: str, template: Template, shown: dict[str, dict[str, Any]] | None, full: dict[str, dict[str, Any]],
            snap_id: str, group: str = "", tags: tuple[str, ...] = ()) -> Row | None:
        """One labelled row (:meth:`.Rows.row`)."""
        return self.rows.row(home, text, template, shown, full, snap_id, group, tags)

    def _unit(self, home: Home, text: str, template: Template, eid: str | None, entry: dict[str, Any] | None, shown_ids: Sequence[str] | None,
              group: str = "", tags: tuple[str, ...] = ()) -> Row | None:
        return self.rows.unit(home, text, template, eid, entry, shown_ids, group, tags)

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

    def _entries(self, home: Home, eid: str, kind: str, value: Any) -> list[dict[str, Any]]:
        entries = variants(home.ontology, eid, self.rows.snapshot_entry(home, eid), self.intent(kind, value), self.rng, self.extra)
        return [e for e in entries if self.pair_ok(eid, e)]

    # ---- families ---------------------------------------------------------------------------
    def other_name(self) -> list[dict[str, Any]] | None:
        """Absolute command naming its target otherwise than by its name (alias, device type, area and type, the only one) -> direct action.

        Supplies the plan's alias-resolution rule in every home, also where nobody set an alias.
        """
        self.namer.styles = OTHER_NAMING
        try:
            unit = self.direct()
        finally:
            self.namer.styles = NAMING
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
