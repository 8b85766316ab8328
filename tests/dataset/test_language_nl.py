"""Dutch language folder: it loads, its templates merge with Home Assistant's Dutch intents and read back, its replies match English's.

The checks are the German test's (``test_language_de.check_*``); this file gives them Dutch names and places.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_language_de import (
    check_blocks_match_english,
    check_no_english,
    check_phrases,
    check_same_keys,
    check_sample_and_recognise,
    load,
)

CODE = "nl"
NAMES = {"light": ["Bureaulamp", "Leeslamp"], "switch": ["Koffiezetapparaat"], "fan": ["Plafondventilator"],
         "media_player": ["Tv Woonkamer", "Sonos Keuken"], "humidifier": ["Luchtbevochtiger Slaapkamer"],
         "climate": ["Thermostaat Gang"], "cover": ["Rolluik Keuken"], "valve": ["Tuinsproeier"], "vacuum": ["Robotstofzuiger"],
         "water_heater": ["Boiler"], "lock": ["Voordeur"]}  # fmt: skip
AREAS = ("keuken", "woonkamer", "badkamer")
FLOORS = ("begane grond", "eerste verdieping")


def test_dutch_folder_loads_with_english_keys_and_blocks():
    english, dutch = load("en"), load(CODE)
    check_same_keys(dutch, english)
    check_blocks_match_english(dutch, english)


def test_dutch_sequence_divides_steps():
    steps = ["zet de lamp in de keuken aan", "doe de tv uit", "zet de verwarming op 21 graden"]
    for joined in (f"{steps[0]}, dan {steps[1]} en daarna {steps[2]}", f"{steps[0]} en dan {steps[1]}, vervolgens {steps[2]}"):
        assert load(CODE).sequence.split(joined) == steps


def test_dutch_replies_keep_english_placeholders():
    check_phrases(load(CODE), load("en"))


def test_dutch_tool_words_through_the_language_api():
    """What the teacher says for a gap and for a goal that holds, as the loaded language puts it together."""
    dutch = load(CODE)
    assert dutch.tool_words("light_brightness", "requires.brightness") == "gedimd worden"
    assert dutch.tool_words("climate_mode", "member_of", {"value": "cool"}, {"hvac_mode": "cool"}) == "in de stand koelen werken"
    assert dutch.already("lock_control", {"command": "lock"}) == "op slot"
    assert dutch.replies("missing")[0].format(n="Bureaulamp", w=dutch.tool_words("light_color", "cannot")) == ("Bureaulamp kan niet van kleur veranderen.")
    assert dutch.replies("noop")[0].format(n="Voordeur", d=dutch.already("lock_control", {"command": "lock"})) == "Voordeur is al op slot."


def test_dutch_has_no_english_words():
    check_no_english(load(CODE))


def test_dutch_templates_expand_and_read_back():
    templates, sampled, read = check_sample_and_recognise(load(CODE), NAMES, AREAS, FLOORS)
    print(f"{CODE}: {templates} templates, {sampled} sentences sampled, {read} read back as their intent")
    assert read == sampled >= 3 * templates > 300
