"""bench/dataset_build.py: importable measure() with both sizes timed in one run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dataset_build.py"


def test_measure_reports_baseline_and_target():
    spec = importlib.util.spec_from_file_location("bench_dataset_build", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.measure(size=120, baseline=40, warmup=40)
    assert figures["baseline"]["train_examples"] == 40 and figures["target"]["train_examples"] == 120
    assert figures["target"]["heldout_examples"] == 12
    for run in ("baseline", "target"):
        assert figures[run]["seconds"] > 0 and figures[run]["examples_per_s"] > 0
    table = module.format_table(figures)
    assert "examples/s" in table and "target" in table
