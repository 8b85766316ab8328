"""bench/ontology_tokens.py: figures per home against HA's context, capacities and prompt rounds."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str = "ontology_tokens"):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grouped_ontology_meets_the_goal_on_every_example_home() -> None:
    bench = _load()
    for home in bench.HOMES:
        figures = bench.measure_home(home)
        f = figures["formats"]
        assert f["ontology_prompt"]["vs_ha"] <= bench.GOAL, (home, f["ontology_prompt"])
        assert f["ontology_prompt"]["tokens"] < f["previous_prompt"]["tokens"] < f["pretty_json"]["tokens"]
        assert f["pretty_json"]["vs_baseline"] == 1.0
        assert f["ontology_prompt"]["entities"] == figures["entities"]


def test_previous_shape_is_the_per_entity_list() -> None:
    bench = _load()
    from statewise_protocol import load_export

    ontology = load_export(ROOT / "examples" / "demo_home").ontology
    items = json.loads(bench.previous_prompt_json(ontology))
    assert [i["id"] for i in items] == sorted(ontology.entities)
    assert items[0] == {"id": "climate.heatpump", "name": "HeatPump", "aliases": ["heat pump"], "area": "Bedroom", "floor": "First Floor",
                        "capabilities": {"hvac_modes": ["heat", "off"], "power": True, "temp_range": [7, 35]}}  # fmt: skip


def test_assist_context_shape() -> None:
    from statewise_protocol import load_export

    ontology = load_export(ROOT / "examples" / "demo_home").ontology
    text, n = _load("assist_context").static_context(ontology.entities.values())
    header, body = text.split("\n", 1)
    assert header.startswith("Static Context:")
    data = yaml.safe_load(body)
    scripts = sum(1 for e in ontology.entities.values() if e["domain"] == "script")
    assert len(data) == n == len(ontology.entities) - scripts
    assert {"names": "Bed Light, bedside lamp, lamp", "domain": "light", "areas": "Bedroom"} in data
    names = [d["names"].split(", ")[0] for d in data]
    assert names == sorted(names)


def test_capacity_grows_with_the_budget_and_prompt_rounds() -> None:
    bench = _load()
    assert len(bench.demo_mix(60).entities) == 60
    small, large = bench.capacity(lambda o: o.prompt_json, 1024), bench.capacity(lambda o: o.prompt_json, 2048)
    assert 0 < small < large
    rounds = bench.prompt_rounds()
    assert rounds["first"]["rows"] > 0 and rounds["post_fetch"]["rows"] > 0
    assert rounds["first"]["p50"] < rounds["post_fetch"]["p50"]
