"""The French language folder (issue 19): it loads, merges with Home Assistant's French intents, reads back what it says.

The checks are written once here, for any language code, and ``test_language_es.py`` runs them for Spanish:

- the folder loads with ``dataset_export.language.load_language`` (its JSON schemas);
- its keys match English's: words, phrases (with their placeholders), tool words, and the sentence file's
  intents and blocks (slots, conditions, metadata);
- merged as the builder merges (Home Assistant's intents for the language, the folder's intents, lists and
  expansion rules, the noun lists, ``input`` as a wildcard) it parses with hassil, every list and rule a template
  names exists, and every template, sampled with hassil, is read back by hassil's recogniser as its own intent
  with its block's fixed slots;
- every reply renders as the protocol's plain text, also with every tool's words in the ``missing`` and ``noop`` replies;
- no English word of a small stop list appears in the replies or the templates.
"""

from __future__ import annotations

import copy
import itertools
import re
import string
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hassil.expression import Alternative, Expression, ListReference, Permutation, RuleReference, Sentence, Sequence
from hassil.intents import Intents, RangeSlotList, SlotList, TextSlotList, WildcardSlotList
from hassil.recognize import recognize_all
from hassil.sample import sample_expression
from hassil.util import normalize_whitespace
from home_assistant_intents import get_intents
from statewise_protocol import KIND_TEXT, parse_output

from dataset_export.language import Language, load_language

ROOT = Path(__file__).resolve().parents[2] / "custom_components" / "statewise" / "protocol" / "languages"
STOP_WORDS = frozenset({"the", "turn", "please", "light", "lights", "can't", "already"})
PROPER_NOUNS = frozenset({"plex", "netflix", "spotify", "youtube", "chromecast", "hdmi", "bluetooth", "usb", "aux"})
SAMPLES_PER_SENTENCE = 6  # spread over the first SAMPLE_WINDOW expansions of each template
SAMPLE_WINDOW = 3000
TARGET_LISTS = ("name", "area", "floor")
# A few names per target list for each language: a name per domain (its context is what requires_context checks).
HOMES: dict[str, dict[str, Any]] = {
    "fr": {"name": {"light": "lampe du salon", "switch": "prise du bureau", "fan": "ventilateur de la chambre",
                    "media_player": "télé du salon", "humidifier": "humidificateur", "climate": "thermostat du couloir",
                    "water_heater": "chauffe-eau", "cover": "volet de la cuisine", "valve": "arrosage du potager",
                    "vacuum": "robot aspirateur", "lock": "porte d'entrée", "todo": "liste de courses"},
           "area": ["cuisine", "salon", "chambre d'amis", "bureau"], "floor": ["rez-de-chaussée", "premier étage"]},
    "en": {"name": {"light": "living room lamp", "switch": "office plug", "fan": "bedroom fan", "media_player": "living room tv",
                    "humidifier": "humidifier", "climate": "hallway thermostat", "water_heater": "boiler", "cover": "kitchen shutter",
                    "valve": "garden sprinkler", "vacuum": "robot", "lock": "front door", "todo": "groceries"},
           "area": ["kitchen", "living room", "guest room", "office"], "floor": ["ground floor", "first floor"]},
    "es": {"name": {"light": "lámpara del salón", "switch": "enchufe del despacho", "fan": "ventilador del dormitorio",
                    "media_player": "tele del salón", "humidifier": "humidificador", "climate": "termostato del pasillo",
                    "water_heater": "termo", "cover": "persiana de la cocina", "valve": "riego del huerto",
                    "vacuum": "robot aspirador", "lock": "puerta principal", "todo": "lista de la compra"},
           "area": ["cocina", "salón", "dormitorio de invitados", "despacho"], "floor": ["planta baja", "primera planta"]},
}
WILDCARD_SAMPLES = {"input": ("hdmi 2", "netflix"), "search_query": "titles", "todo_list_item": "items"}


def english() -> Language:
    """The English folder: the model every language's keys are checked against."""
    return load_language("en", root=ROOT)


def language(code: str, root: Path = ROOT) -> Language:
    """The folder under test, loaded as the builder loads it (schema errors raise here)."""
    return load_language(code, root=root)


# --- keys and structure -------------------------------------------------------------------------------------------


def placeholders(value: Any) -> set[str]:
    """The ``{field}`` names in a string, or in every string of a nested structure."""
    if isinstance(value, str):
        return {name for _, name, _, _ in string.Formatter().parse(value) if name}
    if isinstance(value, Mapping):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


