"""German language folder: it loads, its templates merge with Home Assistant's German intents and read back, its replies match English's.

The checks are functions of a loaded language (``check_*``), so other languages' tests
(``test_language_nl.py``) call the same ones with their own names and places.
"""

from __future__ import annotations

import copy
import random
import re
import string
import sys
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from hassil.expression import Sentence
from hassil.intents import Intents, SlotList, TextSlotList
from hassil.recognize import recognize_all
from hassil.sample import sample_expression
from home_assistant_intents import get_intents

from dataset_export.language import Language, load_language

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_language_fr import context_of

LANGUAGES = Path(__file__).resolve().parents[2] / "custom_components" / "statewise" / "protocol" / "languages"
STOP_WORDS = frozenset({"the", "turn", "please", "light", "lights", "can't", "already"})
EXPANSIONS_PER_SENTENCE = 400  # hassil's expansions looked at per template (a lazy, depth-first walk) ...
READ_PER_SENTENCE = 4  # ... of which this many, drawn with a fixed seed, are read back

CODE = "de"
NAMES = {"light": ["Stehlampe", "Leselicht"], "switch": ["Kaffeemaschine"], "fan": ["Deckenventilator"],
         "media_player": ["Fernseher Wohnzimmer", "Sonos Küche"], "humidifier": ["Luftbefeuchter Schlafzimmer"],
         "climate": ["Thermostat Flur"], "cover": ["Rollladen Küche"], "valve": ["Rasensprenger"], "vacuum": ["Saugroboter"],
         "water_heater": ["Boiler"], "lock": ["Haustür"]}  # fmt: skip
AREAS = ("Küche", "Wohnzimmer", "Badezimmer")
FLOORS = ("Erdgeschoss", "Obergeschoss")


def load(code: str) -> Language:
    """The language as the builder loads it, from this checkout's folder."""
    return load_language(code, root=LANGUAGES)


def merged(language: Language) -> dict[str, Any]:
    """Home Assistant's intents for the language with the folder's merged in, as the builder merges them."""
    data = copy.deepcopy(get_intents(language.code))
    own = language.sentences
    data["intents"].update(copy.deepcopy(own["intents"]))
    data["lists"].update(copy.deepcopy(own.get("lists", {})))
    data["expansion_rules"].update(own.get("expansion_rules", {}))
    for key, table in (("device_noun", "device_nouns"), ("list_noun", "list_nouns")):
        data["lists"][key] = {"values": [{"in": spoken, "out": noun} for noun, spec in language.words[table].items() for spoken in spec["spoken"]]}
    data["lists"]["input"] = {"wildcard": True}
    return data


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w']+", text.lower()))


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if _by_value(value):
        yield from _leaves(list(value["map"].values()), path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    else:
        yield path, str(value)


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _by_value(value: Any) -> bool:
    """A phrase spelt out per value of an argument (``{"by": arg, "map": {value: words}}``): it stands where a text may."""
    return isinstance(value, Mapping) and set(value) == {"by", "map"}


def _shape(value: Any) -> Any:
    """A phrases tree with its texts left out: what keys exist where (lists and per-value phrases are leaves)."""
    return {key: _shape(item) for key, item in value.items()} if isinstance(value, Mapping) and not _by_value(value) else "text"


def check_same_keys(language: Language, english: Language) -> None:
    """words.yaml has English's keys (and its noun ids); phrases.yaml English's keys and tool structure."""
    assert set(language.words) == set(english.words)
    assert set(language.words["device_nouns"]) == set(english.words["device_nouns"])
    assert set(language.words["list_nouns"]) == set(english.words["list_nouns"])
    for table in ("device_nouns", "list_nouns"):
        for noun, spec in english.words[table].items():
            assert set(spec) - {"words"} <= set(language.words[table][noun]), (table, noun)  # "say" and "spoken" wherever English has them
    assert set(language.words["out_of_scope_values"]) == set(english.words["out_of_scope_values"])
    assert _shape(language.phrases) == _shape(english.phrases)
    assert list(language.sentences["intents"]) == list(english.sentences["intents"])


def check_blocks_match_english(language: Language, english: Language) -> None:
    """Every intent keeps English's blocks: the same slots, contexts and metadata, in the same order."""
    for name, intent in english.sentences["intents"].items():
        ours = language.sentences["intents"][name]["data"]
        assert len(ours) == len(intent["data"]), name
        for mine, theirs in zip(ours, intent["data"], strict=True):
            assert {k: v for k, v in mine.items() if k != "sentences"} == {k: v for k, v in theirs.items() if k != "sentences"}, name
            assert mine["sentences"], name


def check_phrases(language: Language, english: Language) -> None:
    """Every English placeholder is used, no other (a tool's words may spell a value out instead); replies are plain sentences;
    tool words fit the sentences they go in."""
    ours = dict(_group(language.phrases))
    for path, texts in _group(english.phrases):
        mine, theirs = set().union(*map(_placeholders, ours[path])), set().union(*map(_placeholders, texts))
        assert mine == theirs or (path[0] == "tools" and mine <= theirs), (path, mine, theirs)
    for key in ("unknown", "none_there", "none_at_all", "ambiguous", "many", "not_present", "missing", "noop", "unknown_level", "partly",
                "too_many"):  # fmt: skip
        for text in language.replies(key):
            said = text.format(m="X", n="X", c="X", w="X", p="X", k=3, d="X", r=language.replies("missing")[0].format(n="X", w="X"))
            assert said.rstrip()[-1] in ".!?" and not set(said) & set('"{}[]'), text
    for texts in language.phrases["out_of_scope"].values():
        assert all(t.rstrip()[-1] in ".!?" and not set(t) & set('"{}[]') for t in texts), texts
    values = {"value": "21", "low": "5", "high": "30"}
    for path, text in _leaves(language.phrases["tools"]):
        words = text.format(**values)
        reply = "noop" if path[-1] == "already" else "missing"
        for sentence in language.replies(reply):
            said = sentence.format(n="Stehlampe", w=words, d=words)
            assert said.rstrip()[-1] in ".!?" and not set(said) & set('"{}[]'), said


def _group(phrases: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], list[str]]]:
    groups: dict[tuple[str, ...], list[str]] = {}
    for path, text in _leaves(phrases):
        groups.setdefault(path, []).append(text)
    yield from groups.items()


