"""The project's recogniser: what a sentence asks of one home, read as Home Assistant reads it.

Every sentence the builder writes is labelled by reading it here, not by what the
generator meant to say, so the teacher is a function of (ontology, STATE, text): two
rows with the same words in the same home get the same intent. hassil matches the
sentence against every template (:func:`dataset_export.templates.hassil_intents`)
with this home's names, areas, floors and inputs as slot lists; names carry their
domain as context, so a template that needs a lock never reads a binary sensor's name.

Readings are tried in three passes, the first that reads the sentence wins:

Before the gazetteer matcher, a request said in steps ("..., then ...") is read clause
by clause (:meth:`Recognizer._steps`), each clause as a sentence of its own.

1. names with their domains (the command is one the home can be asked);
2. names without domains (a command for the wrong kind of device: "dim the fan",
   answered with a capability refusal);
3. names the home does not have (``allow_unmatched_entities``: "turn on the hot tub"), only
   where the unmatched words are a clean mention of nothing in the home
   (:class:`~.mentions.Mentions`), never a fragment of the command ("boiler to 40 3
   degrees"); words of the home ("the dyson") are kept only when they resolve to a device
   (part of its name, its type, its place). Anything else is not understood (``None``)
   rather than answered "no such device".

Within a pass the best reading names a target by name over area, floor and device type
over none, then (for a name the home lacks) takes the longer mention, then matches more
of the template's literal text, then leaves fewer words to a free-text slot (a media class said is read), then has
the smaller template id. :meth:`Recognizer.intent` turns it into an :class:`~.intents.Intent`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from hassil.expression import TextChunk
from hassil.intents import TextSlotList, TextSlotValue
from hassil.recognize import recognize_all
from statewise_protocol import Ontology

from . import gazetteer
from .gazetteer import GazetteerReader
from .intents import OUT_OF_SCOPE, UNKNOWN, Intent, kinds, list_nouns, norm, resolve, target_domains
from .language import Language, language
from .mentions import FRAGMENT, Mentions
from .templates import AMOUNT_SLOTS, Meaning, Template, hass_meanings, hassil_intents, templates_by_sentence, wildcards

SCOPE_RANK = {"name": 0, "area": 1, "floor": 1, "none": 2}

UNMATCHABLE = frozenset({"name", "name_2"})  # the slots a name the home lacks may fill
MISSING = "<missing>"  # hassil's text for a context an unmatched name could not give
HASSIL, GAZETTEER = "hassil", "gazetteer-matcher"  # the readers, as the label command and the card name them


@dataclass(frozen=True)
class Reading:
    """One way a template reads a sentence: the slot values (``out``) and the words that said them."""

    template: Template
    values: dict[str, Any]
    spoken: dict[str, str]
    unmatched: tuple[str, ...]
    chunks: int

    def rank(self) -> tuple[Any, ...]:
        """Sort key: better readings first (see the module docstring); an unmatched "name" holding " and " is two names."""
        joined = any(f" {language(self.template.language).words['and']} " in str(self.values.get(slot, "")) for slot in self.unmatched)
        said = sum(len(str(self.values.get(slot, "")).split()) for slot in self.unmatched)  # the whole mention: "aquarium light", not "aquarium"
        # free text the template did not read: "spiel Musik von Led Zeppelin" is the artist Led Zeppelin, not a title "Musik von Led Zeppelin"
        free = sum(len(str(self.values.get(slot, "")).split()) for slot in self.template.slots & wildcards(language(self.template.language)))
        return (joined, len(self.unmatched), SCOPE_RANK[self.template.scope], -said, -self.chunks, free, self.template.id)


def _values(texts: Iterable[tuple[str, Any, dict[str, Any] | None]]) -> list[TextSlotValue]:
    return [TextSlotValue(TextChunk(text), out, context=context) for text, out, context in texts]


class Recognizer:
    """Reads sentences against one home's ontology (slot lists built once)."""

    def __init__(self, ontology: Ontology, lang: Language) -> None:
        """Build the home's slot lists: names (with and without domain context), areas, floors, inputs; sentences are read in ``lang``."""
        self.ontology = ontology
        self.lang = lang
        names = [(n, n, {"domain": e["domain"]}) for e in ontology.entities.values() for n in [e["name"], *e["aliases"]]]
        areas = sorted({(a, a) for e in ontology.entities.values() if e.get("area") for a in [e["area"], *(e.get("area_aliases") or [])]})
        floors = sorted({e["floor"] for e in ontology.entities.values() if e.get("floor")})
        inputs = sorted({i for e in ontology.entities.values() for i in (e.get("capabilities") or {}).get("inputs", [])})
        common = {
            "area": TextSlotList("area", _values((a, out, None) for a, out in areas)),
            "floor": TextSlotList("floor", _values((f, f, None) for f in floors)),
            "input": TextSlotList("input", _values((i.replace("_", " "), i, None) for i in inputs)),
        }
        self._lists = {**common, "name": TextSlotList("name", _values(names))}
        self.mentions = Mentions(ontology, lang)
        self.gazetteer = GazetteerReader(ontology, lang) if gazetteer.version() and lang.code in gazetteer.LANGUAGES else None
        self._understood: dict[str, tuple[Intent, str] | None] = {}
        self._cache: dict[str, Reading | None] = {}

    def _read(self, text: str, any_domain: bool, unmatched: bool) -> list[Reading]:
        by_sentence = templates_by_sentence(self.lang, any_domain)
        out = []
        for result in recognize_all(text, hassil_intents(self.lang, any_domain), slot_lists=self._lists, allow_unmatched_entities=unmatched):
            template = by_sentence.get(id(result.intent_sentence))
            if template is None:
                continue
            # a context the unmatched name could not give ("domain": "<missing>") is not a spoken entity
            spoken_unmatched = {k: e for k, e in result.unmatched_entities.items() if getattr(e, "text", "") != MISSING}
            if set(spoken_unmatched) - UNMATCHABLE or any(not getattr(e, "text", "").strip() for e in spoken_unmatched.values()):
                continue  # only a device name the home does not have may be unmatched
            values = {name: e.value for name, e in result.entities.items()}
            spoken = {name: e.text for name, e in result.entities.items()}
            for name, e in spoken_unmatched.items():
                values[name] = spoken[name] = norm(e.text, self.lang)
            if spoken_unmatched and not result.text_chunks_matched:
                continue  # the template said nothing but the name: the whole sentence is no device ("brew some coffee")
            problems = {self.mentions.problem(values[name]) for name in spoken_unmatched} - {None}
            if FRAGMENT in problems:
                continue  # a fragment of the command: not a name at all
            reading = Reading(template, values, spoken, tuple(sorted(spoken_unmatched)), result.text_chunks_matched)
            if problems and not self._places(reading):
                continue  # a device said another way that names nothing here: not understood, never "no such device"
            out.append(reading)
        return out

    def _places(self, reading: Reading) -> bool:
        """True when every mention of the reading names something in the home (part of a name, a type, a place)."""
        intent = self.to_intent(reading)
        return all(resolve(self.ontology, intent, m).status != UNKNOWN for m in (intent.mention, intent.also) if m is not None)

    def reading(self, text: str) -> Reading | None:
        """The best reading of ``text`` (``None`` when no template reads it)."""
        if text not in self._cache:
            best = None
            for any_domain, unmatched in ((False, False), (True, False), (False, True)):
                found = self._read(text, any_domain, unmatched)
                if found:
                    best = min(found, key=Reading.rank)
                    break
            self._cache[text] = best
        return self._cache[text]

    def understand(self, text: str) -> tuple[Intent, str] | None:
        """The intent ``text`` asks for in this home and the reader that read it (``None``: not understood).

        hassil's reading of a name, area, floor or type the home has comes first; then
        Home Assistant's gazetteer matcher (:mod:`.gazetteer`, where it can run); then
        hassil's reading of a clean mention the home lacks (answered "no such device").
        """
        if text not in self._understood:
            reading = self.reading(text)
            found: tuple[Intent, str] | None = None
            if reading is not None and not reading.unmatched:
                found = (self.to_intent(reading), HASSIL)
            elif (steps := self._steps(text)) is not None:
                found = steps
            elif self.gazetteer is not None and (read := self.gazetteer.intent(text)) is not None:
                found = (read, GAZETTEER)
            elif reading is not None:
                found = (self.to_intent(reading), HASSIL)
            self._understood[text] = found
        return self._understood[text]

    def _steps(self, text: str) -> tuple[Intent, str] | None:
        """A request said in steps ("turn on the porch light and then turn off the hall light"): each clause read on its own, in order.

        ``None`` unless there are several clauses and every one is understood as a command
        (a clause that is out of scope or not understood leaves the whole not understood).
        """
        clauses = [c.strip(" ,") for c in self.lang.sequence.split(text)]
        if len(clauses) < 2 or not all(clauses):
            return None
        read = [self.understand(c) for c in clauses]
        if any(r is None or r[0].kind == OUT_OF_SCOPE for r in read):
            return None
        steps = [step for r in read if r is not None for step in r[0].steps]
        readers = sorted({r[1] for r in read if r is not None})
        return replace(steps[0], then=tuple(steps[1:])), "+".join(readers)

    def intent(self, text: str) -> Intent | None:
        """The intent ``text`` asks for in this home (``None`` when no reader understands it)."""
        found = self.understand(text)
        return None if found is None else found[0]

    def _meaning(self, reading: Reading) -> Meaning:
        meanings = reading.template.meanings
        mention = reading.values.get("name")
        if len(meanings) == 1 or mention is None:
            return meanings[0]
        for meaning in meanings:  # the meaning whose domains hold the named entity
            probe = Intent(meaning.kind, meaning.value, mention=str(mention), domains=tuple(sorted(meaning.domains)), language=self.lang.code)
            res = resolve(self.ontology, probe)
            if res.ids and all(self.ontology.entities[e]["domain"] in meaning.domains for e in res.ids):
                return meaning
        return meanings[0]

    def to_intent(self, reading: Reading) -> Intent:
        """The :class:`Intent` of a reading."""
        template, values = reading.template, reading.values
        fixed = dict(template.fixed)
        if template.kind == OUT_OF_SCOPE:
            return Intent(OUT_OF_SCOPE, topic=template.topic or str(fixed.get("topic", "unsupported")), language=self.lang.code)
        meaning = self._meaning(reading)
        value = values.get(meaning.slot) if meaning.slot else meaning.value
        amount = next((values[s] for s in AMOUNT_SLOTS if s in values), None)
        if meaning.kind == "volume_step" and isinstance(value, int | float) and not isinstance(value, bool):
            value, amount = ("up" if value >= 0 else "down"), abs(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        name = values.get("name")
        if fixed.get("name") == "all":
            name = None
        noun = values.get("device_noun") or values.get("list_noun")
        if meaning.name is not None and name is None:  # Home Assistant's shopping list intent
            noun = next((k for k in list_nouns(self.lang) if k == meaning.name), meaning.name)
        domains = meaning.domains if meaning.domains and meaning.domains != kinds().get(meaning.kind) else None
        intent = Intent(
            meaning.kind,
            value,
            mention=str(name) if name is not None else None,
            area=values.get("area"),
            floor=values.get("floor"),
            noun=noun,
            device_class=values.get("device_class") or fixed.get("device_class"),
            domains=tuple(sorted(domains)) if domains else None,
            amount=int(amount) if isinstance(amount, float) and amount.is_integer() else amount,
            also=str(values["name_2"]) if "name_2" in values else None,
            every=template.every and name is None and values.get("area") is None and values.get("floor") is None,
            language=self.lang.code,
        )
        intent = self._switched(intent)
        if "area_2" in values:  # "the hallway and office lights": the same request of a second area, a step of its own
            intent = replace(intent, then=(replace(intent, area=str(values["area_2"])),))
        return intent

    def _fits(self, intent: Intent) -> bool:
        """True when the intent names something within the domains its kind acts on."""
        res = resolve(self.ontology, intent)
        found = res.ids or res.candidates
        return res.status != UNKNOWN and bool(found) and all(self.ontology.entities[e]["domain"] in target_domains(intent) for e in found)

    def _switched(self, intent: Intent) -> Intent:
        """On/off as Home Assistant's HassTurnOn/HassTurnOff mean it for the device named ("turn on the sprinkler": a valve opens).

        Only when the reading names no device its kind acts on; "activate X" (a script's or
        scene's words) for a device that is neither is switching it on. The meanings are the
        registry's ``hass`` entries; a vacuum is switched on by starting it (vacuum.turn_on).
        """
        if intent.kind in ("script", "scene") and intent.mention is not None and not self._fits(intent):
            intent = replace(intent, kind="power", value="on", domains=None)
        if intent.kind != "power" or intent.value not in ("on", "off") or intent.also is not None or intent.domains is not None:
            return intent
        if intent.mention is None and intent.noun is None:
            return intent  # a place or nothing: "turn on the kitchen" is the kitchen's lights, never its blinds
        if self._fits(intent):
            return intent
        probes = [replace(intent, kind="vacuum", value="start", domains=None)] if intent.value == "on" else []
        for meaning in hass_meanings("HassTurnOn" if intent.value == "on" else "HassTurnOff", {}, set()):
            if meaning.kind != "power" and meaning.value is not None:
                probes.append(replace(intent, kind=meaning.kind, value=meaning.value, domains=None))
        return next((p for p in probes if self._fits(p)), intent)
