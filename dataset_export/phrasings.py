"""Phrasing families beyond the templates' own: how people name a device they have (issue 18).

Each family is a function of a :class:`~.generate.Generator` returning one unit (a list of
rows) or ``None``, registered in :data:`.families.FAMILIES` (the builder draws them by name, as it
draws the generator's own). The sentence is still read by the home's readers and labelled
by the teacher, so a phrasing no reader places is dropped, never answered wrongly.
"""

from __future__ import annotations

import itertools
from typing import Any

from .intents import OK, capability_gap, device_nouns, list_nouns, norm, noun_matches, noun_say, resolve
from .language import Language
from .mentions import command_words, type_words
from .rows import Unit


def _partial_mentions(ontology: Any, entity: dict[str, Any], lang: Language) -> list[str]:
    """Ways to say part of a name: its one telling word ("the dyson" for "Dyson Upstairs"), or the name with its type ("the back door lock").

    A telling word is no place of the home, no device type, no word of a command: "Living
    Room Window" has none ("room" and "living" name a place), "Garden Lights" neither.
    """
    places = {w for e in ontology.entities.values() for p in (e.get("area"), e.get("floor"), *(e.get("area_aliases") or ())) if p
              for w in norm(p, lang).split()}
    plain = {*places, *type_words(lang), *command_words(lang), *lang.words["dwelling"], *lang.words["place_words"]}
    name_words = norm(entity["name"], lang).split()
    out = [w for w in name_words if len(w) >= 4 and w not in plain]
    for key, noun in sorted(device_nouns(lang).items()):
        stems = {w.rstrip("s") for w in name_words}
        said = noun_say(key, lang) or key
        if noun_matches(noun, entity) and not any(w.rstrip("s") in stems for w in said.split()):
            out.append(f"{norm(entity['name'], lang)} {said}")
    return out


def _stacked(text: str, lang: Language) -> bool:
    """True for two device types in a row ("the radiator thermostat heater"): a template's noun after a name that has one."""
    words = norm(text, lang).split()
    types = type_words(lang)
    return any(a in types and b in types and a.rstrip("s") != b.rstrip("s") for a, b in itertools.pairwise(words))


def partial_name(gen: Any) -> Unit:
    """An absolute command naming a device by part of its name, or by its name and type -> direct action on it."""
    home = gen.home()
    options = gen.capable(home, gen.absolute)
    if not options:
        return None
    eid, kind = gen.rng.choice(options)
    entity = home.ontology.entities[eid]
    mentions = [m for m in _partial_mentions(home.ontology, entity, gen.lang)
                if norm(m, gen.lang) != norm(entity["name"], gen.lang) and resolve(home.ontology, gen.intent(kind, mention=m)).ids == (eid,)
                and resolve(home.ontology, gen.intent(kind, mention=m)).status == OK]
    if not mentions:
        return None
    made = gen.say(home, kind, gen.value_for(kind, entity), {"name": gen.rng.choice(mentions)}, entity)
    if made is None or _stacked(made[0], gen.lang):
        return None
    row = gen.unit(home, made[0], made[1], None, None, None, tags=("partial_name",))
    return [row] if row and row["output_class"] != "text" else None


THEN = (" and then ", ", then ", " then ")  # how people join the steps of a request (the reader splits on these)


def steps(gen: Any) -> Unit:
    """Two commands for two devices said in order ("turn on the porch light, then lock the back door") -> both plans, in that order."""
    home = gen.home()
    options = gen.capable(home, gen.absolute)
    if len(options) < 2:
        return None
    said = []
    for eid, kind in gen.rng.sample(options, 2):
        target = gen.naming(home, eid, kind)
        entity = home.ontology.entities[eid]
        made = None if target is None else gen.say(home, kind, gen.value_for(kind, entity), target, entity)
        if made is None:
            return None
        said.append((eid, made))
    if said[0][0] == said[1][0]:
        return None
    first, second = said[0][1][0], said[1][1][0]
    text = f"{first.rstrip('.?! ')}{gen.rng.choice(THEN)}{second[:1].lower()}{second[1:]}"
    row = gen.unit(home, text, said[0][1][1], None, None, None, tags=("steps",))
    return [row] if row and row["output_class"] == "action" and row["num_calls"] > 1 else None