def check_no_english(language: Language) -> None:
    """No word of the English stop list in the replies or the templates."""
    texts = [text for _, text in _leaves(language.phrases)]
    texts += [s for intent in language.sentences["intents"].values() for block in intent["data"] for s in block["sentences"]]
    texts = [re.sub(r"<[^>]*>|\{[^}]*\}", " ", text) for text in texts]  # rule and list names (Dutch <light>) are not said
    found = sorted({word for text in texts for word in _words(text) & STOP_WORDS})
    assert not found, found


def _slot_lists(intents: Intents, names: Mapping[str, Sequence[str]], areas: Sequence[str], floors: Sequence[str],
                language: Language, domains: set[str] | None) -> dict[str, SlotList]:  # fmt: skip
    """The lists a home gives: its names (with their domains), areas, floors, inputs, and words for the wildcards."""
    chosen = [(n, n, {"domain": d}) for d, ns in names.items() for n in ns if domains is None or d in domains]
    lists: dict[str, SlotList] = dict(intents.slot_lists)
    lists["name"] = TextSlotList.from_tuples(chosen, allow_template=False, name="name")
    lists["area"] = TextSlotList.from_strings(areas, allow_template=False, name="area")
    lists["floor"] = TextSlotList.from_strings(floors, allow_template=False, name="floor")
    lists["input"] = TextSlotList.from_tuples([(i.replace("_", " "), i) for i in language.words["inputs"]], allow_template=False, name="input")
    return lists


def _wildcards(lists: dict[str, SlotList], language: Language) -> dict[str, SlotList]:
    """Sampling needs values for Home Assistant's wildcard lists: the language's own titles and items."""
    out = dict(lists)
    out["search_query"] = TextSlotList.from_strings(language.words["titles"][:2], allow_template=False, name="search_query")
    out["todo_list_item"] = TextSlotList.from_strings(language.words["items"][:2], allow_template=False, name="todo_list_item")
    return out


def _domains(block: Mapping[str, Any]) -> set[str] | None:
    domain = (block.get("requires_context") or {}).get("domain")
    return None if domain is None else {domain} if isinstance(domain, str) else set(domain)


def check_sample_and_recognise(language: Language, names: Mapping[str, Sequence[str]], areas: Sequence[str],
                               floors: Sequence[str]) -> tuple[int, int, int]:  # fmt: skip
    """Expand every own template with the home's values and read the sentences back: (templates, sampled, read as meant)."""
    intents = Intents.from_dict(merged(language))
    full = _slot_lists(intents, names, areas, floors, language, None)
    rng = random.Random(0)
    templates = sampled = read = 0
    wrong: list[str] = []
    for name, intent in language.sentences["intents"].items():
        for block, data in zip(intent["data"], intents.intents[name].data, strict=True):
            lists = _wildcards(_slot_lists(intents, names, areas, floors, language, _domains(block)), language)
            rules: dict[str, Sentence] = {**intents.expansion_rules, **data.expansion_rules}
            for text, sentence in zip(data.sentence_texts, data.sentences, strict=True):
                expanded = list(islice(sample_expression(sentence.expression, lists, rules, language=language.code), EXPANSIONS_PER_SENTENCE))
                assert expanded, f"{name}: {text!r} expands to nothing"
                assert not any(ch in said for said in expanded for ch in "{}<>[]"), (text, expanded[:3])
                templates += 1
                for said in rng.sample(expanded, min(READ_PER_SENTENCE, len(expanded))):
                    sampled += 1
                    if _reads_as(said, name, block, intents, full, language.code, text):
                        read += 1
                    else:
                        wrong.append(f"{name}: {said!r} (from {text!r})")
    assert not wrong, "\n".join(wrong[:30])
    return templates, sampled, read


