"""Phrasing benchmark: the teacher on commands people wrote, for homes the team did not write (issue 18).

Two public sets, read from local copies (nothing is vendored):

- SLURP (``pswietojanski/slurp``, ``dataset/slurp/devel.jsonl``, CC BY 4.0; its ``test``
  split is left alone): the ``iot`` scenario, crowd-written smart-home commands, placed
  in :data:`HOME`, a home that has the devices they name. Each SLURP action has the
  answer a person expects (:data:`EXPECTED`: the intent kinds that do it, on which domain).
- Home Assistant's intent tests (``OHF-Voice/intents`` ``tests/en``, CC BY 4.0) over
  their fixture home (the same reading of it as ``bench/intents_agreement.py``).

For each sentence the teacher reads it (``Recognizer.intent``, the builder's own reader)
and answers without STATE (``decide``). Printed per set:

- read: the teacher placed the sentence (anything else is not understood and dropped);
- agreeing: its answer does what was asked (SLURP: an action or fetch of an expected kind
  on devices of the expected domain; intents: the kind and value Home Assistant expects on
  exactly the expected targets, or a clarification where the test names no target and
  several devices could do it);
- false refusals: "no such device" (``unknown_entity``) for a sentence whose devices the
  home has (every sentence of both sets).

Run: ``.venv/trainer/bin/python bench/phrasing.py --slurp PATH/devel.jsonl [--intents PATH] [--json] [--misses]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from intents_agreement import DEFAULT_REPO, SLOT_FIELDS, expected_intent, expected_targets, fixture_home, list_tests, read_text  # noqa: E402
from statewise_protocol import Ontology  # noqa: E402

from dataset_export.intents import kinds  # noqa: E402
from dataset_export.language import load_language  # noqa: E402
from dataset_export.policy import TEXT, decide  # noqa: E402
from dataset_export.recognize import Recognizer  # noqa: E402
from dataset_export.templates import hass_meanings  # noqa: E402

SLURP_SCENARIO = "iot"


def _e(eid: str, name: str, area: str | None, floor: str | None, device_class: str | None = None, **caps: Any) -> dict[str, Any]:
    return {"id": eid, "name": name, "aliases": [], "area": area, "floor": floor, "domain": eid.split(".")[0], "device_class": device_class,
            "capabilities": caps, "present": True}


LIGHT = {"brightness": True, "color": True, "color_temp": [2000, 6500]}
# A flat with the devices SLURP's iot commands name, named as a plain Home Assistant install names them.
HOME = [
    _e("light.bedroom_light", "Bedroom Light", "Bedroom", "Upstairs", **LIGHT),
    _e("light.bedside_lamp", "Bedside Lamp", "Bedroom", "Upstairs", **LIGHT),
    _e("light.bathroom_light", "Bathroom Light", "Bathroom", "Upstairs", brightness=True),
    _e("light.hall_light", "Hall Light", "Hall", "Downstairs", brightness=True),
    _e("light.living_room_lights", "Living Room Lights", "Living Room", "Downstairs", **LIGHT),
    _e("light.kitchen_light", "Kitchen Light", "Kitchen", "Downstairs", brightness=True),
    _e("light.desk_lamp", "Desk Lamp", "Office", "Downstairs", **LIGHT),
    _e("light.closet_light", "Closet Light", "Bedroom", "Upstairs"),
    _e("light.disco_lights", "Disco Lights", "Living Room", "Downstairs", **LIGHT),
    _e("light.outdoor_lights", "Outdoor Lights", "Garden", None),
    _e("fan.master_bedroom_fan", "Master Bedroom Fan", "Master Bedroom", "Upstairs"),
    _e("vacuum.robot_vacuum", "Robot Vacuum", "Living Room", "Downstairs"),
    _e("switch.coffee_maker", "Coffee Maker", "Kitchen", "Downstairs"),
    _e("switch.wemo_plug", "Wemo Plug Socket", "Living Room", "Downstairs", "outlet"),
    _e("switch.tv_socket", "TV Socket", "Living Room", "Downstairs", "outlet"),
]
LIGHTS = ("light",)
# SLURP action -> (intent kinds that do it, the domain they act on)
EXPECTED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "hue_lightoff": (("power",), ("light",)),
    "hue_lighton": (("power",), ("light",)),
    "hue_lightdim": (("brightness_step", "brightness"), ("light",)),
    "hue_lightup": (("brightness_step", "brightness"), ("light",)),
    "hue_lightchange": (("color", "color_temp"), ("light",)),
    "cleaning": (("vacuum",), ("vacuum",)),
    "coffee": (("power",), ("switch",)),
    "wemo_on": (("power",), ("switch", "fan")),  # SLURP files "turn off the fan in the master bedroom" under wemo
    "wemo_off": (("power",), ("switch", "fan")),
}


def _figures(results: list[tuple[str, bool, bool, bool]]) -> dict[str, Any]:
    n = len(results)
    read, agree, refused = (sum(r[i] for r in results) for i in (1, 2, 3))
    return {"sentences": n, "read": read, "agreeing": agree, "false_refusals": refused,
            "read_rate": round(read / n, 4) if n else 0.0, "agree_rate": round(agree / n, 4) if n else 0.0}


def slurp(path: Path) -> tuple[dict[str, Any], list[str]]:
    """SLURP's iot commands in :data:`HOME`: (figures, misses)."""
    ontology = Ontology.from_entities(HOME)
    reader = Recognizer(ontology, load_language("en"))
    results, misses = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        if doc.get("scenario") != SLURP_SCENARIO:
            continue
        text, (want_kinds, domains) = doc["sentence"], EXPECTED[doc["action"]]
        intent = reader.intent(text)
        decision = decide(ontology, None, intent) if intent is not None else None
        agree = bool(decision and decision.output_class != TEXT and intent.kind in want_kinds
                     and decision.targets and all(ontology.entities[t]["domain"] in domains for t in decision.targets))
        refused = bool(decision and decision.reason == "unknown_entity")
        results.append((text, intent is not None, agree, refused))
        if not agree:
            misses.append(f"{doc['action']}: {text!r} -> {decision.answer[:120] if decision else 'not understood'}")
    return _figures(results), misses


