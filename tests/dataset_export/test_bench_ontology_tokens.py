"""bench/ontology_tokens.py is importable and its figures are consistent."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("ontology_tokens", ROOT / "bench" / "ontology_tokens.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_demo_home() -> None:
    bench = _load()
    figures = bench.measure()
    rows = {r["format"]: r for r in figures["rows"]}
    assert figures["entities"] == 21 and figures["vocab_size"] == 151669
    assert rows["pretty_json"]["ratio_vs_baseline"] == 1.0
    assert rows["one_line_per_device"]["tokens"] < rows["ontology_prompt"]["tokens"] < rows["pretty_json"]["tokens"]
    for row in rows.values():
        assert row["tokens_per_entity"] == round(row["tokens"] / 21, 2)
    lines = figures["samples"]["one_line_per_device"].split("\n")
    assert lines[0] == "climate.heatpump 'HeatPump' = heat;set=20;now=25"
    table = bench.format_table(figures)
    assert "ontology_prompt" in table and "vs pretty" in table


def test_one_line_format() -> None:
    bench = _load()
    from statewise_protocol import load_export

    export = load_export(ROOT / "examples" / "demo_home")
    text = bench.one_line_per_device(export.ontology, export.snapshots[0].states)
    assert "light.kitchen_lights 'Kitchen Lights' = on;71%" in text.split("\n")
    assert "media_player.lounge_room 'Lounge room' = playing;src=plex;vol=100%;'Chapter 1'" in text.split("\n")
