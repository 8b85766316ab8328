"""Phrasing families of their own (dataset_export/phrasings.py): a device named by part of its name or by name and type."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from statewise_protocol import load_export, parse_output

from dataset_export.build import templates_for, train_pair_ok
from dataset_export.families import PHRASINGS, WEIGHTS
from dataset_export.generate import Generator
from dataset_export.intents import device_nouns, norm, spoken_forms
from dataset_export.language import load_language
from dataset_export.phrasings import floor, partial_name, several_areas, shopping_list, steps, type_noun

sys.path.insert(0, str(Path(__file__).resolve().parent))
import plain_ha_home as plain


def type_forms() -> set[str]:
    """Every English device-type form ("lights", "garage doors")."""
    en = load_language("en")
    return {form for noun in device_nouns(en).values() for form in spoken_forms(noun.spoken, en)}

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo_home"


def test_every_phrasing_family_is_drawn_by_the_builder():
    drawn = {f for families in WEIGHTS.values() for f, w in families if w > 0}
    assert set(PHRASINGS) <= drawn


def test_partial_names_act_on_the_device_they_name_without_saying_its_whole_name():
    export = load_export(DEMO)
    gen = Generator(export, "train", 3, templates_for("train", load_language("en")), train_pair_ok, load_language("en"))
    units = [u for u in (partial_name(gen) for _ in range(60)) if u]
    assert len(units) >= 5
    for (row,) in units:
        assert "partial_name" in row["tags"] and row["output_class"] in ("action", "fetch")
        calls = parse_output(row["messages"][2]["content"]).calls
        targets = {c.arguments.get("entity_id") for c in calls} | {e for c in calls for e in c.arguments.get("entity_ids", [])}
        ontology = row["_ontology"]
        names = {norm(ontology.entities[t]["name"]) for t in targets if t}
        said = f" {norm(row['messages'][1]['content'])} "
        types = type_forms()  # a whole name is said only with its type
        assert names and not any(f" {n} " in said and not any(f" {n} {k} " in said for k in types) for n in names), said
        assert json.loads(row["intent"])["kind"]


def test_steps_said_in_order_are_planned_in_that_order():
    export = load_export(DEMO)
    gen = Generator(export, "train", 5, templates_for("train", load_language("en")), train_pair_ok, load_language("en"))
    units = [u for u in (steps(gen) for _ in range(40)) if u]
    assert len(units) >= 5
    for (row,) in units:
        assert "steps" in row["tags"] and row["output_class"] == "action" and row["num_calls"] >= 2
        intent = json.loads(row["intent"])
        assert len(intent["then"]) == 1  # each clause read on its own
        said = norm(row["messages"][1]["content"])
        calls = parse_output(row["messages"][2]["content"]).calls
        first, last = calls[0].arguments.get("entity_id"), calls[-1].arguments.get("entity_id")
        names = {eid: norm(row["_ontology"].entities[eid]["name"]) for eid in (first, last) if eid}
        if all(n in said for n in names.values()) and len(set(names.values())) == 2:
            assert said.index(names[first]) < said.index(names[last]), said  # the calls in the order said


def test_the_card_counts_each_phrasing_familys_rows(tmp_path):
    from dataset_export.cli import main

    out = tmp_path / "out"
    assert main(["build", str(DEMO), "--out", str(out), "--size", "300", "--heldout-size", "40", "--quiet"]) == 0
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    held = [json.loads(line) for line in (out / "heldout.jsonl").read_text().splitlines()]
    card = (out / "dataset_card.md").read_text()
    for family in PHRASINGS:
        counted = f"{family} {sum(family in r['tags'] for r in rows)}/{sum(family in r['tags'] for r in held)}"
        assert counted in card
    assert sum("steps" in r["tags"] for r in rows) > 0


def test_a_device_type_in_two_areas_acts_in_both_areas():
    export = load_export(DEMO)
    gen = Generator(export, "train", 3, templates_for("train", load_language("en")), train_pair_ok, load_language("en"))
    units = [u for u in (several_areas(gen) for _ in range(60)) if u]
    assert len(units) >= 3
    for (row,) in units:
        intent = json.loads(row["intent"])
        areas = {intent["area"], intent["then"][0]["area"]}
        assert len(areas) == 2 and " and " in row["messages"][1]["content"]
        calls = parse_output(row["messages"][2]["content"]).calls
        assert {row["_ontology"].entities[c.arguments["entity_id"]]["area"] for c in calls} == areas


def _targets(row) -> set[str]:
    calls = parse_output(row["messages"][2]["content"]).calls
    return {c.arguments["entity_id"] for c in calls if "entity_id" in c.arguments} | {e for c in calls for e in c.arguments.get("entity_ids", [])}


def test_a_device_type_or_class_acts_on_the_one_such_device_or_on_all_of_them():
    export = load_export(DEMO)
    gen = Generator(export, "train", 4, templates_for("train", load_language("en")), train_pair_ok, load_language("en"))
    units = [u for u in (type_noun(gen) for _ in range(80)) if u]
    assert len(units) >= 5
    for (row,) in units:
        intent = json.loads(row["intent"])
        assert "type_noun" in row["tags"] and row["output_class"] in ("action", "fetch")
        said = norm(row["messages"][1]["content"])
        # said by its type or class (a device-type noun, a class, a domain's own word: "all the lights"), not by a name
        assert intent.get("noun") or intent.get("device_class") or intent.get("domains") or intent.get("mention"), intent
        types = type_forms()  # "Garage Door" is named by its type
        assert not any(f" {norm(e['name'])} " in f" {said} " for e in row["_ontology"].entities.values() if norm(e["name"]) not in types), said
        if len(_targets(row)) > 1:
            assert intent.get("every"), row["messages"][1]["content"]  # several only when "all"/"every" was said


def test_a_floor_acts_on_every_such_device_on_that_floor_and_no_other():
    export = load_export(DEMO)
    gen = Generator(export, "train", 5, templates_for("train", load_language("en")), train_pair_ok, load_language("en"))
    units = [u for u in (floor(gen) for _ in range(60)) if u]
    assert len(units) >= 5
    for (row,) in units:
        intent = json.loads(row["intent"])
        entities = row["_ontology"].entities
        on_floor = {eid for eid, e in entities.items() if e.get("floor") == intent["floor"] and e["domain"] in (intent.get("domains") or [e["domain"]])}
        assert "floor" in row["tags"] and _targets(row) and _targets(row) <= on_floor, row["messages"][1]["content"]


def test_the_shopping_list_by_its_role_is_the_list_that_is_it(tmp_path):
    export = load_export(plain.write_export(tmp_path / "plain"))
    gen = Generator(export, "train", 6, templates_for("train", load_language("en")), lambda eid, entry: True, load_language("en"))
    units = [u for u in (shopping_list(gen) for _ in range(40)) if u]
    assert len(units) >= 10
    said = set()
    for (row,) in units:
        assert "shopping_list" in row["tags"] and _targets(row) == {"todo.shopping_list"}, row["messages"][1]["content"]
        said.add("shopping" in row["messages"][1]["content"].lower() or "grocer" in row["messages"][1]["content"].lower())
    assert said == {True, False}  # by its name's role and by Home Assistant's own "the list"


def test_no_shopping_list_rows_where_the_home_has_none():
    gen = Generator(load_export(DEMO), "train", 6, templates_for("train", load_language("en")), train_pair_ok, load_language("en"))
    assert all(shopping_list(gen) is None for _ in range(20))
