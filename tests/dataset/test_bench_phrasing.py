"""bench/phrasing.py on a tiny SLURP-format file and a tiny clone of the intents tests, written here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import phrasing  # noqa: E402

# Written for this test in SLURP's layout (not SLURP's sentences): scenario, action, sentence, entities (type, token indexes).
LINES = [
    ("iot", "hue_lightoff", "turn off the hall light", []),  # read and done
    ("iot", "cleaning", "start the robot vacuum", []),  # read and done
    ("iot", "wemo_on", "turn on the jacuzzi", []),  # read: a clean mention of nothing here, refused (counted as a false refusal)
    ("iot", "hue_lightoff", "switch the lights off", []),  # no room said, ten lights: which ones? (agreeing, as Home Assistant needs an area)
    ("iot", "hue_lightoff", "tomorrow turn off the hall light", [("date", [0])]),  # v0 cannot wait: acting now is a miss
    ("iot", "coffee", "coffee coffee coffee 42", []),  # a drink, no device: v0 cannot; not understood is honest (agreeing)
    ("weather", "query", "is it raining", []),  # another scenario: left out
]


def _doc(scenario: str, action: str, text: str, entities: list) -> dict:
    return {"scenario": scenario, "action": action, "sentence": text, "tokens": [{"surface": w} for w in text.split()],
            "entities": [{"type": t, "span": span} for t, span in entities]}


def test_slurp_figures_count_read_agreeing_and_false_refusals(tmp_path):
    path = tmp_path / "devel.jsonl"
    path.write_text("".join(json.dumps(_doc(*line)) + "\n" for line in LINES), encoding="utf-8")
    figures, misses = phrasing.slurp(path)
    assert figures == {"sentences": 6, "read": 5, "agreeing": 4, "false_refusals": 1, "read_rate": 0.8333, "agree_rate": 0.6667,
                       "v0_can_express": 4, "agreeing_expressible": 3, "expressible_agree_rate": 0.75}
    assert len(misses) == 2 and any("jacuzzi" in m for m in misses) and any("(later)" in m and "tomorrow" in m for m in misses)


def test_out_of_v0_names_why():
    assert phrasing.out_of_v0(_doc("iot", "wemo_on", "turn on the tv socket when i get home", [])) == "later"
    assert phrasing.out_of_v0(_doc("iot", "hue_lightchange", "change the colour of the lights", [])) == "no_value"
    assert phrasing.out_of_v0(_doc("iot", "hue_lightchange", "make the lights green", [("color_type", [3])])) is None
    assert phrasing.out_of_v0(_doc("iot", "coffee", "start the coffee machine", [("device_type", [2, 3])])) is None


def test_intents_tests_figures(tmp_path):
    tests = tmp_path / "intents" / "tests" / "en"
    (tests / "HassTurnOn").mkdir(parents=True)
    fixtures = {"language": "en", "areas": [{"name": "Kitchen", "id": "kitchen"}],
                "entities": [{"name": "Kitchen Light", "id": "light.kitchen", "area": "kitchen", "state": "off"}]}
    (tests / "_fixtures.yaml").write_text(yaml.safe_dump(fixtures))
    doc = {"language": "en", "tests": [{"sentences": ["turn on the kitchen light", "kitchen light zz 9 on please now"],
                                        "slots": {"name": "Kitchen Light", "domain": "light"}}]}
    (tests / "HassTurnOn" / "basic.yaml").write_text(yaml.safe_dump(doc))
    figures, _ = phrasing.intents_tests(tmp_path / "intents")
    assert (figures["sentences"], figures["agreeing"], figures["false_refusals"]) == (2, 1, 0)


def test_a_missing_slurp_file_exits_2(tmp_path, capsys):
    assert phrasing.main(["--slurp", str(tmp_path / "nope.jsonl"), "--intents", str(tmp_path)]) == 2
    assert "devel.jsonl" in capsys.readouterr().err
