"""bench/dataset_homes.py: one build per home, figures from the build's own statistics."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dataset_homes.py"


def test_measure_and_table_on_two_homes():
    spec = importlib.util.spec_from_file_location("bench_dataset_homes", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.measure(size=120, homes=("demo_home", "ha_apartment"))
    assert [r["home"] for r in rows] == ["demo_home", "ha_apartment"]
    ha = rows[1]
    assert ha["entities"] == 35 and abs(sum(ha["classes"].values()) - 1) <= 3e-4  # shares rounded to four places each
    # Nothing in that export is unavailable: every present:false example comes from an ontology variant.
    assert ha["sources"]["not_present"]["home"] == 0 and ha["sources"]["not_present"]["variant"] > 0
    assert 0 < ha["p50"] <= ha["p99"] and ha["rows_per_s"] > 0
    table = module.format_table(rows)
    assert table.count("\n") == 3 and "| ha_apartment | 35 |" in table


def test_a_row_per_home_and_language():
    spec = importlib.util.spec_from_file_location("bench_dataset_homes", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.measure(size=120, homes=("small_flat",), languages=("en", "de"))
    assert [r["home"] for r in rows] == ["small_flat", "small_flat (de)"]
    assert rows[0]["coverage"] != rows[1]["coverage"] or rows[0]["p50"] != rows[1]["p50"]  # another language, another draw
