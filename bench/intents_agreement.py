"""Measured against something public and independent: Home Assistant's own intent test suite.

``OHF-Voice/intents`` (CC BY 4.0) holds human-written test sentences with the
intent and slots Home Assistant expects, over a fixture home
(``tests/en/_fixtures.yaml`` plus each test file's own ``entities`` and
``areas``). This script reads a local clone (a work tree or a bare git folder,
``--repo``; nothing is vendored), turns the fixture home into a v0 ontology, and
reports per intent that a v0 tool performs:

- sentences: test sentences (tests that need the speaker's area, ``context_area``,
  are counted apart: a prompt has no speaker area);
- producible: the sentence is one the generator's templates say in that home
  (read by a template, case and punctuation normalised);
- recognised: the project's recogniser reads the intent kind, value and the
  targets Home Assistant would act on (names, area, floor, domain, device class);
- teacher agrees: the teacher's answer for the *expected* intent and slots, run in the
  simulator from the fixture's states (a player that is on at volume 50 and a light that
  is on at full brightness where the fixture gives no level), has the effect the test expects on exactly
  those targets (a no-op where the fixture's state already is the goal, where
  skipping a track has nothing playing, or where the volume of a player that is off is
  to change). A test that names no target where the home
  has several candidates is answered right with a clarification: Home Assistant
  uses the speaker's area there, and a v0 prompt has none (``implied_several``).

Run: ``.venv/trainer/bin/python bench/intents_agreement.py --repo PATH [--language en,de] [--json]`` (every language
Statewise has a folder for by default; each over its own ``tests/<code>`` and fixture home).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from statewise_protocol import Ontology, ToolCall, entity_state, slugify  # noqa: E402
from statewise_protocol.simulate import ON_STATES, apply_calls  # noqa: E402

from dataset_export.intents import Intent, kinds  # noqa: E402
from dataset_export.language import buildable_languages, load_language  # noqa: E402
from dataset_export.policy import ACTION, decide  # noqa: E402
from dataset_export.recognize import Recognizer  # noqa: E402
from dataset_export.templates import Meaning, hass_meanings  # noqa: E402

DEFAULT_REPO = Path("/work/.mirror/OHF-Voice+intents/repo")
# Generous capabilities: the fixture home gives no supported features, and the test is of language, not of devices.
CAPABILITIES: dict[str, dict[str, Any]] = {
    "light": {"brightness": True, "color": True, "color_temp": [1500, 9000]},
    "cover": {"position": True, "stop": True},
    "valve": {"position": True},
    "media_player": {"power": True, "volume": True, "playback": True, "mute": True, "inputs": ["plex"]},
    "fan": {"speed": True},
    "climate": {"temp_range": [0, 100], "hvac_modes": ["cool", "heat", "heat_cool", "off"], "power": True},
    "humidifier": {"humidity_range": [0, 100]},
    "water_heater": {"temp_range": [0, 100]},
}
SLOT_FIELDS = ("name", "area", "floor", "domain", "device_class")


def read_text(repo: Path, path: str) -> str:
    """A file of the clone: from its work tree, or ``git show HEAD:path`` of a bare folder."""
    if (repo / path).is_file():
        return (repo / path).read_text(encoding="utf-8")
    return subprocess.run(["git", "--git-dir", str(repo), "show", f"HEAD:{path}"], capture_output=True, text=True, check=True).stdout


def list_tests_all(repo: Path, code: str) -> set[str]:
    """Every file under ``tests/<code>``."""
    if (repo / "tests" / code).is_dir():
        return {str(p.relative_to(repo)) for p in (repo / "tests" / code).rglob("*.yaml")}
    return set(subprocess.run(["git", "--git-dir", str(repo), "ls-tree", "-r", "--name-only", "HEAD", f"tests/{code}"], capture_output=True,
                              text=True, check=True).stdout.split())


def list_tests(repo: Path, code: str = "en") -> list[str]:
    """``tests/<code>/<Intent>/<file>.yaml`` paths."""
    if (repo / "tests" / code).is_dir():
        return sorted(str(p.relative_to(repo)) for p in (repo / "tests" / code).glob("*/*.yaml"))
    out = subprocess.run(["git", "--git-dir", str(repo), "ls-tree", "-r", "--name-only", "HEAD", f"tests/{code}"], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    return sorted(p for p in out if p.count("/") == 3 and p.endswith(".yaml"))


def fixture_home(fixtures: Mapping[str, Any], extra: Mapping[str, Any]) -> tuple[Ontology, dict[str, dict[str, Any]]]:
    """The fixture home (plus a test file's own entities and areas) as an ontology and its STATE."""
    floors = {f.get("id", slugify(f["name"])): f["name"] for f in [*fixtures.get("floors", []), *extra.get("floors", [])]}
    floors.update({name: name for name in list(floors.values())})  # a test file names an area's floor by its name
    areas: dict[str, tuple[str, str | None]] = {}
    for a in [*fixtures.get("areas", []), *extra.get("areas", [])]:
        areas[a.get("id", slugify(a["name"]))] = (a["name"], floors.get(a.get("floor", "")) or floors.get(slugify(a.get("floor") or "")))
    by_name = {name: aid for aid, (name, _) in areas.items()}
    entities: dict[str, dict[str, Any]] = {}
    states: dict[str, dict[str, Any]] = {}
    own = {(e["name"].casefold(), e.get("domain") or e["id"].split(".", 1)[0]) for e in extra.get("entities", [])}
    fixture_entities = [e for e in fixtures.get("entities", []) if (e["name"].casefold(), e.get("domain") or e["id"].split(".", 1)[0]) not in own]
    for e in [*fixture_entities, *extra.get("entities", [])]:  # a test file's entity replaces the fixture's of that name
        domain = e.get("domain") or e["id"].split(".", 1)[0]
        eid = e.get("id") or f"{domain}.{slugify(e['name'])}"
        if eid in entities:
            eid = f"{eid}_{len(entities)}"
        attrs = dict(e.get("attributes") or {})
        area_id = e.get("area") if e.get("area") in areas else by_name.get(e.get("area", ""))
        area, floor = areas.get(area_id, (None, None)) if area_id else (None, None)
        entities[eid] = {"id": eid, "name": e["name"], "aliases": [], "area": area, "floor": floor, "domain": domain,
                         "device_class": str(attrs["device_class"]) if attrs.get("device_class") else None,
                         "capabilities": dict(CAPABILITIES.get(domain, {})), "present": True}
        state = e.get("state", "off")
        state = state.get("out", "off") if isinstance(state, dict) else str(state)
        entry = entity_state(domain, state, attrs)
        # Levels the fixture does not give, where Home Assistant would know them: a neutral one to step from.
        if domain == "media_player" and state != "off":
            entry.setdefault("volume", 50)
        if domain == "light" and state == "on":
            entry.setdefault("brightness", 100)
        states[eid] = entry
    _place_every_area(entities, states, areas, extra)
    return Ontology.from_entities(entities.values()), states


def _place_every_area(entities: dict[str, dict[str, Any]], states: dict[str, dict[str, Any]], areas: Mapping[str, tuple[str, str | None]],
                      doc: Mapping[str, Any]) -> None:
    """Home Assistant's harness knows every area a test file lists; an ontology knows an area only by the entities in it.

    A named entity with no area of its own is put where the file's tests name it ("die Stehlampe im Schlafzimmer"), and
    an area still empty, or a floor the file lists with no area, gets a read-only sensor, so that the reader has the file's
    areas and floors (a device of the right type there is not added: the teacher then says there is none).
    """
    by_name = {e["name"].casefold(): e for e in entities.values()}
    names = {a: f for a, f in areas.values()}
    for test in doc.get("tests", []):
        slots = test.get("slots") or {}
        named = by_name.get(str(slots.get("name", "")).casefold())
        if named is not None and not named["area"] and isinstance(slots.get("area"), str) and slots["area"] in names:
            named["area"], named["floor"] = slots["area"], names[slots["area"]]
    used = {e["area"] for e in entities.values() if e["area"]}
    places: list[tuple[str | None, str | None]] = sorted((a, f) for a, f in names.items() if a not in used)
    floors_used = {e["floor"] for e in entities.values() if e["floor"]} | {f for _, f in places if f}
    places += [(None, f["name"]) for f in doc.get("floors", []) if f["name"] not in floors_used]  # a floor the file lists with no area
    for i, (area, floor) in enumerate(places):
        eid = f"sensor.statewise_bench_{i}"
        entities[eid] = {"id": eid, "name": f"statewise bench {i}", "aliases": [], "area": area, "floor": floor, "domain": "sensor",
                         "device_class": None, "capabilities": {}, "present": True}
        states[eid] = {"state": "0"}


def _norm(value: Any) -> str:
    return str(value).casefold().strip()


def _choices(value: Any) -> list[Any]:
    """A test's slot value, or the values it accepts: Home Assistant's harness takes any one of a list."""
    return list(value) if isinstance(value, list | tuple) else [value]


def slot_readings(slots: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every single-valued form of a test's slots (``device_class: [shutter, curtain]`` with ``position: [80, 40]``: four)."""
    out: list[dict[str, Any]] = [{}]
    for key, value in slots.items():
        out = [{**done, key: choice} for done in out for choice in _choices(value)]
    return out


def expected_targets(ontology: Ontology, intent: str, slots: Mapping[str, Any], meanings: tuple[Meaning, ...]) -> list[str]:
    """The entities Home Assistant acts on for these slots: every given slot matches, within the intent's domains."""
    domains = set().union(*(m.domains for m in meanings))
    if "name" in slots:  # a name resolves leniently, as Home Assistant's harness does: its place only narrows several of that name
        named = [eid for eid, e in ontology.entities.items() if e["domain"] in domains and _norm(e["name"]) in {_norm(n) for n in _choices(slots["name"])}]
        placed = expected_targets(ontology, intent, {k: v for k, v in slots.items() if k != "name"}, meanings) if len(named) > 1 else named
        return sorted(set(named) & set(placed)) or named
    out = []
    for eid, e in ontology.entities.items():
        if e["domain"] not in domains:
            continue
        if any(key in slots and _norm(e[key] or "") not in {_norm(v) for v in _choices(slots[key])} for key in ("area", "floor", "domain", "device_class")):
            continue
        out.append(eid)
    return sorted(out)


def expected_intents(intent: str, slots: Mapping[str, Any], meanings: tuple[Meaning, ...], domain: str | None, code: str = "en") -> list[Intent]:
    """Every reading Home Assistant's test accepts.

    One per single-valued form of the slots, and, where no target and no domain tell which meaning is meant (a home with
    nothing in the test's area), one per meaning of the intent: the harness checks only the slots the test names.
    """
    candidates = [m for m in meanings if domain is None or domain in m.domains]
    return [i for one in slot_readings(slots) for m in (candidates if domain is None else candidates[:1])
            if (i := expected_intent(intent, one, (m,), domain, code)) is not None]


def expected_intent(intent: str, slots: Mapping[str, Any], meanings: tuple[Meaning, ...], domain: str | None, code: str = "en") -> Intent | None:
    """The teacher's intent for Home Assistant's (intent, slots): the meaning for the targets' domain."""
    meaning = next((m for m in meanings if domain is None or domain in m.domains), None)
    if meaning is None:
        return None
    value = slots.get(meaning.slot) if meaning.slot else meaning.value
    amount = None
    if meaning.kind == "volume_step" and isinstance(value, int | float):
        value, amount = ("up" if value >= 0 else "down"), abs(value)
    domains = (slots["domain"],) if "domain" in slots else None
    return Intent(meaning.kind, value, mention=slots.get("name"), area=slots.get("area"), floor=slots.get("floor"),
                  device_class=slots.get("device_class"), domains=domains, amount=amount, language=code)


def same_reading(got: Intent, wanted: Intent, slots: Mapping[str, Any]) -> bool:
    """The recogniser's intent says what Home Assistant's test expects: kind, value and every expected slot."""
    from dataset_export.intents import language_of, norm

    lang = language_of(wanted)

    if got.kind != wanted.kind or got.value != wanted.value or (wanted.amount or None) != (got.amount or None):
        return False
    said = {"name": got.mention, "area": got.area, "floor": got.floor, "device_class": got.device_class}
    for key in ("name", "area", "floor", "device_class"):
        # a slot Home Assistant gives as a list takes any of its values; a reading of several ("stores": blind or shade) takes them all
        if key in slots and not {norm(str(v or ""), lang) for v in _choices(said[key])} <= {norm(str(v), lang) for v in _choices(slots[key])}:
            return False
        if key not in slots and said[key] and key != "device_class":
            return False
    return "domain" not in slots or got.domains is None or any(d in got.domains for d in _choices(slots["domain"]))


def _effect(kind: str, value: Any, before: Mapping[str, Any], after: Mapping[str, Any], calls: list[dict[str, Any]], eid: str) -> bool:
    """Tell whether ``eid`` ended as the test expects."""
    domain, state = eid.split(".", 1)[0], after.get("state")
    called = [c for c in calls if c["arguments"].get("entity_id") == eid or "entity_id" not in c["arguments"]]
    checks: dict[str, Callable[[], bool]] = {
        "power": lambda: (state in ON_STATES or (domain == "climate" and state != "off") or bool(called)) if value == "on" else state == "off",
        "cover": lambda: state == ("open" if value == "open" else "closed"),
        "valve": lambda: state == ("open" if value == "open" else "closed"),
        "lock": lambda: state == ("locked" if value == "lock" else "unlocked"),
        "scene": lambda: bool(called),
        "script": lambda: bool(called),
        "brightness": lambda: after.get("brightness") == value or (value == 0 and state == "off"),
        "color": lambda: any(c["name"] == "light_color" and c["arguments"]["color"] == value for c in called),
        "color_temp": lambda: after.get("color_temp_kelvin") == value,
        "cover_position": lambda: after.get("position") == value,
        "valve_position": lambda: after.get("position") == value,
        "climate_temp": lambda: after.get("temperature") == value,
        "fan_speed": lambda: after.get("percentage") == value or (value == 0 and state == "off"),
        "volume": lambda: after.get("volume") == value,
        "volume_step": lambda: before.get("state") == "off" or _stepped(before.get("volume"), after.get("volume"), value == "up"),
        "media": lambda: {"pause": state == "paused" or before.get("state") != "playing", "resume": state == "playing"}.get(
            value, bool(called) or before.get("state") not in ("playing", "paused")),  # skipping on a player that plays nothing: a no-op
        "mute": lambda: after.get("muted") is value,
        "vacuum": lambda: state == {"start": "cleaning", "return_home": "returning"}.get(value, state) or before.get("state") == after.get("state"),
        "todo_add": lambda: any(c["name"] == "todo_add" for c in called),
        "play_title": lambda: any(c["name"] == "plex_play" for c in calls),
    }
    return checks.get(kind, lambda: False)()


def _stepped(before: int | None, after: int | None, up: bool) -> bool:
    """A volume step moved the volume its way, or it was already at the end."""
    if up:
        return (after or 0) > (before or 0) or before == 100
    return (100 if after is None else after) < (100 if before is None else before) or before == 0


def measure(repo: Path, code: str = "en") -> dict[str, Any]:
    """Per intent: sentences, producible, recognised, teacher agrees (see the module docstring), for ``tests/<code>``."""
    lang = load_language(code)
    # one fixture home (tests/en), or each test file's own entities and areas (the per-slot-combination layout)
    fixtures = yaml.safe_load(read_text(repo, f"tests/{code}/_fixtures.yaml") if f"tests/{code}/_fixtures.yaml" in list_tests_all(repo, code) else "") or {}
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: dict[str, list[str]] = defaultdict(list)
    for path in list_tests(repo, code):
        intent = path.split("/")[2]
        text = read_text(repo, path)
        doc = yaml.safe_load(text) or {}
        meanings = hass_meanings(intent, {}, set(SLOT_FIELDS) | {k for t in doc.get("tests", []) for k in (t.get("slots") or {})})
        meanings = tuple(m for m in meanings if m.kind in kinds())
        if not meanings:
            continue
        ontology, states = fixture_home(fixtures, doc)
        recognizer = Recognizer(ontology, lang)
        needs_area = "context_area: true" in text
        for test in doc.get("tests", []):
            slots = test.get("slots") or {}
            sentences = test.get("sentences") or []
            row = rows[intent]
            if needs_area or test.get("context"):
                row["needs_speaker_area"] += len(sentences)
                continue
            targets = expected_targets(ontology, intent, slots, meanings)
            implied = not set(slots) & {"name", "area", "floor"}
            if implied and len(targets) > 1:  # no target said, several capable: Home Assistant uses the speaker's area, a prompt has none
                row["implied_several"] += len(sentences)
            named = [e for e in doc.get("entities", []) if slots.get("name") and _norm(e["name"]) in {_norm(n) for n in _choices(slots["name"])}]
            domain = (ontology.entities[targets[0]]["domain"] if targets else
                      slots.get("domain") or (named[0].get("domain") or named[0]["id"].split(".", 1)[0] if named else None))
            accepted = expected_intents(intent, slots, meanings, domain, code)
            wanted = accepted[0] if accepted else None
            for sentence in sentences:
                row["sentences"] += 1
                reading = recognizer.reading(sentence)
                first_pass = bool(recognizer._read(sentence, False, False)) if reading is not None else False
                row["producible"] += first_pass
                got = recognizer.to_intent(reading) if reading is not None else None
                same = got is not None and any(same_reading(got, w, slots) for w in accepted)
                row["recognised"] += same
                if not same and len(misses[intent]) < 12:
                    misses[intent].append(f"{sentence!r}: read {got.as_dict() if got else None}, expected {wanted.as_dict() if wanted else None}")
            if wanted is None or not targets:
                row["no_targets"] += len(sentences)
                continue
            decision = decide(ontology, states, wanted)
            if implied and len(targets) > 1:  # the right answer is to ask which one
                agree = decision.reason == "ambiguous"
                row["teacher_cases"] += len(sentences)
                row["teacher_agrees"] += len(sentences) * agree
                if not agree and len(misses[intent + " (teacher)"]) < 5:
                    misses[intent + " (teacher)"].append(f"{slots} (implied, several): {decision.answer[:140]!r}")
                continue
            calls = [json.loads(line)["tool_call"] for line in decision.answer.splitlines()] if decision.output_class == ACTION else []
            after = apply_calls(states, [ToolCall(c["name"], c["arguments"]) for c in calls], ontology)
            ok = all(_effect(wanted.kind, wanted.value, states[e], after[e], calls, e) for e in targets)
            changed = {e for e in after if after[e] != states.get(e)} - set(targets)
            agree = ok and not changed
            row["teacher_cases"] += len(sentences)
            row["teacher_agrees"] += len(sentences) * agree
            if not agree and len(misses[intent + " (teacher)"]) < 5:
                misses[intent + " (teacher)"].append(f"{slots}: {decision.answer[:140]!r} (targets {targets})")
    table = {intent: dict(r) for intent, r in sorted(rows.items())}
    total = defaultdict(int)
    for r in table.values():
        for k, v in r.items():
            total[k] += v
    return {"intents": table, "total": dict(total), "misses": dict(misses)}


def _rate(n: int, d: int) -> str:
    return f"{n / d:.1%}" if d else "-"


def format_languages(reports: Mapping[str, dict[str, Any]]) -> str:
    """One line per language: the totals of its ``tests/<code>``."""
    lines = ["| language | sentences | recognised | teacher agrees | needs speaker area |", "| --- | --- | --- | --- | --- |"]
    for code, report in reports.items():
        r = report["total"]
        n = r.get("sentences", 0)
        lines.append(f"| {code} | {n} | {r.get('recognised', 0)} ({_rate(r.get('recognised', 0), n)}) | "
                     f"{r.get('teacher_agrees', 0)} of {r.get('teacher_cases', 0)} ({_rate(r.get('teacher_agrees', 0), r.get('teacher_cases', 0))}) | "
                     f"{r.get('needs_speaker_area', 0)} |")  # fmt: skip
    return "\n".join(lines)


def format_report(report: dict[str, Any]) -> str:
    """A Markdown table."""
    lines = ["| intent | sentences | producible | recognised | teacher agrees | needs speaker area |", "| --- | --- | --- | --- | --- | --- |"]
    for intent, r in [*report["intents"].items(), ("**all**", report["total"])]:
        n = r.get("sentences", 0)
        lines.append(f"| {intent} | {n} | {r.get('producible', 0)} ({_rate(r.get('producible', 0), n)}) | "
                     f"{r.get('recognised', 0)} ({_rate(r.get('recognised', 0), n)}) | "
                     f"{r.get('teacher_agrees', 0)} of {r.get('teacher_cases', 0)} ({_rate(r.get('teacher_agrees', 0), r.get('teacher_cases', 0))}) | "
                     f"{r.get('needs_speaker_area', 0)} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table (``--json`` for the figures)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO, help="a clone of OHF-Voice/intents (work tree or bare git folder)")
    parser.add_argument("--language", default=",".join(buildable_languages()),
                        help="languages to measure, comma-separated (default: every language Statewise has a folder for)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="also print up to five disagreements per intent")
    args = parser.parse_args(argv)
    if not args.repo.exists():
        print(f"error: {args.repo}: no clone of OHF-Voice/intents (git clone https://github.com/OHF-Voice/intents)", file=sys.stderr)
        return 2
    reports = {code: measure(args.repo, code) for code in args.language.split(",")}
    if args.json:
        print(json.dumps(reports if len(reports) > 1 else next(iter(reports.values())), indent=2))
        return 0
    if len(reports) > 1:
        print(format_languages(reports) + "\n")
    for code, report in reports.items():
        print(f"### {code}\n\n{format_report(report)}\n")
        if args.misses:
            for intent, lines in report["misses"].items():
                print(f"\n{intent}:\n  " + "\n  ".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
