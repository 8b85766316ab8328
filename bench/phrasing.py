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
  on devices of the expected domain, or a clarification where the sentence names no device
  by name and several of that domain could do it: v0 has no speaker's area, and Home
  Assistant's own matcher does not act on a bare "turn off the lights" without one either;
  intents: the kind and value Home Assistant expects on exactly the expected targets, or a
  clarification where the test names no target and several devices could do it);
- SLURP only, v0 can express it: :func:`out_of_v0` sets apart the commands no v0 tool
  can do as asked (:data:`LATER`: a command for later, for a while or on a condition, as
  v0 acts now; a coffee asked for without naming the machine, as no tool brews one; a
  colour change that says no colour Home Assistant's ``color`` list names). For those
  the honest answer is no action: "not understood" (a build drops it) or a text answer
  (out of scope, a clarification, a refusal) counts as agreeing, any action or fetch as
  a miss. The issue's goal is the agreeing rate on the rest ("v0 can express");
- false refusals: "no such device" (``unknown_entity``) for a sentence whose devices the
  home has (every sentence of both sets).

Run: ``.venv/trainer/bin/python bench/phrasing.py --slurp PATH/devel.jsonl [--intents PATH] [--json] [--misses]``.
"""

from __future__ import annotations

import argparse
import json
import re
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

from dataset_export.intents import kinds, resolve  # noqa: E402
from dataset_export.language import load_language  # noqa: E402
from dataset_export.policy import TEXT, decide  # noqa: E402
from dataset_export.recognize import Recognizer  # noqa: E402
from dataset_export.templates import combined_data, hass_meanings  # noqa: E402

SLURP_SCENARIO = "iot"
# SLURP's entity types that put a command at another time or for a while ("at one pm ...", "daily", "for one hour").
LATER = frozenset({"time", "date", "general_frequency", "timeofday"})
# A clause that puts a command on a condition ("... when i arrive home"): v0 has no trigger, it acts now.
CONDITION = re.compile(r"\b(?:when|whenever|once|as soon as|if)\s+(?:i|we|you|it)\b")


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


def _figures(results: list[tuple[str, bool, bool, bool]], expressible: list[bool] | None = None) -> dict[str, Any]:
    n = len(results)
    read, agree, refused = (sum(r[i] for r in results) for i in (1, 2, 3))
    out = {"sentences": n, "read": read, "agreeing": agree, "false_refusals": refused,
           "read_rate": round(read / n, 4) if n else 0.0, "agree_rate": round(agree / n, 4) if n else 0.0}
    if expressible is not None:
        can = [r for r, e in zip(results, expressible, strict=True) if e]
        out |= {"v0_can_express": len(can), "agreeing_expressible": sum(r[2] for r in can),
                "expressible_agree_rate": round(sum(r[2] for r in can) / len(can), 4) if can else 0.0}
    return out


def _entity_texts(doc: dict[str, Any], kind: str) -> list[str]:
    """The words SLURP annotated as an entity of ``kind`` (its spans index the sentence's tokens)."""
    tokens = [t["surface"] for t in doc.get("tokens", [])]
    return [" ".join(tokens[i] for i in e["span"] if i < len(tokens)) for e in doc.get("entities", []) if e["type"] == kind]


def out_of_v0(doc: dict[str, Any]) -> str | None:
    """Why no v0 tool can do the SLURP command as asked (module docstring), or ``None`` when one can."""
    if {e["type"] for e in doc.get("entities", [])} & LATER or CONDITION.search(doc["sentence"].casefold()):
        return "later"
    if doc["action"] == "coffee" and not _entity_texts(doc, "device_type"):
        return "no_device"  # a drink, not a device: no tool brews one
    colours = {v["in"] for v in combined_data(load_language("en"))["lists"]["color"]["values"]}
    if doc["action"] == "hue_lightchange" and not any(c.casefold() in colours for c in _entity_texts(doc, "color_type")):
        return "no_value"  # "change the colour of the lights": no colour said
    return None


def slurp(path: Path) -> tuple[dict[str, Any], list[str]]:
    """SLURP's iot commands in :data:`HOME`: (figures, misses)."""
    ontology = Ontology.from_entities(HOME)
    reader = Recognizer(ontology, load_language("en"))
    results, misses, expressible = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        if doc.get("scenario") != SLURP_SCENARIO:
            continue
        text, (want_kinds, domains) = doc["sentence"], EXPECTED[doc["action"]]
        intent = reader.intent(text)
        decision = decide(ontology, None, intent) if intent is not None else None
        on_domain = bool(decision and decision.targets and all(ontology.entities[t]["domain"] in domains for t in decision.targets))
        unnamed = intent is not None and all(resolve(ontology, step).via != "name" or step.mention is None for step in intent.steps)
        agree = bool(decision and intent.kind in want_kinds and on_domain
                     and (decision.output_class != TEXT or (decision.reason == "ambiguous" and unnamed)))
        why = out_of_v0(doc)
        if why is not None:
            agree = decision is None or decision.output_class == TEXT  # honest: nothing done that was not asked
        refused = bool(decision and decision.reason == "unknown_entity")
        results.append((text, intent is not None, agree, refused))
        expressible.append(why is None)
        if not agree:
            misses.append(f"{doc['action']}{'' if why is None else f' ({why})'}: {text!r} -> {decision.answer[:120] if decision else 'not understood'}")
    return _figures(results, expressible), misses


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
    lines = ["| set | sentences | read | agreeing | v0 can express | agreeing of those | false \"no such device\" |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, f in report.items():
        expressible = (f"{f['v0_can_express']} | {f['agreeing_expressible']} ({f['expressible_agree_rate']:.1%})" if "v0_can_express" in f
                       else f"{f['sentences']} | {f['agreeing']} ({f['agree_rate']:.1%})")
        lines.append(f"| {name} | {f['sentences']} | {f['read']} ({f['read_rate']:.1%}) | {f['agreeing']} ({f['agree_rate']:.1%}) | "
                     f"{expressible} | {f['false_refusals']} |")
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