def several_areas(gen: Any) -> Unit:
    """A device type in two areas at once ("turn off the hallway and office lights") -> the devices of both areas, area by area."""
    home = gen.home()
    o = home.ontology
    areas: dict[tuple[str, str], list[str]] = {}
    for eid, _kind in gen.capable(home, ("power",)):
        e = o.entities[eid]
        for key, noun in device_nouns(gen.lang).items():
            if e.get("area") and noun_matches(noun, e):
                areas.setdefault((key, e["area"]), []).append(eid)
    nouns = sorted({k for k, _ in areas if sum(1 for n, _ in areas if n == k) >= 2})
    if not nouns:
        return None
    noun = gen.rng.choice(nouns)
    first, second = gen.rng.sample(sorted(a for n, a in areas if n == noun), 2)
    entity = o.entities[areas[(noun, first)][0]]
    made = gen.say(home, "power", gen.rng.choice(("on", "off")), {"area": first, "area_2": second, "device_noun": noun}, entity)
    if made is None or f" {gen.lang.words['and']} " not in made[0]:
        return None  # a template of one area was drawn
    row = gen.unit(home, made[0], made[1], None, None, None, tags=("several_areas",))
    return [row] if row and row["output_class"] == "action" and row["num_calls"] > 1 and "then" in row["intent"] else None


def type_noun(gen: Any) -> Unit:
    """A device said by its type or class ("pause the vacuum", "close the garage door"), or every one of a type ("lock all the locks").

    -> the one such device, or every one that can do it; where several are said without
    "all" the row is not kept (that clarification is the ``ambiguous`` family's).
    """
    home = gen.home()
    o = home.ontology
    options = sorted({(key, kind) for eid, kind in gen.capable(home, gen.absolute) for key, noun in device_nouns(gen.lang).items()
                      if noun_matches(noun, o.entities[eid])})
    if not options:
        return None
    key, kind = gen.rng.choice(options)
    found = resolve(o, gen.intent(kind, noun=key, every=True))
    if found.status != OK:
        return None
    entity = o.entities[found.ids[0]]
    value = gen.value_for(kind, entity)
    if any(capability_gap(o.entities[eid], gen.intent(kind, value)) is not None for eid in found.ids):
        return None
    made = gen.say(home, kind, value, {"device_noun": key}, entity)
    if made is None:
        return None
    row = gen.unit(home, made[0], made[1], None, None, None, tags=("type_noun",))
    return [row] if row and row["output_class"] != "text" else None


def floor(gen: Any) -> Unit:
    """Devices said by the floor they are on ("switch off the downstairs lamps", "close the blinds on the first floor") -> every one there."""
    home = gen.home()
    o = home.ontology
    capable = [(eid, kind) for eid, kind in gen.capable(home, ("power", "cover")) if o.entities[eid].get("floor")]
    made = None
    for eid, kind in gen.rng.sample(capable, min(4, len(capable))):  # Home Assistant's floor sentences are for some domains only
        entity = o.entities[eid]
        if (made := gen.say(home, kind, gen.value_for(kind, entity), {"floor": entity["floor"]}, entity)) is not None:
            break
    if made is None:
        return None
    row = gen.unit(home, made[0], made[1], None, None, None, tags=("floor",))
    return [row] if row and row["output_class"] != "text" and '"floor"' in row["intent"] else None


def shopping_list(gen: Any) -> Unit:
    """An item for the shopping list said by its role ("put eggs on the list", "add milk to my shopping list") -> the to-do list that is it.

    Home Assistant's own shopping-list sentences and the templates' list nouns; kept only
    where the home has exactly one list the role names (two shopping lists: which one?).
    """
    home = gen.home()
    o = home.ontology
    lists = [eid for eid in home.present if o.entities[eid]["domain"] == "todo"]
    shopping = [eid for eid in lists if "shopping list" in list_nouns(gen.lang) and noun_matches(list_nouns(gen.lang)["shopping list"], o.entities[eid])]
    if len(shopping) != 1:
        return None
    entity = o.entities[shopping[0]]
    target = gen.rng.choice(({"list_noun": "shopping list"}, {}))
    made = gen.say(home, "todo_add", gen.value_for("todo_add", entity), target, entity)
    if made is None:
        return None
    row = gen.unit(home, made[0], made[1], None, None, None, tags=("shopping_list",))
    return [row] if row and row["output_class"] == "action" and shopping[0] in row["messages"][2]["content"] else None

