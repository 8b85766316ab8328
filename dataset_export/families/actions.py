"""Families of commands an entity can do, said without STATE: a direct action, by another name, for an area, two devices at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from statewise_protocol import state_subset

from ..intents import resolve
from ..naming import NAMING, OTHER_NAMING
from ..rows import Unit

if TYPE_CHECKING:
    from ..generate import Generator



def direct(gen: Generator) -> Unit:
    """Absolute command, no STATE -> direct action."""
    home = gen.home()
    picked = gen.command(home, gen.absolute)
    if not picked:
        return None
    _, text, template, _ = picked
    row = gen.unit(home, text, template, None, None, None)
    return [row] if row else None



def other_name(gen: Generator) -> Unit:
    """Absolute command naming its target otherwise than by its name (alias, device type, area and type, the only one) -> direct action.

    Supplies the plan's alias-resolution rule in every home, also where nobody set an alias.
    """
    gen.namer.styles = OTHER_NAMING
    try:
        unit = direct(gen)
    finally:
        gen.namer.styles = NAMING
    return unit if unit and "alias" in unit[0]["tags"] else None



def area(gen: Generator) -> Unit:
    """A command for every device of a kind in an area or on a floor (one or several calls)."""
    home = gen.home()
    o = home.ontology
    scope = gen.rng.choice(("area", "area", "area", "floor"))
    kinds_ = [k for k in ("power", "brightness", "cover", "media", "volume", "fan_speed", "climate_temp", "color") if gen.by_kind.get(k)]
    places = sorted({(e[scope], k) for eid in home.present if (e := o.entities[eid]).get(scope) for k in kinds_ if e["domain"] in gen.kinds[k]})
    gen.rng.shuffle(places)
    for place, kind in places[:12]:
        spoken = gen.area_mention(home, place)[0] if scope == "area" else place
        domain = gen.rng.choice(sorted({o.entities[eid]["domain"] for eid in home.present
                                         if o.entities[eid].get(scope) == place and o.entities[eid]["domain"] in gen.kinds[kind]}))
        value = gen.value_for(kind, None)
        made = gen.say(home, kind, value, {scope: spoken}, {"domain": domain, "capabilities": {}})
        if made is None:
            continue
        text, template = made
        intent = home.recognizer.intent(text)
        if intent is None:
            continue
        res = resolve(o, intent)
        use_state = bool(res.ids) and gen.rng.random() < 0.4
        overrides = {}
        if use_state:
            for eid in res.ids:
                entries = gen.entries(home, eid, intent.kind, intent.value)
                if not entries:
                    return None
                overrides[eid] = gen.rng.choice(entries)
        snap_id, full = gen.home_state(home, overrides)
        shown = state_subset(full, res.ids) if use_state else None
        row = gen.row(home, text, template, shown, full, snap_id, tags=(f"{scope}_scope",))
        return [row] if row else None
    return None



def compound(gen: Generator, valid: bool | None = None) -> Unit:
    """Two devices in one request: both possible (multi-step), or one impossible (nothing runs, the text says which)."""
    home = gen.home()
    o = home.ontology
    valid = gen.rng.random() < 0.5 if valid is None else valid
    capable = [eid for eid, k in gen.capable(home, ("power",))]
    if len(capable) < 2:
        return None
    first, second = gen.rng.sample(sorted(set(capable)), 2)
    value = gen.rng.choice(("on", "off"))
    other = o.entities[second]["name"] if valid else gen.rng.choice(gen.lang.words["unknown_names"])
    made = gen.say(home, "power", value, {"name": o.entities[first]["name"], "name_2": other}, o.entities[first])
    if made is None:
        return None
    row = gen.unit(home, made[0], made[1], None, None, None)
    return [row] if row else None
