"""The teacher answers only what it read: no "no such device" for a fragment of the command or a device said another way."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from statewise_protocol import load_export

from dataset_export.language import load_language
from dataset_export.mentions import FRAGMENT, FUZZY, PLACEABLE, Mentions
from dataset_export.phrasing import speech_to_text
from dataset_export.pipeline import build_dataset
from dataset_export.policy import decide
from dataset_export.recognize import Recognizer

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo_home"


@pytest.fixture(scope="module")
def home():
    return load_export(DEMO).ontology


@pytest.fixture(scope="module")
def reader(home):
    return Recognizer(home, load_language("en"))


def test_speech_to_text_keeps_decimal_points_and_drops_other_punctuation():
    assert speech_to_text("Set the boiler to 40.5degrees, please.") == "set the boiler to 40.5degrees please"
    assert speech_to_text("Lights. 3.") == "lights 3"


@pytest.mark.parametrize(("mention", "why"), [
    ("boiler to 40 3 degrees", FRAGMENT),  # a number: part of the command
    ("wine fridge please", FRAGMENT),  # a polite word
    ("kitchen to netflix", FRAGMENT),  # a preposition and a source
    ("every lock please", FRAGMENT),
    ("heater temperature in the study", FRAGMENT),
    ("kitchen lights", PLACEABLE),  # an area and a device type
    ("downstairs lamps", PLACEABLE),  # a floor said the way people say it
    ("garage heater", PLACEABLE),
    ("ceiling", PLACEABLE),  # part of a name
    ("bedrom", PLACEABLE),  # an area, misspelt
    ("heatpunp", PLACEABLE),  # a word of a name, misspelt
    ("hvc", FUZZY),  # a whole name, misspelt (too short for word matching)
    ("hot tub", None),  # nothing in this home: may be refused
    ("aquarium light", None),
    ("sauna", None),
])
def test_a_mention_may_be_refused_only_when_it_names_nothing_here(home, mention, why):
    assert Mentions(home, load_language("en")).problem(mention) == why


@pytest.mark.parametrize("text", [
    "set boiler to 40 3 degrees",
    "entrance color white lights colour temperature 4000",
    "the aquarium light 5",
    "put movie room tv on netflix",
    "what is the weather weather like",
    "turn off the downstairs thing please",
])
def test_sentences_no_reader_places_are_not_understood(reader, text):
    assert reader.intent(text) is None


def test_a_device_the_home_lacks_is_refused_with_the_whole_mention(home, reader):
    intent = reader.intent("turn off my aquarium light")
    assert intent is not None and intent.mention == "aquarium light"
    assert "aquarium light" in decide(home, None, intent).text


def test_no_such_device_in_a_place_names_the_kind_and_the_place(home, reader):
    decision = decide(home, None, reader.intent("turn on the kitchen fan"))
    assert decision.reason == "unknown_entity"
    assert decision.text in [p.format(w="fan", p="the Kitchen") for p in load_language("en").replies("none_there")]


def test_blinds_said_as_a_class_find_a_window_cover_called_blinds(home, reader):
    decision = decide(home, None, reader.intent("close my living room blinds"))
    assert [c.arguments["entity_id"] for c in decision.calls] == ["cover.living_room_window"]


def test_a_default_size_demo_build_quotes_no_fragment_and_counts_what_it_dropped(tmp_path):
    stats = build_dataset(DEMO, tmp_path / "out", seed=0, size=2000)
    mentions = Mentions(load_export(DEMO).ontology, load_language("en"))
    said = [re.compile(re.escape(p).replace(re.escape("{m}"), "(?P<m>.+?)")) for p in load_language("en").replies("unknown")]
    quoted = []
    for split in ("train", "heldout"):
        for line in (tmp_path / "out" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            answer = json.loads(line)["messages"][2]["content"]
            quoted += [m["m"] for p in said if (m := p.search(answer))]
    assert len(quoted) > 50, "the build has too few 'no such device' rows to check"
    assert {m: mentions.problem(m) for m in quoted if mentions.problem(m)} == {}
    assert stats["train"]["not_understood_dropped"] > 0
    card = (tmp_path / "out" / "dataset_card.md").read_text(encoding="utf-8")
    assert f"train {stats['train']['not_understood_dropped']}, heldout {stats['heldout']['not_understood_dropped']}" in card