def is_rule(value: Any) -> bool:
    """A ``{by: argument, map: {value: words}}`` rule (``statewise_protocol.tools.by_value``)."""
    return isinstance(value, Mapping) and set(value) == {"by", "map"}


def structure_problems(code: str) -> list[str]:
    """Keys and placeholders of English's words, phrases and sentences that the language lacks or changes."""
    en, lang = english(), language(code)
    problems: list[str] = []
    problems += [f"words.yaml lacks {key}" for key in set(en.words) - set(lang.words)]
    for table in ("device_nouns", "list_nouns"):
        if set(en.words[table]) != set(lang.words[table]):
            problems.append(f"words.yaml {table}: ids {sorted(set(en.words[table]) ^ set(lang.words[table]))} differ from English")
        for key, spec in lang.words[table].items():
            english_spec = en.words[table].get(key, {})
            problems += [f"words.yaml {table}/{key}: {field} {'missing' if field in english_spec else 'not in English'}"
                         for field in ("say", "words") if (field in spec) != (field in english_spec)]
    problems += [f"words.yaml out_of_scope_values lacks {key}" for key in set(en.words["out_of_scope_values"]) - set(lang.words["out_of_scope_values"])]
    for key, value in en.phrases.items():
        if key == "tools":
            continue
        if key not in lang.phrases:
            problems.append(f"phrases.yaml lacks {key}")
        elif key == "out_of_scope":
            problems += [f"phrases.yaml out_of_scope lacks {topic}" for topic in set(value) - set(lang.phrases[key])]
        elif isinstance(value, Mapping) and set(value) != set(lang.phrases[key]):
            problems.append(f"phrases.yaml {key}: keys {sorted(set(value) ^ set(lang.phrases[key]))} differ from English")
        elif isinstance(value, Mapping) and any(placeholders(v) != placeholders(lang.phrases[key][k]) for k, v in value.items()):
            problems.append(f"phrases.yaml {key}: placeholders differ from English's")
        elif placeholders(value) != placeholders(lang.phrases[key]):
            problems.append(f"phrases.yaml {key}: placeholders {sorted(placeholders(lang.phrases[key]))}, English {sorted(placeholders(value))}")
    modes = {v["out"] for v in lang.sentences.get("lists", {}).get("hvac_mode", {}).get("values", [])}
    for tool, words in en.phrases["tools"].items():
        mine = lang.phrases["tools"].get(tool)
        if mine is None:
            problems.append(f"phrases.yaml tools lacks {tool}")
            continue
        if set(words) != set(mine):
            problems.append(f"phrases.yaml tools/{tool}: keys {sorted(mine)}, English {sorted(words)}")
            continue
        for head, value in words.items():
            ours = mine[head]
            if is_rule(ours) and not is_rule(value):  # a word per argument value where English says the value itself
                wanted = modes if ours["by"] == "hvac_mode" else set()
                if not wanted or set(map(str, ours["map"])) != wanted:
                    problems.append(f"phrases.yaml tools/{tool}/{head}: its map covers {sorted(ours['map'])}, the values are {sorted(wanted)}")
                extra = placeholders(ours) - placeholders(value)
                if extra:
                    problems.append(f"phrases.yaml tools/{tool}/{head}: placeholders {sorted(extra)} English lacks")
                continue
            if is_rule(value) != is_rule(ours) or (is_rule(value) and (value["by"] != ours["by"] or set(value["map"]) != set(ours["map"]))):
                problems.append(f"phrases.yaml tools/{tool}/{head}: not the structure of English's")
            elif isinstance(value, Mapping) and not is_rule(value) and set(value) != set(ours):
                problems.append(f"phrases.yaml tools/{tool}/{head}: keys {sorted(ours)}, English {sorted(value)}")
            elif placeholders(value) != placeholders(ours):
                problems.append(f"phrases.yaml tools/{tool}/{head}: placeholders {sorted(placeholders(ours))}, English {sorted(placeholders(value))}")
    en_intents, intents = en.sentences["intents"], lang.sentences["intents"]
    if set(en_intents) != set(intents):
        problems.append(f"sentences.yaml intents {sorted(set(en_intents) ^ set(intents))} differ from English")
    for name in set(en_intents) & set(intents):
        en_blocks, blocks = en_intents[name]["data"], intents[name]["data"]
        if len(en_blocks) != len(blocks):
            problems.append(f"sentences.yaml {name}: {len(blocks)} blocks, English {len(en_blocks)}")
            continue
        for i, (en_block, block) in enumerate(zip(en_blocks, blocks, strict=True)):
            for key in ("slots", "requires_context", "excludes_context", "metadata"):
                if en_block.get(key) != block.get(key):
                    problems.append(f"sentences.yaml {name} block {i}: {key} {block.get(key)!r}, English {en_block.get(key)!r}")
    return problems


