"""Sentence templates: home-assistant-intents (English, CC BY 4.0) plus the project's own.

Templates are parsed by ``hassil`` (``parse_sentence``; Home Assistant's
expansion rules such as ``<name>``, ``<turn>``, ``<area>`` apply to both kinds)
and filled by a seeded random walk over hassil's expression tree with the
export's own names, aliases, areas, floors and values. A template that cannot
be filled from the given slots is not used; a filled sentence never keeps a
slot (asserted). Ids are stable: ``hass/<Intent>/<block>/<sentence>`` or
``own/<kind>/<n>``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Any

from hassil.expression import Alternative, Expression, ListReference, Permutation, RuleReference, Sentence, Sequence, TextChunk
from hassil.intents import Intents
from hassil.parse_expression import parse_sentence
from hassil.util import normalize_whitespace
from home_assistant_intents import get_intents

ATTRIBUTION = (
    "Sentence templates from home-assistant-intents (https://github.com/OHF-Voice/intents), "
    "© Open Home Foundation and contributors, licensed CC BY 4.0; used via hassil and adapted (filled with this home's names)."
)
POWER_DOMAINS = frozenset({"light", "switch", "fan", "media_player"})


@dataclass(frozen=True)
class Template:
    """One sentence template and the intent it expresses."""

    id: str
    kind: str
    scope: str  # "name", "area", "floor" or "none"
    value: Any
    domains: frozenset[str]
    sentence: Sentence
    rules: tuple[tuple[str, Sentence], ...]
    topic: str = ""

    @property
    def source(self) -> str:
        """``hassil`` or ``own``."""
        return "hassil" if self.id.startswith("hass/") else "own"


# (intent, block index) -> (kind, scope, value, domains); blocks not listed are not used.
HASS_BLOCKS: dict[tuple[str, int], tuple[str, str, Any, frozenset[str]]] = {
    ("HassTurnOn", 0): ("power", "name", "on", frozenset({"light"})),
    ("HassTurnOn", 1): ("power", "area", "on", frozenset({"light"})),
    ("HassTurnOn", 2): ("power", "floor", "on", frozenset({"light"})),
    ("HassTurnOn", 5): ("power", "area", "on", frozenset({"fan"})),
    ("HassTurnOn", 7): ("script", "name", None, frozenset({"script"})),
    ("HassTurnOn", 8): ("scene", "name", None, frozenset({"scene"})),
    ("HassTurnOn", 10): ("valve", "name", "open", frozenset({"valve"})),
    ("HassTurnOn", 11): ("lock", "name", "lock", frozenset({"lock"})),
    ("HassTurnOn", 13): ("power", "name", "on", POWER_DOMAINS),
    ("HassTurnOn", 14): ("cover", "name", "open", frozenset({"cover"})),
    ("HassTurnOff", 0): ("power", "name", "off", POWER_DOMAINS),
    ("HassTurnOff", 1): ("power", "name", "off", frozenset({"light"})),
    ("HassTurnOff", 2): ("power", "area", "off", frozenset({"light"})),
    ("HassTurnOff", 3): ("power", "floor", "off", frozenset({"light"})),
    ("HassTurnOff", 6): ("cover", "name", "close", frozenset({"cover"})),
    ("HassTurnOff", 10): ("power", "area", "off", frozenset({"fan"})),
    ("HassTurnOff", 13): ("lock", "name", "unlock", frozenset({"lock"})),
    ("HassTurnOff", 15): ("valve", "name", "close", frozenset({"valve"})),
    ("HassLightSet", 0): ("brightness", "name", None, frozenset({"light"})),
    ("HassLightSet", 1): ("brightness", "name", None, frozenset({"light"})),
    ("HassLightSet", 9): ("color", "name", None, frozenset({"light"})),
    ("HassSetPosition", 1): ("cover_position", "name", None, frozenset({"cover"})),
    ("HassClimateSetTemperature", 3): ("climate_temp", "name", None, frozenset({"climate"})),
    ("HassMediaPause", 0): ("media", "name", "pause", frozenset({"media_player"})),
    ("HassMediaUnpause", 0): ("media", "name", "resume", frozenset({"media_player"})),
    ("HassMediaNext", 0): ("media", "name", "next", frozenset({"media_player"})),
    ("HassMediaPrevious", 0): ("media", "name", "previous", frozenset({"media_player"})),
    ("HassSetVolume", 0): ("volume", "name", None, frozenset({"media_player"})),
    ("HassSetVolumeRelative", 4): ("volume_step", "name", "up", frozenset({"media_player"})),
    ("HassSetVolumeRelative", 6): ("volume_step", "name", "down", frozenset({"media_player"})),
    ("HassFanSetSpeed", 1): ("fan_speed", "name", None, frozenset({"fan"})),
    ("HassVacuumStart", 0): ("vacuum", "name", "start", frozenset({"vacuum"})),
    ("HassVacuumReturnToBase", 0): ("vacuum", "name", "return_home", frozenset({"vacuum"})),
    ("HassListAddItem", 0): ("todo_add", "name", None, frozenset({"todo"})),
    ("HassMediaSearchAndPlay", 2): ("play_title", "name", None, frozenset({"media_player"})),
    ("HassGetWeather", 0): ("out_of_scope", "none", None, frozenset()),
    ("HassGetCurrentTime", 0): ("out_of_scope", "none", None, frozenset()),
    ("HassGetCurrentDate", 0): ("out_of_scope", "none", None, frozenset()),
    ("HassStartTimer", 0): ("out_of_scope", "none", None, frozenset()),
}
L, M, F, C, CL, V = frozenset({"light"}), frozenset({"media_player"}), frozenset({"fan"}), frozenset({"cover"}), frozenset({"climate"}), frozenset({"vacuum"})
# kind -> (value, domains, scope, topic, sentences) for what Home Assistant's templates lack.
OWN: dict[str, list[tuple[Any, frozenset[str], str, str, tuple[str, ...]]]] = {
    "toggle": [(None, POWER_DOMAINS, "name", "", ("toggle <name>", "<name> toggle", "flip <name>", "switch <name> the other way", "toggle <name> please"))],
    "brightness_step": [
        ("up", L, "name", "", ("(make|turn) <name> brighter", "brighten <name> [a bit|a little]", "<name> brighter [please]", "turn up <name> a (bit|little)")),
        ("down", L, "name", "", ("dim <name> [a bit|a little]", "(make|turn) <name> dimmer", "<name> dimmer [please]", "turn down <name> a (bit|little)")),
    ],
    "climate_step": [
        ("up", CL, "name", "", ("(make|turn) <name> warmer", "turn up <name> [by] (a|one) degree", "raise <name> [by] one degree",
                                "<name> a (bit|degree) warmer")),
        ("down", CL, "name", "", ("(make|turn) <name> cooler", "turn down <name> [by] (a|one) degree", "lower <name> [by] one degree",
                                  "<name> a (bit|degree) cooler")),
    ],
    "volume_step": [
        ("up", M, "name", "", ("make <name> louder", "<name> louder [please]", "a bit louder on <name>")),
        ("down", M, "name", "", ("make <name> quieter", "<name> quieter [please]", "a bit quieter on <name>")),
    ],
    "tv_input": [(None, M, "name", "", ("switch <name> to {input}", "(change|set) the (input|source) (of|on) <name> to {input}", "put <name> on {input}",
                                        "<name> input {input}", "go to {input} on <name>"))],
    "play_title": [(None, M, "name", "", ("play {search_query} on <name> (with|using|via) plex", "put {search_query} on <name>",
                                          "I want to watch {search_query} on <name>", "start [the] (movie|film) {search_query} on <name>",
                                          "(show|stream) {search_query} on <name> from plex"))],
    "color_temp": [(None, L, "name", "", ("set <name> to {kelvin} kelvin", "(make|change) <name> [colour temperature] [to] {kelvin} K",
                                          "<name> colour temperature {kelvin}", "(warm|cool) white {kelvin} kelvin on <name>"))],
    "climate_mode": [(None, CL, "name", "", ("set <name> to {hvac_mode} mode", "(switch|put) <name> (to|into|on) {hvac_mode} [mode]",
                                             "<name> {hvac_mode} mode [please]", "change <name> mode to {hvac_mode}"))],
    "power": [("on", M | F, "name", "", ("switch on <name>", "power on <name>", "<name> on please")),
              ("off", M | F, "name", "", ("switch off <name>", "power off <name>", "<name> off please"))],
    "cover": [("stop", C, "name", "", ("stop <name>", "halt <name>", "stop moving <name>")),
              ("open", C, "name", "", ("open <name> (all the way|fully)", "fully open <name>")),
              ("close", C, "name", "", ("close <name> (all the way|fully)", "shut <name> [completely]"))],
    "vacuum": [("pause", V, "name", "", ("pause <name>", "<name> pause cleaning", "hold on <name>")),
               ("stop", V, "name", "", ("stop <name>", "<name> stop cleaning", "stop the cleaning with <name>")),
               ("return_home", V, "name", "", ("send <name> (home|back to [its] (base|dock))", "<name> go home", "dock <name>"))],
    "out_of_scope": [
        (None, frozenset(), "none", "chit_chat", ("(hi|hello|hey) [there]", "how are you [doing] [today]", "tell me a joke", "what's your name",
                                                 "thank you [very much]", "you're (great|funny|annoying)", "sing me a song", "are you a robot")),
        (None, frozenset(), "none", "world_knowledge", ("what is the capital of (France|Japan|Peru|Canada)", "who wrote Hamlet",
                                                       "how (tall|old) is the Eiffel Tower", "what's (two|seven) plus (three|five)",
                                                       "translate good morning into (French|German)", "how far is the moon",
                                                       "who won the world cup in (2014|2018|2022)", "what does photosynthesis mean")),
        (None, frozenset(), "none", "memory", ("remember that my (favourite|preferred) (colour|film) is (blue|Alien)",
                                              "what did I (ask|say) (yesterday|earlier|last time)",
                                              "do you remember my (name|birthday)", "what was the last thing I asked you",
                                              "remind me what (I|we) (talked|spoke) about (yesterday|last week)", "what did you do for me this morning")),
        (None, frozenset(), "none", "unsupported", ("order a pizza", "call (mum|dad|the office)", "send an email to (Sam|my boss)",
                                                   "book a table for two [tonight]", "buy more coffee online", "read my messages")),
        # appended later: keep earlier ids stable
        (None, frozenset(), "none", "chit_chat", ("good (morning|evening|night) [to you]", "what's up", "I'm (bored|tired|hungry)",
                                                 "do you like (music|films|cats)", "what are you up to")),
        (None, frozenset(), "none", "world_knowledge", ("what's the population of (Spain|Brazil|India)", "when was the (telephone|radio) invented",
                                                       "how many (legs does a spider have|days are in a leap year)", "who painted the Mona Lisa",
                                                       "what's the boiling point of water")),
        (None, frozenset(), "none", "memory", ("what's my (wife's|husband's|dog's) name", "remember (this|that) for later",
                                              "what did we (agree|decide) (yesterday|last time)", "which (film|song) did I (like|play) last")),
    ],
}


@cache
def _hass() -> Intents:
    return Intents.from_dict(get_intents("en"))


@cache
def all_templates() -> tuple[Template, ...]:
    """Every template, in a stable order."""
    intents = _hass()
    out: list[Template] = []
    for (name, block), (kind, scope, value, domains) in HASS_BLOCKS.items():
        data = intents.intents[name].data[block]
        rules = {**intents.expansion_rules, **data.expansion_rules}
        for i, text in enumerate(data.sentence_texts):
            topic = "unsupported" if kind == "out_of_scope" else ""
            out.append(Template(f"hass/{name}/{block}/{i}", kind, scope, data.slots.get("volume_step", value), domains,
                                parse_sentence(text, keep_text=True), tuple(sorted(rules.items())), topic))
    global_rules = tuple(sorted(intents.expansion_rules.items()))
    for kind, groups in OWN.items():
        n = 0
        for value, domains, scope, topic, sentences in groups:
            for text in sentences:
                out.append(Template(f"own/{kind}/{n}", kind, scope, value, domains, parse_sentence(text, keep_text=True), global_rules, topic))
                n += 1
    return tuple(out)


class Unfillable(Exception):
    """The template needs a slot the command does not have."""


_FILLABLE: dict[tuple[int, frozenset[str]], tuple[Expression, bool]] = {}


def _fillable(expr: Expression, slots: frozenset[str], rules: dict[str, Sentence], seen: frozenset[str] = frozenset()) -> bool:
    key = (id(expr), slots)
    hit = _FILLABLE.get(key)
    if hit is not None and hit[0] is expr and not seen:
        return hit[1]
    result = _fillable_uncached(expr, slots, rules, seen)
    if not seen:
        _FILLABLE[key] = (expr, result)
    return result


def _fillable_uncached(expr: Expression, slots: frozenset[str], rules: dict[str, Sentence], seen: frozenset[str]) -> bool:
    if isinstance(expr, TextChunk):
        return True
    if isinstance(expr, ListReference):
        return expr.list_name in slots
    if isinstance(expr, RuleReference):
        if expr.rule_name in seen or expr.rule_name not in rules:
            return False
        return _fillable(rules[expr.rule_name].expression, slots, rules, seen | {expr.rule_name})
    if isinstance(expr, Alternative):
        return any(_fillable(item, slots, rules, seen) for item in expr.items)
    if isinstance(expr, Sequence | Permutation):
        return all(_fillable(item, slots, rules, seen) for item in expr.items)
    return False


def _walk(expr: Expression, slots: dict[str, str], rules: dict[str, Sentence], rng: random.Random) -> str:
    if isinstance(expr, TextChunk):
        return expr.original_text
    if isinstance(expr, ListReference):
        return slots[expr.list_name]
    if isinstance(expr, RuleReference):
        return _walk(rules[expr.rule_name].expression, slots, rules, rng)
    if isinstance(expr, Alternative):
        keys = frozenset(slots)
        options = [item for item in expr.items if _fillable(item, keys, rules)]
        if not options:
            raise Unfillable(str(expr))
        return _walk(rng.choice(options), slots, rules, rng)
    if isinstance(expr, Permutation):
        items = list(expr.items)
        rng.shuffle(items)
        return " ".join(_walk(item, slots, rules, rng) for item in items)
    if isinstance(expr, Sequence):
        return "".join(_walk(item, slots, rules, rng) for item in expr.items)
    raise Unfillable(type(expr).__name__)


def fillable(template: Template, slots: dict[str, str]) -> bool:
    """True when every required slot of ``template`` is in ``slots``."""
    return _fillable(template.sentence.expression, frozenset(slots), dict(template.rules))


def fill(template: Template, slots: dict[str, str], rng: random.Random) -> str:
    """A sentence from ``template`` with ``slots`` filled (raises :class:`Unfillable`)."""
    rules = dict(template.rules)
    if not _fillable(template.sentence.expression, frozenset(slots), rules):
        raise Unfillable(template.id)
    text = normalize_whitespace(_walk(template.sentence.expression, slots, rules, rng)).strip()
    text = text.replace(" ,", ",")
    if not text or any(ch in text for ch in "{}<>[]"):
        raise Unfillable(f"unfilled slot in {template.id}: {text!r}")
    return text
