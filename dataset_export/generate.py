"""Example families: commands + states labelled by the policy, as contract rows.

Each family returns one unit (a list of rows) or ``None`` when this home or
this split cannot produce it. Rows carry every ``docs/CONTRACTS.md`` field
except ``id`` (the builder numbers them). Messages come from
``render_messages`` and answers from the policy via ``render_answer``.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from statewise_protocol import Export, dumps, render_messages, state_json, state_subset

from .intents import OK, OUT_OF_SCOPE, STATEFUL as STATEFUL_KINDS, Intent, capability_gap, kind_tool, kinds, norm, resolve
from .policy import FETCH, TEXT, decide
from .states import random_entry, variants
from .templates import Template, Unfillable, fill, fillable

TITLES = ("Terminator", "The Matrix", "Casablanca", "Metropolis", "Alien", "Heat", "Amelie", "Paddington", "Inception", "Up",
          "The Third Man", "Spirited Away", "Jaws", "Arrival", "Chinatown", "Brazil")
ITEMS = ("milk", "eggs", "batteries", "dog food", "coffee beans", "light bulbs", "bread", "olive oil", "bin bags", "oat milk")
UNKNOWN_NAMES = ("hot tub", "garden shed heater", "aquarium light", "sauna", "pool pump", "attic fan", "wine fridge", "treadmill",
                 "greenhouse lamp", "doorbell camera", "dishwasher", "heated towel rail", "projector", "electric blanket", "garage heater")
KELVINS = (2200, 2700, 3000, 3500, 4000, 5000, 6000, 6500)
LIGHT_WORDS = ("light", "lamp")
AREA_ALIAS_SHARE = 0.4  # how often an area with aliases is named by one of them
# Values of the stateful kinds (the absolute kinds' values are their tool's argument enum, see :func:`enum_values`).
STATEFUL_VALUES: dict[str, tuple[Any, ...]] = {
    "brightness_step": ("up", "down"), "climate_step": ("up", "down"), "volume_step": ("up", "down"),
    "media": ("pause", "resume", "next", "previous"),
}
STATEFUL = tuple(STATEFUL_KINDS)


def absolute_kinds() -> tuple[str, ...]:
    """The kinds a tool performs directly (its ``intent``), in registry order."""
    return tuple(k for k in kinds() if k not in STATEFUL_KINDS and k != OUT_OF_SCOPE)


def enum_values(kind: str) -> tuple[Any, ...]:
    """The values of an enumerated kind (empty when its values are not an enum): up/down, or the tool's argument enum."""
    if kind in STATEFUL_VALUES:
        return STATEFUL_VALUES[kind]
    domains = sorted(kinds().get(kind, ()))
    spec = kind_tool(kind, domains[0]) if domains else None
    value_arg = (spec.intent or {}).get("value") if spec else None
    return spec.enum(value_arg) if spec and value_arg else ()
VALUE_SLOT = {"brightness": "brightness", "color": "color", "cover_position": "position", "climate_temp": "temperature", "fan_speed": "fan_speed",
              "volume": "volume", "tv_input": "input", "play_title": "search_query", "color_temp": "kelvin", "climate_mode": "hvac_mode",
              "todo_add": "todo_list_item"}
OOS_SLOTS = {"timer_minutes": "5", "timer_seconds": "30", "timer_hours": "1", "timer_half": "half", "timer_name": "pasta"}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def intent_label(intent: Intent) -> str:
    """The ``intent`` row field: canonical JSON of the intent (reusable by the evaluator)."""
    return dumps(intent.as_dict())


