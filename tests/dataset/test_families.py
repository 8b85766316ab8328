"""The one table of example families (dataset_export/families): each family registered once, and each draws real rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from statewise_protocol import check_output, load_export

from dataset_export.build import TARGET, templates_for, train_pair_ok
from dataset_export.families import BY_NAME, FAMILIES, FIRST, PHRASINGS, WEIGHTS
from dataset_export.generate import Generator
from dataset_export.language import load_language

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo_home"
NEEDS_A_LIST = {"shopping_list"}  # the demo home has no to-do list: drawn in the plain Home Assistant home (tests/dataset/plain_ha_home.py)


def test_each_family_is_one_line_of_one_table():
    names = [f.name for f in FAMILIES]
    assert len(names) == len(set(names)) == len(BY_NAME)
    assert set(WEIGHTS) == set(TARGET)
    for f in FAMILIES:
        assert (f.cls is None) == (f.weight == 0), f.name  # drawn by weight for a class, or only first for coverage
        assert f.cls is not None or f.first, f"{f.name} is never drawn"
    assert sorted(BY_NAME[n].first for n in FIRST) == list(range(1, len(FIRST) + 1))
    assert set(PHRASINGS) <= {n for fams in WEIGHTS.values() for n, _ in fams}


@pytest.fixture(scope="module")
def gens(tmp_path_factory):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import plain_ha_home as plain

    lang = load_language("en")
    plain_home = load_export(plain.write_export(tmp_path_factory.mktemp("plain") / "plain"))
    return {home: Generator(export, "train", 7, templates_for("train", lang), train_pair_ok, lang)
            for home, export in (("demo", load_export(DEMO)), ("plain", plain_home))}


@pytest.mark.parametrize("name", [f.name for f in FAMILIES])
def test_every_family_draws_valid_rows_in_the_demo_home(gens, name):
    gen = gens["plain" if name in NEEDS_A_LIST else "demo"]
    unit = next((u for _ in range(300) if (u := gen.draw(name))), None)
    assert unit, f"{name} drew nothing in 300 tries"
    for row in unit:
        verdict = check_output(row["messages"][-1]["content"], row["_ontology"], row["_shown"] or None)
        assert verdict.ok and verdict.kind == row["output_class"], (name, row["messages"][1]["content"], verdict.as_dict())