# --- merging and reading back -------------------------------------------------------------------------------------


def merged_data(lang: Language) -> dict[str, Any]:
    """Home Assistant's intents for the language with the folder's merged in, as the builder merges them."""
    data = copy.deepcopy(get_intents(lang.code))
    own = lang.sentences
    data["intents"].update(copy.deepcopy(own["intents"]))
    data["lists"].update(copy.deepcopy(own.get("lists", {})))
    data.setdefault("expansion_rules", {}).update(own.get("expansion_rules", {}))
    for list_name, table in (("device_noun", "device_nouns"), ("list_noun", "list_nouns")):
        data["lists"][list_name] = {"values": [{"in": spoken, "out": key} for key, spec in lang.words[table].items() for spoken in spec["spoken"]]}
    data["lists"]["input"] = {"wildcard": True}
    return data


def home_lists(code: str, domains: set[str] | None = None) -> dict[str, SlotList]:
    """``name``/``area``/``floor`` slot lists of a small home (names limited to ``domains``; each carries its domain as context)."""
    home = HOMES[code]
    names = [(text, text, {"domain": domain}) for domain, text in home["name"].items() if domains is None or domain in domains]
    return {"name": TextSlotList.from_tuples(names, allow_template=False, name="name"),
            "area": TextSlotList.from_strings(home["area"], allow_template=False, name="area"),
            "floor": TextSlotList.from_strings(home["floor"], allow_template=False, name="floor")}


