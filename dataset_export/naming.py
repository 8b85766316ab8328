"""How a command names its target: slot values (a name, an alias, a device type, an area) that resolve to exactly that entity.

A name is only said when the home's resolver, as Home Assistant resolves it, lands on
the intended entity with it: a command never names a device ambiguously by accident.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from .homes import Home
from .intents import OK, Intent, device_nouns, norm, noun_matches, resolve
from .language import Language

AREA_ALIAS_SHARE = 0.4  # how often an area with aliases is named by one of them
# How a family may name its target, with weights: by name, by alias, by device type (alone or with its area), or not at all.
NAMING = (("name", 6.0), ("alias", 3.0), ("noun", 1.0), ("area_noun", 1.5), ("implied", 0.7))
OTHER_NAMING = tuple((style, w) for style, w in NAMING if style != "name")  # the ``other_name`` family: never the entity's own name


class Namer:
    """Names targets in ``lang`` with the split's ``rng``; ``styles``: the naming styles drawn, with weights."""

    def __init__(self, lang: Language, rng: random.Random) -> None:
        """Every naming style (:data:`NAMING`)."""
        self.lang, self.rng = lang, rng
        self.styles = NAMING

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
        options = [o for o, _ in self.styles]
        weights = [w for _, w in self.styles]
        for _ in range(4):
            style = self.rng.choices(options, weights)[0]
            target = self.target(home, eid, entity, kind, style)
            if target is not None:
                return target
        return self.target(home, eid, entity, kind, "name")

    def target(self, home: Home, eid: str, entity: dict[str, Any], kind: str, style: str) -> dict[str, Any] | None:
        """Slot values naming ``eid`` in ``style``; ``None`` when that style cannot name exactly it."""
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
        probe = Intent(kind, mention=target.get("name"), area=target.get("area") if "name" not in target else None,
                       noun=target.get("device_noun"), language=self.lang.code)
        res = resolve(home.ontology, probe)
        return target if res.status in (OK, "not_present") and res.ids == (eid,) else None
