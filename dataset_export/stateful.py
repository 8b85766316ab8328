"""The stateful intent kinds, in one table: commands the teacher can only plan from STATE (rows 8/9 of the policy).

"Brighter", "volume up", "warmer", media transport, switching input and playing a
title: each acts through a tool of the registry, but which call (if any) depends on
where the device is now. Every other kind is a tool's own ``intent`` (its values
come from that tool). A new stateful kind is one line here plus its planner in
:mod:`.policy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UP_DOWN = ("up", "down")
PERCENTS = (2, 3, 4, 5, 10, 15, 25, 30)  # sizes people say a relative change by ("10 percent brighter")
DEGREES = (2, 3, 4, 5)


@dataclass(frozen=True)
class StatefulKind:
    """A kind planned from STATE.

    ``via``: the tool it acts through, by name, or the absolute kind whose tools it uses
    (toggle switches power); ``values``: the values a command asks (empty: the entity's or
    the language's own, an input or a title); ``step``: how far a relative change goes
    when no size is said; ``amounts``: sizes a command may say; ``value_arg``: the tool
    argument its value is checked as (its other values only steer the plan).
    """

    via: str
    values: tuple[Any, ...] = ()
    step: float | None = None
    amounts: tuple[int, ...] = ()
    value_arg: str | None = None


STATEFUL: dict[str, StatefulKind] = {
    "toggle": StatefulKind("power"),
    "brightness_step": StatefulKind("light_brightness", UP_DOWN, step=20, amounts=PERCENTS),
    "climate_step": StatefulKind("climate_temperature", UP_DOWN, step=1, amounts=DEGREES),
    "volume_step": StatefulKind("media_volume", UP_DOWN, step=10, amounts=PERCENTS),
    "media": StatefulKind("media_control", ("pause", "resume", "next", "previous", "stop")),
    "tv_input": StatefulKind("tv_input", value_arg="input"),
    "play_title": StatefulKind("plex_play"),
}
STATEFUL_KINDS = tuple(STATEFUL)


def acts_through(kind: str) -> str:
    """The tool (by name) or absolute kind ``kind`` acts through: a stateful kind's ``via``, else the kind itself."""
    found = STATEFUL.get(kind)
    return found.via if found else kind
