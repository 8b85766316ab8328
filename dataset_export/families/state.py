"""Families whose answer depends on STATE: a fetch when it is missing, state-sensitivity groups, no-ops, media plans."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..policy import TEXT, decide
from ..rows import Unit
from ..stateful import STATEFUL_KINDS
from .actions import area, compound

if TYPE_CHECKING:
    from ..generate import Generator
    from ..homes import Home
    from ..intents import Intent
    from ..templates import Template



def _read(gen: Generator, home: Home, kinds_: tuple[str, ...]) -> tuple[Intent, str, Template, str, Intent] | None:
    """A command of one of ``kinds_`` and how the teacher reads it (``None``: none drawn, or not understood)."""
    picked = gen.command(home, kinds_)
    if not picked:
        return None
    intended, text, template, eid = picked
    intent = home.recognizer.intent(text)
    return None if intent is None else (intended, text, template, eid, intent)



def fetch(gen: Generator) -> Unit:
    """State-needing command, no STATE -> one get_entity_state (followup from the home state)."""
    home = gen.home()
    picked = gen.command(home, STATEFUL_KINDS)
    if not picked:
        return None
    intended, text, template, eid = picked
    entries = gen.entries(home, eid, intended.kind, intended.value)
    if not entries:
        return None
    row = gen.unit(home, text, template, eid, gen.rng.choice(entries), None)
    return [row] if row else None



def group(gen: Generator, kinds_: tuple[str, ...] | None = None) -> Unit:
    """Same command under 2-3 states giving different answers (a state-sensitivity group).

    A small home may have too few (entity, state) pairs on this split's side of the
    partition: then the group is drawn in a variant with an added device.
    """
    home = gen.home()
    unit = _group(gen, home, kinds_)
    if unit is None and (added := gen.variant_home("added")) is not None:
        unit = _group(gen, added, kinds_)
    return unit



def _group(gen: Generator, home: Home, kinds_: tuple[str, ...] | None) -> Unit:
    kinds_ = kinds_ or (*STATEFUL_KINDS, *[k for k in gen.absolute if all(s.mapping.get("observable", True) is True for s in gen.kind_tools(k))])
    read = _read(gen, home, kinds_)
    if read is None:
        return None
    intended, text, template, eid, intent = read
    entries = gen.entries(home, eid, intended.kind, intended.value)
    gen.rng.shuffle(entries)
    chosen: list[tuple[dict[str, Any], str]] = []
    for entry in entries:
        answer = decide(home.ontology, {eid: entry}, intent).answer
        if all(answer != a for _, a in chosen):
            chosen.append((entry, answer))
        if len(chosen) == 3:
            break
    if len(chosen) < 2:
        return None
    gen.groups += 1
    gid = f"{gen.split}-g{gen.groups:05d}"
    rows = []
    for entry, _ in chosen[: gen.rng.choice((2, 2, 3))]:
        row = gen.unit(home, text, template, eid, entry, [eid], group=gid)
        if row is None:
            return None
        rows.append(row)
    return rows



def multi(gen: Generator) -> Unit:
    """Multi-step: a media plan with STATE (power -> input -> play), two devices at once, or an area command."""
    roll = gen.rng.random()
    if roll < 0.25:
        return area(gen)
    if roll < 0.5:
        return compound(gen, valid=True)
    home = gen.home()
    picked = gen.command(home, ("play_title", "tv_input"))
    if not picked:
        return area(gen)
    intended, text, template, eid = picked
    intent = home.recognizer.intent(text)
    if intent is None:
        return None
    entries = [e for e in gen.entries(home, eid, intended.kind, intended.value) if decide(home.ontology, {eid: e}, intent).num_calls > 1]
    if not entries:
        return None
    row = gen.unit(home, text, template, eid, gen.rng.choice(entries), [eid])
    return [row] if row else None



def noop(gen: Generator) -> Unit:
    """Goal already holds in STATE -> explicit no-op text."""
    home = gen.home()
    read = _read(gen, home, (*STATEFUL_KINDS, *gen.absolute))
    if read is None:
        return None
    intended, text, template, eid, intent = read
    entries = [e for e in gen.entries(home, eid, intended.kind, intended.value) if decide(home.ontology, {eid: e}, intent).output_class == TEXT]
    if not entries:
        return None
    row = gen.unit(home, text, template, eid, gen.rng.choice(entries), [eid])
    return [row] if row else None