class Generator:
    """Draws example units for one split of one home."""

    def __init__(self, export: Export, split: str, seed: int, templates: list[Template], pair_ok: Callable[[str, dict[str, Any]], bool]) -> None:
        self.export, self.o, self.split, self.pair_ok = export, export.ontology, split, pair_ok
        self.rng = random.Random(f"{seed}/{split}/{export.manifest['content_hash']}")
        self.by_kind: dict[str, list[Template]] = defaultdict(list)
        for t in templates:
            self.by_kind[t.kind].append(t)
        self.kinds = kinds()
        self.absolute = absolute_kinds()
        self.present = [eid for eid, e in self.o.entities.items() if e.get("present", True)]
        self.absent = [eid for eid, e in self.o.entities.items() if not e.get("present", True)]
        snaps = export.snapshots or []
        self.snapshots = [(s.id, s.states) for s in snaps] or [("synthetic", {})]
        self.groups = 0
        # held-out rows may only use the held-out share of (entity, state) pairs: draw more candidates
        self.extra = 3 if split == "train" else 12
        self._cap_cache: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self._missing: list[tuple[bool, str, str]] | None = None
        self._ambiguous: list[str] | None = None
        self._area_aliases: dict[str, list[str]] | None = None

    # ---- commands -------------------------------------------------------------------------
    def value_for(self, kind: str, entity: dict[str, Any] | None, valid: bool = True) -> Any:
        """A value for ``kind`` (``valid=False``: one the entity cannot take, where possible)."""
        rng, caps = self.rng, (entity or {}).get("capabilities") or {}
        if values := enum_values(kind):
            return rng.choice(values)
        if kind in ("brightness", "volume"):
            return rng.choice(range(5 if kind == "brightness" else 0, 101, 5))
        if kind == "fan_speed":
            return rng.choice(range(10, 101, 10))
        if kind == "cover_position":
            return rng.choice(range(10, 100, 10))
        if kind == "color_temp":
            low, high = caps.get("color_temp") or (2000, 6500)
            inside = [k for k in KELVINS if low <= k <= high]
            return rng.choice(inside or KELVINS) if valid else rng.choice((1500, 1800, 9000, 10000))
        if kind == "climate_temp":
            low, high = caps.get("temp_range") or (7, 35)
            if not valid:
                return rng.choice((high + 5, low - 3))
            value = rng.choice([x / 2 for x in range(int(low * 2), int(high * 2) + 1)][2:-2] or [float(low)])
            return int(value) if float(value).is_integer() else value
        if kind == "climate_mode":
            modes = caps.get("hvac_modes") or []
            if valid and modes:
                return rng.choice(modes)
            return rng.choice([m for m in ("dry", "fan_only", "heat_cool", "auto", "cool") if m not in modes] or ["dry"])
        if kind == "tv_input":
            inputs = caps.get("inputs") or []
            return rng.choice(inputs) if valid and inputs else rng.choice([i for i in ("netflix", "hdmi_2", "game_console", "spotify") if i not in inputs])
        if kind == "play_title":
            return rng.choice(TITLES)
        if kind == "todo_add":
            return rng.choice(ITEMS)
        return None

    def mention_for(self, eid: str, alias: bool | None = None) -> tuple[str, bool]:
        """A name or alias that resolves to exactly ``eid``, and whether it is an alias."""
        entity = self.o.entities[eid]
        options = [(entity["name"], False)] + [(a, True) for a in entity["aliases"]]
        want_alias = self.rng.random() < 0.4 if alias is None else alias
        pool = [o for o in options if o[1] == want_alias] or options
        self.rng.shuffle(pool)
        for text, is_alias in pool:
            res = resolve(self.o, Intent("power", mention=text))
            if res.ids == (eid,) and res.status in (OK, "not_present"):
                return (text.lower() if self.rng.random() < 0.5 else text), is_alias
        return "", False

    def area_mention(self, area: str) -> tuple[str, bool]:
        """``area`` or, sometimes, one of its aliases that names no other area, and whether it is an alias."""
        if self._area_aliases is None:
            names: dict[str, set[str]] = defaultdict(set)  # normalised area name or alias -> the areas it names
            found: dict[str, set[str]] = defaultdict(set)
            for e in self.o.entities.values():
                if e.get("area"):
                    names[norm(e["area"])].add(e["area"])
                    for alias in e.get("area_aliases") or ():
                        names[norm(alias)].add(e["area"])
                        found[e["area"]].add(alias)
            self._area_aliases = {a: sorted(x for x in aliases if names[norm(x)] == {a}) for a, aliases in found.items()}
        options = self._area_aliases.get(area)
        if options and self.rng.random() < AREA_ALIAS_SHARE:
            return self.rng.choice(options), True
        return area, False

    def sentence(self, intent: Intent, entity: dict[str, Any] | None, scope: str, loose: bool = False,
                 with_place: bool = True) -> tuple[str, Template, tuple[str, ...]] | None:
        """Fill a template for ``intent`` (``None`` when no template of this split fits), with its extra tags."""
        slots: dict[str, str] = {}
        place_alias = ""  # an area alias said only as the place of a named entity
        if intent.mention:
            slots["name"] = intent.mention
        if intent.area:
            slots["area"] = intent.area
        if intent.floor:
            slots["floor"] = intent.floor
        if entity and scope == "name" and with_place:
            for key in ("area", "floor"):
                if entity.get(key) and self.rng.random() < 0.5:
                    slots[key] = entity[key]
                    if key == "area":
                        slots[key], is_alias = self.area_mention(entity[key])
                        place_alias = slots[key] if is_alias else ""
        if intent.kind in VALUE_SLOT and intent.value is not None:
            slots[VALUE_SLOT[intent.kind]] = _num(intent.value) if isinstance(intent.value, int | float) else str(intent.value).replace("_", " ")
            if intent.kind == "play_title":
                slots["media_class"] = self.rng.choice(("movie", "film"))
        if intent.kind == "out_of_scope":
            slots.update(OOS_SLOTS)
        domain = (entity or {}).get("domain", intent.domain or "")
        lighty = any(w in (intent.mention or "").lower() for w in LIGHT_WORDS)
        pool = [
            t for t in self.by_kind.get(intent.kind, [])
            if t.scope == scope and (t.value is None or t.value == intent.value)
            and (not t.topic or t.topic == intent.topic or intent.kind != "out_of_scope")
            and not (lighty and t.id.startswith(("hass/HassTurnOn/0/", "hass/HassTurnOff/1/"))) and fillable(t, slots)
        ]
        # ``loose`` only when no template fits the domain: "switch off fan lamps" must not say "lamp" about fans.
        strict = [t for t in pool if not t.domains or domain in t.domains]
        pool = strict or (pool if loose else [])
        if not pool:
            return None
        template = self.rng.choice(pool)
        try:
            text = fill(template, slots, self.rng)
        except Unfillable:
            return None
        # Optional slots may go unsaid: tag the row only when the sentence names the alias.
        rest = text.replace(intent.mention, " ") if intent.mention else text
        said = place_alias and re.search(rf"(?<!\w){re.escape(place_alias)}(?!\w)", rest)
        return text, template, ("alias",) if said else ()

    # ---- rows -----------------------------------------------------------------------------
    def home_state(self, overrides: dict[str, dict[str, Any]]) -> tuple[str, dict[str, dict[str, Any]]]:
        """A base snapshot with ``overrides``; its id names the variation."""
        snap_id, states = self.rng.choice(self.snapshots)
        home = {eid: dict(entry) for eid, entry in states.items()}
        for eid in self.o.entities:
            if eid not in home:
                home[eid] = random_entry(self.o.entities[eid], self.rng)
        changed = {eid: e for eid, e in overrides.items() if home.get(eid) != e}
        home.update({eid: dict(e) for eid, e in overrides.items()})
        if changed:
            snap_id += "~" + _digest(state_json(changed))
        return snap_id, home

    def row(self, intent: Intent, text: str, template: Template, shown: dict[str, dict[str, Any]] | None,
            home: dict[str, dict[str, Any]] | None, snap_id: str, group: str = "", tags: tuple[str, ...] = ()) -> dict[str, Any]:
        """One contract row (without ``id``)."""
        variant = self.rng.randrange(1 << 16)
        decision = decide(self.o, shown, intent, variant)
        followup = ""
        if decision.output_class == FETCH and home is not None:
            fetched = decision.calls[0].arguments["entity_ids"]
            followup = decide(self.o, state_subset(home, fetched), intent, variant).answer
        res = resolve(self.o, intent) if intent.mention else None
        all_tags = set(decision.tags) | set(tags)
        if res is not None and res.via_alias and len(res.ids) == 1:
            all_tags.add("alias")
        if group:
            all_tags.add("state_sensitive")
        if decision.num_calls > 1:
            all_tags.add("multi_step")
        if shown and decision.output_class != TEXT and (len(decision.calls) < len(decision.targets) or
                                                        (intent.kind == "play_title" and len(decision.calls) < 3)):
            all_tags.add("partly_satisfied")
        targets = decision.targets or (res.candidates if res else ())
        return {
            "messages": render_messages(self.o, text, shown, decision.answer),
            "output_class": decision.output_class,
            "num_calls": 0 if decision.output_class == TEXT else decision.num_calls,
            "tags": sorted(all_tags),
            "group": group,
            "snapshot": snap_id if home is not None else "",
            "state": state_json(home) if home is not None else "",
            "followup": followup,
            "intent": intent_label(intent),
            "template": template.id,
            "domain": self.o.entities[targets[0]]["domain"] if targets else "",
            "_shown": shown or {},
            "_followup_state": state_subset(home, decision.calls[0].arguments["entity_ids"]) if followup and home else {},
            "_decision": decision,
        }

    def _kind_tools(self, kind: str) -> list[Any]:
        return [s for d in sorted(self.kinds[kind]) if (s := kind_tool(kind, d)) is not None]

    def _ok_entries(self, eid: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in entries if self.pair_ok(eid, e)]

    def _capable(self, kinds: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
        key = tuple(kinds)
        if key not in self._cap_cache:
            self._cap_cache[key] = [
                (eid, k) for k in kinds if self.by_kind.get(k) for eid in self.present
                if self.o.entities[eid]["domain"] in self.kinds[k]
                and capability_gap(self.o.entities[eid], Intent(k, self.value_for(k, self.o.entities[eid]))) is None
            ]
        return self._cap_cache[key]

    def _pick_command(self, kinds: tuple[str, ...] | list[str], value: Any = None) -> tuple[Intent, str, Template, str, tuple[str, ...]] | None:
        options = self._capable(kinds)
        if not options:
            return None
        eid, kind = self.rng.choice(options)
        entity = self.o.entities[eid]
        mention, _ = self.mention_for(eid)
        if not mention:
            return None
        intent = Intent(kind, self.value_for(kind, entity) if value is None else value, mention=mention)
        if capability_gap(entity, intent) is not None:
            return None
        made = self.sentence(intent, entity, "name")
        return (intent, *made[:2], eid, made[2]) if made else None

    # ---- families -------------------------------------------------------------------------
    def direct(self) -> list[dict[str, Any]] | None:
        """Absolute command, no STATE -> direct action."""
        picked = self._pick_command(self.absolute)
        if not picked:
            return None
        intent, text, template, _, tags = picked
        snap_id, home = self.home_state({})
        return [self.row(intent, text, template, None, home, snap_id, tags=tags)]

    def area(self) -> list[dict[str, Any]] | None:
        """Area/floor command over several entities (multi-step when more than one)."""
        scope = self.rng.choice(("area", "area", "floor"))
        places = sorted({(e[scope], e["domain"]) for eid in self.present if (e := self.o.entities[eid]).get(scope) and e["domain"] in ("light", "fan")})
        self.rng.shuffle(places)
        for place, domain in places:
            spoken, is_alias = self.area_mention(place) if scope == "area" else (place, False)
            kw = {scope: spoken, "domain": domain}
            intent = Intent("power", self.rng.choice(("on", "off")), **kw)
            res = resolve(self.o, intent)
            if res.status != OK or not 2 <= len(res.ids) <= 6:
                continue
            made = self.sentence(intent, None, scope)
            if made is None:
                continue
            use_state = self.rng.random() < 0.4
            overrides = {}
            if use_state:
                for eid in res.ids:
                    entries = self._ok_entries(eid, variants(self.o, eid, {"state": "off"}, intent, self.rng, self.extra))
                    if not entries:
                        return None
                    overrides[eid] = self.rng.choice(entries)
            snap_id, home = self.home_state(overrides)
            shown = state_subset(home, res.ids) if use_state else None
            return [self.row(intent, made[0], made[1], shown, home, snap_id, tags=(f"{scope}_scope", *(("alias",) if is_alias else ())))]
        return None

    def fetch(self) -> list[dict[str, Any]] | None:
        """State-needing command, no STATE -> one get_entity_state (followup from the home state)."""
        picked = self._pick_command(STATEFUL)
        if not picked:
            return None
        intent, text, template, eid, tags = picked
        base = self._snapshot_entry(eid)
        entries = self._ok_entries(eid, variants(self.o, eid, base, intent, self.rng, self.extra))
        if not entries:
            return None
        snap_id, home = self.home_state({eid: self.rng.choice(entries)})
        return [self.row(intent, text, template, None, home, snap_id, tags=tags)]

    def _snapshot_entry(self, eid: str) -> dict[str, Any]:
        _, states = self.rng.choice(self.snapshots)
        return dict(states.get(eid) or random_entry(self.o.entities[eid], self.rng))

    def group(self, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]] | None:
        """Same command under 2-3 states giving different answers (a state-sensitivity group)."""
        kinds = kinds or (*STATEFUL, *[k for k in self.absolute if all(s.observable for s in self._kind_tools(k))])
        picked = self._pick_command(kinds)
        if not picked:
            return None
        intent, text, template, eid, tags = picked
        entries = self._ok_entries(eid, variants(self.o, eid, self._snapshot_entry(eid), intent, self.rng, self.extra))
        self.rng.shuffle(entries)
        chosen: list[tuple[dict[str, Any], str]] = []
        for entry in entries:
            answer = decide(self.o, {eid: entry}, intent).answer
            if all(answer != a for _, a in chosen):
                chosen.append((entry, answer))
            if len(chosen) == 3:
                break
        if len(chosen) < 2:
            return None
        self.groups += 1
        gid = f"{self.split}-g{self.groups:05d}"
        rows = []
        for entry, _ in chosen[: self.rng.choice((2, 2, 3))]:
            snap_id, home = self.home_state({eid: entry})
            rows.append(self.row(intent, text, template, state_subset(home, [eid]), home, snap_id, group=gid, tags=tags))
        return rows

    def multi(self) -> list[dict[str, Any]] | None:
        """Multi-step media plan with STATE (power -> input -> play), or an area command."""
        if self.rng.random() < 0.3:
            return self.area()
        picked = self._pick_command(("play_title", "tv_input"))
        if not picked:
            return self.area()
        intent, text, template, eid, tags = picked
        entries = [e for e in self._ok_entries(eid, variants(self.o, eid, self._snapshot_entry(eid), intent, self.rng, self.extra))
                   if decide(self.o, {eid: e}, intent).num_calls > 1]
        if not entries:
            return None
        snap_id, home = self.home_state({eid: self.rng.choice(entries)})
        return [self.row(intent, text, template, state_subset(home, [eid]), home, snap_id, tags=tags)]

    def noop(self) -> list[dict[str, Any]] | None:
        """Goal already holds in STATE -> explicit no-op text."""
        picked = self._pick_command((*STATEFUL, *self.absolute))
        if not picked:
            return None
        intent, text, template, eid, tags = picked
        entries = [e for e in self._ok_entries(eid, variants(self.o, eid, self._snapshot_entry(eid), intent, self.rng, self.extra))
                   if decide(self.o, {eid: e}, intent).output_class == TEXT]
        if not entries:
            return None
        snap_id, home = self.home_state({eid: self.rng.choice(entries)})
        return [self.row(intent, text, template, state_subset(home, [eid]), home, snap_id, tags=tags)]

    def _text_row(self, intent: Intent, entity: dict[str, Any] | None, loose: bool, tags: tuple[str, ...] = ()) -> list[dict[str, Any]] | None:
        made = self.sentence(intent, entity, "none" if intent.kind == "out_of_scope" else "name", loose=loose, with_place=False)
        if made is None:
            return None
        snap_id, home = self.home_state({})
        row = self.row(intent, made[0], made[1], None, home, snap_id, tags=(*tags, *made[2]))
        return [row] if row["output_class"] == TEXT else None

    def unknown(self) -> list[dict[str, Any]] | None:
        """A device the home does not have -> refusal."""
        mention = self.rng.choice(UNKNOWN_NAMES)
        if resolve(self.o, Intent("power", mention=mention)).status != "unknown_entity":
            return None
        kind = self.rng.choice(("power", "power", "toggle", "brightness", "volume", "cover", "lock"))
        return self._text_row(Intent(kind, self.value_for(kind, None), mention=mention), None, loose=True)

    def ambiguous(self) -> list[dict[str, Any]] | None:
        """A name, alias or generic noun matching several entities -> clarification."""
        names = {n for e in self.o.entities.values() for n in [e["name"], *e["aliases"]]}
        if self._ambiguous is None:
            self._ambiguous = sorted(n for n in names | {"light", "lamp", "fan", "tv", "speaker", "thermostat", "blinds"}
                                     if resolve(self.o, Intent("power", mention=n)).status == "ambiguous")
        options = self._ambiguous
        if not options:
            return None
        mention = self.rng.choice(options)
        res = resolve(self.o, Intent("power", mention=mention))
        entity = self.o.entities[res.candidates[0]]
        kinds = [k for k in self.absolute + STATEFUL if entity["domain"] in self.kinds[k] and self.by_kind.get(k)]
        kind = self.rng.choice(kinds or ["power"])
        tags = () if mention in names else ("generic_noun",)
        return self._text_row(Intent(kind, self.value_for(kind, entity), mention=mention), entity, loose=True, tags=tags)

    def not_present(self) -> list[dict[str, Any]] | None:
        """A present:false entity -> refusal or clarification."""
        if not self.absent:
            return None
        eid = self.rng.choice(self.absent)
        entity = self.o.entities[eid]
        kinds = [k for k in self.absolute + STATEFUL if entity["domain"] in self.kinds[k] and self.by_kind.get(k)]
        if not kinds:
            return None
        mention, _ = self.mention_for(eid)
        if not mention:
            return None
        kind = self.rng.choice(kinds)
        return self._text_row(Intent(kind, self.value_for(kind, entity), mention=mention), entity, loose=True)

    def missing(self) -> list[dict[str, Any]] | None:
        """A capability or value the entity lacks -> refusal."""
        if self._missing is None:
            self._missing = [
                (self.o.entities[eid]["domain"] in self.kinds[kind], eid, kind)
                for eid in self.present for kind in sorted(self.by_kind) if kind != "out_of_scope"
                and capability_gap(self.o.entities[eid], Intent(kind, self.value_for(kind, self.o.entities[eid], valid=False))) is not None
            ]
        same = self.rng.random() < 0.85
        options = [(eid, kind) for s, eid, kind in self._missing if s == same] or [(eid, kind) for _, eid, kind in self._missing]
        if not options:
            return None
        eid, kind = self.rng.choice(options)
        entity = self.o.entities[eid]
        mention, _ = self.mention_for(eid)
        intent = Intent(kind, self.value_for(kind, entity, valid=False), mention=mention)
        if not mention or capability_gap(entity, intent) is None:
            return None
        return self._text_row(intent, entity, loose=True)

    def out_of_scope(self) -> list[dict[str, Any]] | None:
        """Chit-chat, world knowledge, memory, unsupported -> refusal."""
        topic = self.rng.choice(("chit_chat", "world_knowledge", "memory", "unsupported"))
        return self._text_row(Intent("out_of_scope", topic=topic), None, loose=True)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
