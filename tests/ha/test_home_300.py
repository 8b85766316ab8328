"""A 300-entity home end to end (bench/home_300.py): HA export -> build with --max-length auto -> HA token-budget check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_300_entity_home_builds_with_an_automatic_budget_and_fits_it_in_home_assistant() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "home_300.py"), "--size", "120", "--json"],
                         capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    figures = json.loads(out.stdout)
    assert figures["entities"] >= 300 and figures["train_rows"] == 120
    assert 2048 < figures["longest_example"] <= figures["max_length"] in (3072, 4096, 6144, 8192)
    assert figures["ontology_tokens"] < figures["longest_example"]
    # The Repair stays quiet at the budget the model was trained with, and bites at the plan's 2048.
    assert figures["repair"]["chosen"]["issue"] is False and figures["repair"]["plan_2048"]["issue"] is True
    assert figures["builder_says"].startswith(f"token budget: {figures['max_length']} (auto:")
