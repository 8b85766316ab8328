"""The homes a split's rows are drawn in: the export's own, and variants of it (drawn once per split, then reused)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from statewise_protocol import Ontology

from .language import Language
from .recognize import Recognizer
from .variants import CHANGES, VARIANT_SHARE, Variant, make_variant

VARIANTS_PER_CHANGE = 4  # distinct variants kept per kind of change: enough variety, few readers to build


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


class Homes:
    """The export's home and its variants, drawn with the split's ``rng``."""

    def __init__(self, ontology: Ontology, lang: Language, rng: random.Random) -> None:
        """The export's own home; variants are made on demand."""
        self.lang, self.rng = lang, rng
        self.base = Home(Variant(ontology), lang)
        self._variants: dict[str, list[Home]] = {}

    def variant(self, change: str | None = None) -> Home | None:
        """A variant of the home (of ``change``, or any), drawn once per split and reused."""
        change = change or self.rng.choice(CHANGES)
        pool = self._variants.setdefault(change, [])
        if len(pool) < VARIANTS_PER_CHANGE:
            made = make_variant(self.base.ontology, change, self.rng, self.lang.words)
            if made is not None and all(h.ontology.prompt_json != made.ontology.prompt_json for h in pool):
                pool.append(Home(made, self.lang))
        return self.rng.choice(pool) if pool else None

    def draw(self) -> Home:
        """The home a unit is drawn in: a variant for :data:`VARIANT_SHARE` of units."""
        if self.rng.random() < VARIANT_SHARE:
            return self.variant() or self.base
        return self.base
