"""Families the teacher answers in text: out of scope, no such device, several such devices, not present, can't do that, one part impossible."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..intents import OUT_OF_SCOPE, capability_gap, device_nouns, norm, noun_matches, resolve
from ..policy import TEXT
from ..rows import Unit
from ..stateful import STATEFUL_KINDS
from ..templates import Template, Unfillable, fill, fillable
from .actions import compound

if TYPE_CHECKING:
    from ..generate import Generator
    from ..homes import Home



def text_unit(gen: Generator, home: Home, made: tuple[str, Template] | None, tags: tuple[str, ...] = ()) -> Unit:
    """The unit of a sentence said without STATE, kept only when the teacher answers it in text."""
    if made is None:
        return None
    row = gen.unit(home, made[0], made[1], None, None, None, tags=tags)
    return [row] if row and row["output_class"] == TEXT else None



def unknown(gen: Generator) -> Unit:
    """A device the home does not have -> refusal."""
    home = gen.home()
    mention = gen.rng.choice(gen.lang.words["unknown_names"])
    if resolve(home.ontology, gen.intent("power", mention=mention)).status != "unknown_entity":
        return None
    kind = gen.rng.choice(("power", "power", "toggle", "brightness", "volume", "cover", "lock"))
    return text_unit(gen, home, gen.say(home, kind, gen.value_for(kind, None), {"name": mention}))



def ambiguous(gen: Generator) -> Unit:
    """A name, alias, device type or missing target matching several entities -> clarification."""
    home = gen.home()
    o = home.ontology
    names = sorted({n for e in o.entities.values() for n in [e["name"], *e["aliases"]]})
    options: list[tuple[str, dict[str, Any], str]] = []
    for n in names:
        said = norm(n, gen.lang)
        ids = [eid for eid, e in o.entities.items() if said in {norm(x, gen.lang) for x in [e["name"], *e["aliases"]]} and e.get("present", True)]
        if len(ids) > 1:
            options.append(("name", {"name": n}, ids[0]))
    for key, noun in device_nouns(gen.lang).items():
        ids = [eid for eid in home.present if noun_matches(noun, o.entities[eid])]
        if len(ids) > 1:
            options.append(("noun", {"device_noun": key}, ids[0]))
    if not options:
        return None
    style, target, eid = gen.rng.choice(options)
    entity = o.entities[eid]
    kinds_ = [k for k in (*gen.absolute, *STATEFUL_KINDS) if entity["domain"] in gen.kinds[k] and gen.by_kind.get(k)]
    if not kinds_:
        return None
    kind = gen.rng.choice(kinds_)
    made = gen.say(home, kind, gen.value_for(kind, entity), target, entity)
    return text_unit(gen, home, made, tags=() if style == "name" else ("generic_noun",))



def not_present(gen: Generator) -> Unit:
    """A present:false entity -> refusal (in a variant with an absent device when the home has none)."""
    home = gen.base if gen.base.absent and gen.rng.random() < 0.6 else (gen.variant_home("absent") or gen.base)
    if not home.absent:
        return None
    eid = gen.rng.choice(home.absent)
    entity = home.ontology.entities[eid]
    kinds_ = [k for k in (*gen.absolute, *STATEFUL_KINDS) if entity["domain"] in gen.kinds[k] and gen.by_kind.get(k)]
    if not kinds_:
        return None
    kind = gen.rng.choice(kinds_)
    target = gen.naming(home, eid, kind)
    if target is None:
        return None
    return text_unit(gen, home, gen.say(home, kind, gen.value_for(kind, entity), target, entity))



def missing(gen: Generator) -> Unit:
    """A capability or value the entity lacks -> refusal."""
    home = gen.home()
    o = home.ontology
    same = gen.rng.random() < 0.8
    options = [(eid, kind) for eid in home.present for kind in sorted(gen.by_kind) if kind != OUT_OF_SCOPE
               and (o.entities[eid]["domain"] in gen.kinds[kind]) == same
               and capability_gap(o.entities[eid], gen.intent(kind, gen.value_for(kind, o.entities[eid], valid=False))) is not None]
    if not options:
        return None
    eid, kind = gen.rng.choice(options)
    entity = o.entities[eid]
    value = gen.value_for(kind, entity, valid=False)
    target = gen.naming(home, eid, kind) if same else {"name": entity["name"]}
    if target is None:
        return None
    return text_unit(gen, home, gen.say(home, kind, value, target, entity if same else None))



def partly(gen: Generator) -> Unit:
    """A request with one impossible part -> nothing runs, the text says which part."""
    return compound(gen, valid=False)



def out_of_scope(gen: Generator) -> Unit:
    """Chit-chat, world knowledge, memory, unsupported -> refusal."""
    home = gen.home()
    pool = [t for t in gen.by_kind.get(OUT_OF_SCOPE, []) if fillable(t, [*gen.lang.words["out_of_scope_values"], "area", "name"])]
    if not pool:
        return None
    template = gen.rng.choice(pool)
    values: dict[str, Any] = dict(gen.lang.words["out_of_scope_values"])
    areas = sorted({e["area"] for e in home.ontology.entities.values() if e.get("area")})
    values.update({"area": gen.rng.choice(areas) if areas else "kitchen", "name": "weather"})
    try:
        text = fill(template, values, gen.rng)
    except Unfillable:
        return None
    return text_unit(gen, home, (text.lower() if gen.rng.random() < 0.3 else text, template))
