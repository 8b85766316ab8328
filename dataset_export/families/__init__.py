"""Every example family in one table: adding a family is its function plus one line of :data:`FAMILIES`.

A family is a function of a :class:`~dataset_export.generate.Generator` returning one
unit (a list of rows) or ``None`` when the home or the split cannot produce it. The
builder draws families of the output class furthest below its share, by weight, after
drawing the coverage families first, in their order, once each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import phrasings
from ..rows import Unit
from . import actions, refusals, state

if TYPE_CHECKING:
    from ..generate import Generator

CLASSES = ("text", "one", "multi")  # the plan's output classes: no tool call, exactly one (a fetch counts), multi-step


@dataclass(frozen=True)
class Family:
    """One family: what it draws, for which output class and how often, and whether a coverage rule needs it first.

    ``cls``: the class it supplies (``None``: drawn only first, for coverage); ``weight``:
    its share among its class's families; ``first``: its place among the families drawn
    once each before any other (``0``: not one of them); ``phrasing``: one of issue 18's
    ways people name a device (its rows carry its name as a tag, counted in the card).
    """

    name: str
    draw: Callable[[Generator], Unit]
    cls: str | None
    weight: float = 0.0
    first: int = 0
    phrasing: bool = False


FAMILIES: tuple[Family, ...] = (
    Family("out_of_scope", refusals.out_of_scope, "text", 2.0),
    Family("unknown", refusals.unknown, "text", 1.5),
    Family("ambiguous", refusals.ambiguous, "text", 1.5),
    Family("not_present", refusals.not_present, "text", 1.5, first=4),
    Family("missing", refusals.missing, "text", 1.5),
    Family("noop", state.noop, "text", 2.5, first=2),
    Family("partly", refusals.partly, "text", 0.6),
    Family("direct", actions.direct, "one", 4.0, first=5),
    Family("fetch", state.fetch, "one", 3.0, first=3),
    Family("group", state.group, "one", 3.0, first=1),
    Family("area", actions.area, "one", 1.0),
    Family("partial_name", phrasings.partial_name, "one", 1.0, phrasing=True),
    Family("type_noun", phrasings.type_noun, "one", 0.8, phrasing=True),
    Family("shopping_list", phrasings.shopping_list, "one", 0.3, phrasing=True),
    Family("multi", state.multi, "multi", 1.0),
    Family("steps", phrasings.steps, "multi", 0.4, phrasing=True),
    Family("several_areas", phrasings.several_areas, "multi", 0.3, phrasing=True),
    Family("floor", phrasings.floor, "multi", 0.3, phrasing=True),
    Family("other_name", actions.other_name, None, first=6),
)
BY_NAME = {f.name: f for f in FAMILIES}
# Per output class, its families and their weights, in table order.
WEIGHTS: dict[str, list[tuple[str, float]]] = {c: [(f.name, f.weight) for f in FAMILIES if f.cls == c] for c in CLASSES}
# One of each first: every coverage rule, whatever the size.
FIRST = tuple(f.name for f in sorted((f for f in FAMILIES if f.first), key=lambda f: f.first))
PHRASINGS = tuple(f.name for f in FAMILIES if f.phrasing)
