"""bench/phrasing.py on a tiny SLURP-format file and a tiny clone of the intents tests, written here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import phrasing  # noqa: E402

# Written for this test in SLURP's layout (not SLURP's sentences): scenario, action, sentence.
LINES = [
    ("iot", "hue_lightoff", "turn off the hall light"),  # read and done
    ("iot", "cleaning", "start the robot vacuum"),  # read and done
    ("iot", "wemo_on", "turn on the jacuzzi"),  # read: a clean mention of nothing here, refused (counted as a false refusal)
    ("iot", "coffee", "coffee coffee coffee 42"),  # not understood
    ("weather", "query", "is it raining"),  # another scenario: left out
]


def test_slurp_figures_count_read_agreeing_and_false_refusals(tmp_path):
    path = tmp_path / "devel.jsonl"
    path.write_text("".join(json.dumps({"scenario": s, "action": a, "sentence": t}) + "\n" for s, a, t in LINES), encoding="utf-8")
    figures, misses = phrasing.slurp(path)
    assert figures == {"sentences": 4, "read": 3, "agreeing": 2, "false_refusals": 1, "read_rate": 0.75, "agree_rate": 0.5}
    assert len(misses) == 2 and any("jacuzzi" in m for m in misses)


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
