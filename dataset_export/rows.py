"""A sentence said in a home becomes a contract row: read by the home's recogniser, labelled by the teacher in a drawn state.

The row's intent is what the words say, not what the family meant, so the teacher is a
function of (ontology, STATE, text) (:class:`~.labelbook.LabelBook` checks it). Rows
carry every ``docs/CONTRACTS.md`` field except ``id``, and private ``_`` fields the
builder checks them with.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from typing import Any

from statewise_protocol import Export, allowed_entry, render_messages, state_json, state_subset

from .homes import Home
from .injection import INJECTED_SHARE, inject
from .intents import OK, OUT_OF_SCOPE, norm, resolve
from .labelbook import LabelBook, intent_label
from .language import Language
from .policy import FETCH, TEXT, decide
from .states import random_entry
from .templates import Template

Row = dict[str, Any]
Unit = list[Row] | None  # what a family draws: the rows of one unit (a state-sensitivity group has several), or none


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


class Rows:
    """Labels sentences of one split into rows, in states drawn from the export's snapshots."""

    def __init__(self, export: Export, pair_ok: Callable[[str, dict[str, Any]], bool], lang: Language, rng: random.Random, book: LabelBook) -> None:
        """The export's snapshots, the split's (entity, state) pair filter, its ``rng`` and the build's label book."""
        self.pair_ok, self.lang, self.rng, self.book = pair_ok, lang, rng, book
        self.o = export.ontology
        snaps = export.snapshots or []
        # What STATE may carry (an older export's media titles are dropped here, as the agent's fetch drops them).
        self.snapshots = [(s.id, {eid: allowed_entry(eid.split(".", 1)[0], e) for eid, e in s.states.items()}) for s in snaps] or [("synthetic", {})]
        self.injected = 0  # rows drawn with device-written instruction text (dataset_export/injection.py)
        self.unread = 0  # filled sentences no reader understands (dropped and counted in the card, never answered "no such device")

    def snapshot_entry(self, home: Home, eid: str) -> dict[str, Any]:
        """``eid``'s entry in a drawn snapshot (a random one where the snapshot lacks it)."""
        _, states = self.rng.choice(self.snapshots)
        entry = states.get(eid) if eid in self.o.entities else None
        return dict(entry or random_entry(home.ontology.entities[eid], self.rng))

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

    def unit(self, home: Home, text: str, template: Template, eid: str | None, entry: dict[str, Any] | None, shown_ids: Sequence[str] | None,
             group: str = "", tags: tuple[str, ...] = ()) -> Row | None:
        """A row of ``text`` in a drawn state with ``eid`` at ``entry``; STATE shows ``shown_ids`` (``None``: no STATE)."""
        snap_id, full = self.home_state(home, {eid: entry} if eid and entry is not None else {})
        shown = state_subset(full, shown_ids) if shown_ids is not None else None
        return self.row(home, text, template, shown, full, snap_id, group, tags)

    def row(self, home: Home, text: str, template: Template, shown: dict[str, dict[str, Any]] | None, full: dict[str, dict[str, Any]],
            snap_id: str, group: str = "", tags: tuple[str, ...] = ()) -> Row | None:
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
        area_names = {norm(e["area"], self.lang) for e in o.entities.values() if e.get("area")}
        for step in intent.steps if intent.kind != OUT_OF_SCOPE else ():  # every step said ("..., then close the lounge blinds")
            said = resolve(o, step)
            if said.via_alias and said.status in (OK, "not_present") and decision.targets:
                all_tags.add("alias")
            if step.area and norm(step.area, self.lang) not in area_names and decision.targets:
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
