"""bench/state_bytes.py: STATE per demo media player before and after media titles left STATE."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_state_bytes_shrink_where_a_title_was_sent() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "state_bytes.py"), "--json"], capture_output=True, text=True, timeout=120, check=True,
                         cwd=ROOT)  # fmt: skip
    figures = json.loads(out.stdout)
    assert len(figures["players"]) >= 5
    for row in figures["players"]:
        assert (row["after_bytes"] < row["before_bytes"]) == bool(row["title"])
    assert figures["after_total"] < figures["before_total"]