def sampling_lists(lang: Language, intents: Intents) -> dict[str, SlotList]:
    """Slot lists for sampling: wildcards get sample values, ranges a few numbers (digits and words) instead of all of them."""
    out: dict[str, SlotList] = {}
    for name, slot_list in intents.slot_lists.items():
        if isinstance(slot_list, WildcardSlotList):
            values = WILDCARD_SAMPLES.get(name, ("un deux",))
            values = lang.words[values][:3] if isinstance(values, str) else values
            out[name] = TextSlotList.from_strings(values, allow_template=False, name=name)
        elif isinstance(slot_list, RangeSlotList):
            numbers = list(slot_list.get_numbers())
            picked = sorted({numbers[len(numbers) // 5], numbers[len(numbers) // 2], numbers[-1]}, key=numbers.index)
            texts = [str(n) for n in picked]
            whole = int(picked[0])  # one number said in words (hassil's own speller)
            spelt = RangeSlotList(name, whole, whole, words=True, digits=False)
            texts += list(itertools.islice(sample_expression(ListReference(name), {name: spelt}, language=lang.number_language), 1))
            out[name] = TextSlotList.from_strings(texts, allow_template=False, name=name)
    return out


def spread(items: list[str], count: int) -> list[str]:
    """``count`` items evenly spread over ``items`` (all when there are fewer)."""
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def samples(sentence: Sentence, lists: Mapping[str, SlotList], rules: Mapping[str, Sentence], code: str) -> list[str]:
    """A few texts of one template, expanded by hassil (the shortest one, without optional parts, among them)."""
    window = list(itertools.islice(sample_expression(sentence.expression, dict(lists), dict(rules), language=code), SAMPLE_WINDOW))
    short = list(itertools.islice(sample_expression(sentence.expression, dict(lists), dict(rules), language=code, skip_optionals=True), 1))
    return list(dict.fromkeys(normalize_whitespace(t).strip() for t in spread(window, SAMPLES_PER_SENTENCE) + short))


def references(expr: Expression) -> Iterator[ListReference | RuleReference]:
    """The list and rule references of a template, not following rules."""
    if isinstance(expr, ListReference | RuleReference):
        yield expr
    elif isinstance(expr, Alternative | Sequence | Permutation):
        for item in expr.items:
            yield from references(item)


def context_of(domains: set[str] | None, sentence_text: str) -> dict[str, Any] | None:
    """The context a block that names no device is read in ("es ist zu dunkel" is about the lights): its one domain.

    A sentence with a name, area or floor gets its domain from the name the home gives; one without gets it from what
    the conversation knows, as the project's recogniser and Home Assistant do, so it is read back in that context.
    """
    if domains is None or len(domains) != 1 or re.search(r"\{(name|area|floor)[}:]", sentence_text):
        return None
    return {"domain": next(iter(domains))}


def readback(code: str, root: Path = ROOT) -> tuple[int, int, list[str]]:
    """Sample every template of the folder's intents and read each sample back (templates, samples, failures).

    A sample passes when hassil reads it as its own intent, every reading of that intent carries the block's fixed
    slots (a sentence two blocks of one intent both say, "on" and "off", fails), and no other of the folder's intents
    reads it for a device of the same domain (one sentence, one meaning).
    """
    lang = language(code, root)
    intents = Intents.from_dict(merged_data(lang))
    rules = intents.expansion_rules
    sample_lists = sampling_lists(lang, intents)
    read_lists = home_lists(code)
    failures: list[str] = []
    found: list[tuple[str, dict[str, Any], set[str] | None, str, Sentence]] = []
    for name in lang.sentences["intents"]:
        for block, raw in zip(intents.intents[name].data, lang.sentences["intents"][name]["data"], strict=True):
            domains = (raw.get("requires_context") or {}).get("domain")
            domains = {domains} if isinstance(domains, str) else set(domains) if domains else None
            for text, sentence in zip(block.sentence_texts, block.sentences, strict=True):
                found.append((name, raw.get("slots") or {}, domains, text, sentence))
                missing = [f"<{r.rule_name}>" for r in references(sentence.expression) if isinstance(r, RuleReference) and r.rule_name not in rules]
                missing += [f"{{{r.list_name}}}" for r in references(sentence.expression)
                            if isinstance(r, ListReference) and r.list_name not in intents.slot_lists and r.list_name not in TARGET_LISTS]
                if missing:
                    failures.append(f"{name}: {text!r} names {missing}, which neither Home Assistant's {code} data nor the folder defines")
    sampled = 0
    if failures:  # hassil cannot read anything while a template names what does not exist
        return len(found), sampled, failures
    for name, fixed, domains, text, sentence in found:
        lists = {**intents.slot_lists, **sample_lists, **home_lists(code, domains)}
        for said in samples(sentence, lists, rules, code):
            sampled += 1
            results = list(recognize_all(said, intents, slot_lists=read_lists, language=code, intent_context=context_of(domains, text)))
            own = [r for r in results if r.intent.name == name]
            others = sorted({r.intent.name for r in results if r.intent.name in lang.sentences["intents"] and r.intent.name != name})
            if others:
                failures.append(f"{name}: {text!r} -> {said!r} is also read as {others}")
            elif not own or not all(set(fixed) <= set(r.entities) and all(str(r.entities[k].value) == str(v) for k, v in fixed.items()) for r in own):
                got = sorted({(r.intent.name, tuple(sorted((k, str(e.value)) for k, e in r.entities.items()))) for r in results})[:3]
                failures.append(f"{name}: {text!r} -> {said!r} read as {got or 'nothing'}")
    return len(found), sampled, failures


# --- replies and English words ------------------------------------------------------------------------------------

FILLERS = {"m": "la lampe du salon", "n": "Lampe du salon", "c": "Lampe du salon ou Lampe du bureau", "w": "lumière", "p": "cuisine",
           "k": "12", "d": "sous tension", "r": "Refus.", "value": "21", "low": "5", "high": "30", "name": "Lampe", "area": "salon",
           "place": "cuisine", "items": "a, b", "last": "c", "shown": "a, b, c", "count": "4"}


def strings(value: Any) -> Iterator[str]:
    """Every string of a nested structure (keys of ``map`` tables excluded: they are argument values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def reply_problems(code: str) -> list[str]:
    """Replies that are not the protocol's plain text once filled, also with every tool's words in ``missing``/``noop``."""
    lang = language(code)
    problems: list[str] = []
    replies: list[str] = [t for key, value in lang.phrases.items() if key != "tools" and isinstance(value, list) for t in value]
    replies += [t for topic in lang.phrases["out_of_scope"].values() for t in topic]
    for words in lang.phrases["tools"].values():
        for head, value in words.items():
            for said in strings(value):
                key = "noop" if head == "already" else "missing"
                replies += [t.replace("{w}" if key == "missing" else "{d}", said) for t in lang.phrases[key]]
    for key in ("do_that", "set_to"):
        replies += [t.replace("{w}", lang.phrases[key]) for t in lang.phrases["missing"]]
    nouns = [spec["say"] for table in ("device_nouns", "list_nouns") for spec in lang.words[table].values()] + [lang.phrases["device_that_can"]]
    replies += [t.replace("{w}", noun) for key in ("none_there", "none_at_all") for t in lang.phrases[key] for noun in nouns]
    replies += [t.replace("{w}", level) for t in lang.phrases["unknown_level"] for level in lang.phrases["level"].values()]
    states = [lang.phrases["already"]["nothing_to"].format(state=state, verb=verb)
              for state in lang.phrases["media_state"].values() for verb in lang.phrases["media_verb"].values()]
    said = [d for k, d in lang.phrases["already"].items() if k != "nothing_to"] + states
    replies += [t.replace("{d}", d) for t in lang.phrases["noop"] for d in said]
    for reply in replies:
        text = reply.format(**FILLERS)
        text = text[0].upper() + text[1:]
        if re.search(r'[\[\]"]', reply) or not text.endswith((".", "!", "?")):
            problems.append(f"{reply!r}: brackets, double quotes or no final . ! ?")
        elif parse_output(text).kind != KIND_TEXT:
            problems.append(f"{text!r} is not the protocol's plain text")
    return problems


def english_words(code: str) -> list[str]:
    """Words of the stop list in the folder's replies and templates."""
    lang = language(code)
    texts = list(strings({k: v for k, v in lang.phrases.items()}))
    texts += [s for intent in lang.sentences["intents"].values() for block in intent["data"] for s in block["sentences"]]
    texts += [str(v.get("in")) for spec in lang.sentences.get("lists", {}).values() for v in spec.get("values", [])]
    found = []
    for text in texts:
        words = {w.casefold() for w in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text)}
        hits = (words & STOP_WORDS) - PROPER_NOUNS
        if hits:
            found.append(f"{sorted(hits)} in {text!r}")
    return found


# --- the tests ----------------------------------------------------------------------------------------------------

CODE = "fr"


def test_loads() -> None:
    lang = language(CODE)
    assert lang.code == CODE and lang.hass is not None
    assert lang.sequence.split("allume la lampe, puis éteins la télé") == ["allume la lampe", "éteins la télé"]
    assert lang.sequence.split("ferme les volets et ensuite allume la lumière") == ["ferme les volets", "allume la lumière"]


def test_keys_and_placeholders_match_english() -> None:
    assert structure_problems(CODE) == []


@pytest.fixture(scope="module")
def read() -> tuple[int, int, list[str]]:
    return readback(CODE)


def test_every_template_is_read_back_as_its_intent(read: tuple[int, int, list[str]]) -> None:
    templates, sampled, failures = read
    print(f"{CODE}: {templates} templates, {sampled} samples read back, {len(failures)} failures")
    english_templates = sum(len(block["sentences"]) for intent in english().sentences["intents"].values() for block in intent["data"])
    assert templates >= 0.9 * english_templates and sampled >= 3 * templates
    assert failures == []


def test_english_templates_read_back_too() -> None:
    """The folder every other language mirrors passes the same read-back (a block that names no device, in its context)."""
    templates, sampled, failures = readback("en")
    assert sampled >= 3 * templates > 200 and failures == [], failures[:10]


def broken_folder(root: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """A copy of the folder under ``root`` with only its ``power`` intent, changed by ``change``."""
    folder = root / CODE
    folder.mkdir()
    for name in ("words.yaml", "phrases.yaml"):
        (folder / name).write_text((ROOT / CODE / name).read_text(encoding="utf-8"), encoding="utf-8")
    sentences = language(CODE).sentences
    power = copy.deepcopy(sentences["intents"]["power"])
    change(power)
    data = {"language": CODE, "intents": {"power": power}, "lists": sentences.get("lists", {}), "expansion_rules": sentences.get("expansion_rules", {})}
    (folder / "sentences.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_readback_finds_rules_that_do_not_exist(tmp_path: Path) -> None:
    broken_folder(tmp_path, lambda power: power["data"][0]["sentences"].append("<the> {name} <pas_une_règle>"))
    _, sampled, failures = readback(CODE, tmp_path)
    assert sampled == 0 and len(failures) == 1 and "<the>" in failures[0] and "<pas_une_règle>" in failures[0]


def test_readback_finds_a_sentence_two_blocks_say(tmp_path: Path) -> None:
    broken_folder(tmp_path, lambda power: power["data"][1]["sentences"].append(power["data"][0]["sentences"][0]))  # an "on" sentence in "off"
    _, _, failures = readback(CODE, tmp_path)
    assert failures and all(f.startswith("power: ") and "read as" in f for f in failures)


def test_replies_are_plain_text() -> None:
    assert reply_problems(CODE) == []


def test_no_english_words() -> None:
    assert english_words(CODE) == []


def test_english_words_are_found() -> None:
    assert english_words("en") and not reply_problems("en")