def _reads_as(said: str, name: str, block: Mapping[str, Any], intents: Intents, lists: dict[str, SlotList], code: str, text: str) -> bool:
    """True when hassil reads ``said`` as ``name`` with the block's fixed slots (any of its readings)."""
    fixed = block.get("slots") or {}
    for result in recognize_all(said, intents, slot_lists=lists, language=code, intent_context=context_of(_domains(block), text)):
        if result.intent.name == name and all(result.entities.get(k) is not None and result.entities[k].value == v for k, v in fixed.items()):
            return True
    return False


# --- German ---------------------------------------------------------------------------------------------------------------------


def test_german_folder_loads_with_english_keys_and_blocks():
    english, german = load("en"), load(CODE)
    check_same_keys(german, english)
    check_blocks_match_english(german, english)


def test_german_sequence_divides_steps():
    steps = ["schalte das Licht in der Küche an", "mach den Fernseher aus", "stell die Heizung auf 21 Grad"]
    for joined in (f"{steps[0]}, dann {steps[1]} und danach {steps[2]}", f"{steps[0]} und dann {steps[1]}, anschließend {steps[2]}"):
        assert load(CODE).sequence.split(joined) == steps


def test_german_replies_keep_english_placeholders():
    check_phrases(load(CODE), load("en"))


def test_german_tool_words_through_the_language_api():
    """What the teacher says for a gap and for a goal that holds, as :class:`Language` puts it together."""
    german = load(CODE)
    assert german.tool_words("light_brightness", "requires.brightness") == "gedimmt werden"
    assert german.tool_words("climate_mode", "member_of", {"value": "dry"}, {"hvac_mode": "dry"}) == "im Entfeuchtungsbetrieb laufen"
    assert german.tool_words("climate_temperature", "within", {"value": "40", "low": "5", "high": "30"}) == (
        "auf 40 Grad eingestellt werden, möglich sind 5 bis 30"
    )
    assert german.tool_words("fan_speed", "value", {"value": "21"}) == "auf 21 gestellt werden"  # set_to, the fallback for a value
    assert german.tool_words("scene_activate", "cannot") == "als Szene aktiviert werden"
    assert german.already("climate_mode", {"hvac_mode": "cool"}) == "im Kühlbetrieb"
    assert german.already("lock_control", {"command": "unlock"}) == "entriegelt"
    assert german.replies("noop")[0].format(n="Haustür", d=german.already("lock_control", {"command": "lock"})) == "Haustür ist schon verriegelt."


def test_german_has_no_english_words():
    check_no_english(load(CODE))


def test_german_templates_expand_and_read_back():
    templates, sampled, read = check_sample_and_recognise(load(CODE), NAMES, AREAS, FLOORS)
    print(f"{CODE}: {templates} templates, {sampled} sentences sampled, {read} read back as their intent")
    assert read == sampled >= 3 * templates > 300


def test_german_media_class_said_is_not_part_of_the_title():
    """A media class Home Assistant's German templates name ("Musik von", "die Playlist") is read as such, not as free text."""
    from statewise_protocol import Ontology

    from dataset_export.recognize import Recognizer

    player = {"id": "media_player.sonos_kuche", "name": "Sonos Küche", "aliases": [], "area": "Küche", "floor": None, "domain": "media_player",
              "device_class": None, "capabilities": {"power": True, "volume": True, "playback": True, "inputs": ["plex"]}, "present": True}
    recognizer = Recognizer(Ontology.from_entities([player]), load(CODE))
    for text, title in (("spiel Musik von Led Zeppelin in der Küche", "Led Zeppelin"), ("spiele die Playlist Sommerhits in der Küche", "Sommerhits"),
                        ("spiel Enter Sandman in der Küche", "Enter Sandman")):
        intent = recognizer.intent(text)
        assert intent is not None and (intent.kind, intent.value, intent.area) == ("play_title", title, "Küche"), (text, intent)
