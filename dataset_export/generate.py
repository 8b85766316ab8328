"""Draws example units for one split of one home: :class:`Generator` coordinates the parts a family uses.

A family (:mod:`.families`, one table) decides what to ask (an intent kind, a target,
a value: :mod:`.values`), in a home (:mod:`.homes`); the target is named
(:mod:`.naming`) and a template says it (:mod:`.speech`); then the sentence is *read*
by the home's recogniser and labelled by the teacher (:mod:`.rows`). All parts share
the split's one ``rng``, so a build is a function of (export, seed, split).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from statewise_protocol import Export

from .families import BY_NAME
from .homes import Home, Homes
from .intents import Intent, capability_gap, kind_tool, kinds
from .labelbook import LabelBook
from .language import Language
from .naming import Namer
from .rows import Row, Rows, Unit
from .speech import Speaker
from .stateful import STATEFUL
from .states import variants
from .templates import Template
from .values import absolute_kinds, value_for

AMOUNT_SHARE = 0.3  # how often a relative change is said with its size ("by 4 degrees")


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

    def unit(self, home: Home, text: str, template: Template, eid: str | None, entry: dict[str, Any] | None, shown_ids: Sequence[str] | None,
             group: str = "", tags: tuple[str, ...] = ()) -> Row | None:
        """A row of ``text`` in a drawn state with ``eid`` at ``entry`` (:meth:`.Rows.unit`)."""
        return self.rows.unit(home, text, template, eid, entry, shown_ids, group, tags)

    # ---- what an entity can do ------------------------------------------------------------------
    def kind_tools(self, kind: str) -> list[Any]:
        """The tools ``kind`` acts through, one per domain."""
        return [s for d in sorted(self.kinds[kind]) if (s := kind_tool(kind, d)) is not None]

    def capable(self, home: Home, kinds_: Sequence[str]) -> list[tuple[str, str]]:
        """(entity, kind) pairs the home can do, among ``kinds_`` with templates in this split."""
        o = home.ontology
        return [(eid, k) for k in kinds_ if self.by_kind.get(k) for eid in home.present if o.entities[eid]["domain"] in self.kinds[k]
                and capability_gap(o.entities[eid], self.intent(k, self.value_for(k, o.entities[eid]))) is None]

    def command(self, home: Home, kinds_: Sequence[str], value: Any = None) -> tuple[Intent, str, Template, str] | None:
        """A command an entity of the home can do: (intended intent, sentence, template, entity)."""
        options = self.capable(home, kinds_)
        if not options:
            return None
        eid, kind = self.rng.choice(options)
        entity = home.ontology.entities[eid]
        target = self.naming(home, eid, kind)
        if target is None:
            return None
        value = self.value_for(kind, entity) if value is None else value
        amounts = STATEFUL[kind].amounts if kind in STATEFUL else ()
        extra = {"amount": self.rng.choice(amounts)} if amounts and self.rng.random() < AMOUNT_SHARE else None
        made = self.say(home, kind, value, target, entity, extra)
        if made is None:
            return None
        return self.intent(kind, value), made[0], made[1], eid

    def entries(self, home: Home, eid: str, kind: str, value: Any) -> list[dict[str, Any]]:
        """Candidate entries of ``eid`` for ``kind``/``value`` (goal, edges, random ones) on this split's side of the partition."""
        entries = variants(home.ontology, eid, self.rows.snapshot_entry(home, eid), self.intent(kind, value), self.rng, self.extra)
        return [e for e in entries if self.pair_ok(eid, e)]

    # ---- families -------------------------------------------------------------------------------
    def draw(self, family: str) -> Unit:
        """One unit of ``family`` (a name of :data:`.families.FAMILIES`), or ``None`` when this home or split cannot give one."""
        return BY_NAME[family].draw(self)