def intents_tests(repo: Path) -> tuple[dict[str, Any], list[str]]:
    """Home Assistant's tests/en over its fixture home: (figures, misses)."""
    fixtures = yaml.safe_load(read_text(repo, "tests/en/_fixtures.yaml"))
    results, misses = [], []
    for path in list_tests(repo):
        intent_name = path.split("/")[2]
        text = read_text(repo, path)
        doc = yaml.safe_load(text) or {}
        meanings = hass_meanings(intent_name, {}, set(SLOT_FIELDS) | {k for t in doc.get("tests", []) for k in (t.get("slots") or {})})
        meanings = tuple(m for m in meanings if m.kind in kinds())
        if not meanings or "context_area: true" in text:
            continue
        ontology, _ = fixture_home(fixtures, doc)
        reader = Recognizer(ontology, load_language("en"))
        for test in doc.get("tests", []):
            slots = test.get("slots") or {}
            if test.get("context"):
                continue
            targets = expected_targets(ontology, intent_name, slots, meanings)
            if not targets:
                continue
            wanted = expected_intent(intent_name, slots, meanings, ontology.entities[targets[0]]["domain"])
            several = not set(slots) & {"name", "area", "floor"} and len(targets) > 1
            for sentence in test.get("sentences") or []:
                got = reader.intent(sentence)
                decision = decide(ontology, None, got) if got is not None else None
                if decision is None or wanted is None:
                    agree = False
                elif several and got.every:  # "turn off all the lights": Home Assistant acts on every one, so does v0 (up to 16 calls)
                    agree = decision.output_class != TEXT and (got.kind, got.value) == (wanted.kind, wanted.value) and set(decision.targets) == set(targets)
                elif several:
                    agree = decision.reason == "ambiguous"
                else:
                    agree = (got.kind, got.value) == (wanted.kind, wanted.value) and set(decision.targets) == set(targets)
                refused = bool(decision and decision.reason == "unknown_entity")
                results.append((sentence, got is not None, agree, refused))
                if not agree and len(misses) < 400:
                    misses.append(f"{intent_name}: {sentence!r} -> {decision.answer[:120] if decision else 'not understood'}")
    return _figures(results), misses


def format_report(report: dict[str, dict[str, Any]]) -> str:
    """A Markdown table."""
    lines = ["| set | sentences | read | agreeing | false \"no such device\" |", "| --- | --- | --- | --- | --- |"]
    for name, f in report.items():
        lines.append(f"| {name} | {f['sentences']} | {f['read']} ({f['read_rate']:.1%}) | {f['agreeing']} ({f['agree_rate']:.1%}) | "
                     f"{f['false_refusals']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table (``--json`` for the figures, ``--misses`` for what did not agree)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slurp", type=Path, required=True, help="SLURP's dataset/slurp/devel.jsonl")
    parser.add_argument("--intents", type=Path, default=DEFAULT_REPO, help="a clone of OHF-Voice/intents (work tree or bare git folder)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args(argv)
    if not args.slurp.is_file():
        print(f"error: {args.slurp}: no SLURP devel.jsonl (github.com/pswietojanski/slurp, dataset/slurp/devel.jsonl)", file=sys.stderr)
        return 2
    if not args.intents.exists():
        print(f"error: {args.intents}: no clone of OHF-Voice/intents", file=sys.stderr)
        return 2
    figures: dict[str, dict[str, Any]] = {}
    missed: dict[str, list[str]] = {}
    figures["SLURP iot (devel)"], missed["SLURP iot (devel)"] = slurp(args.slurp)
    figures["OHF-Voice/intents tests/en"], missed["OHF-Voice/intents tests/en"] = intents_tests(args.intents)
    print(json.dumps(figures, indent=2) if args.json else format_report(figures))
    if args.misses:
        for name, lines in missed.items():
            print(f"\n{name}:\n  " + "\n  ".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
