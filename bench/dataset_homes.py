"""The dataset on every example home: what a build draws, how each coverage rule was met, token lengths.

Homes: the demo home, the hand-written small flat and large house, and the three
exports named as Home Assistant names things (``examples/ha_*``: no aliases,
nothing unavailable, sensors exposed). Run:
``.venv/trainer/bin/python bench/dataset_homes.py [--size N] [--language en,de,...]`` (each language a build of
its own; default English).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dataset_export.pipeline import build_dataset  # noqa: E402

HOMES = ("demo_home", "small_flat", "large_house", "ha_apartment", "ha_family_home", "ha_big_house")
MAX_LENGTH = 16384  # every example home fits (the budget is the subject of bench/ontology_tokens.py)


def measure(size: int = 400, homes: tuple[str, ...] = HOMES, languages: tuple[str, ...] = ("en",)) -> list[dict[str, Any]]:
    """One build per home and language (seed 0)."""
    rows = []
    for language, home in ((language, home) for language in languages for home in homes):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            stats = build_dataset(ROOT / "examples" / home, Path(tmp) / "out", seed=0, size=size, heldout_size=max(40, size // 10),
                                  max_length=MAX_LENGTH, language=language)  # fmt: skip
            seconds = time.perf_counter() - start
        train = stats["train"]
        total = size + max(40, size // 10)
        label = home if language == "en" else f"{home} ({language})"
        rows.append({"home": label, "entities": stats["export"]["entities"], "seconds": round(seconds, 1), "rows_per_s": round(total / seconds, 1),
                     "classes": {k: v["share"] for k, v in train["classes"].items()}, "coverage": train["coverage"],
                     "sources": train["coverage_sources"], "variants": train["ontology_variants"]["share"], "injected": train["injected"]["share"],
                     "p50": train["tokens"]["p50"], "p99": train["tokens"]["p99"]})  # fmt: skip
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """Markdown tables."""
    lines = ["| home | entities | text / one / multi | alias | state-sensitive | present:false (home + variant) | already satisfied | missing state "
             "| variant rows | injected rows | tokens p50 / p99 | build |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        c, s = r["coverage"], r["sources"]
        lines.append(f"| {r['home']} | {r['entities']} | {r['classes']['text']:.0%} / {r['classes']['one']:.0%} / {r['classes']['multi']:.0%} | "
                     f"{c['alias']} | {c['state_sensitive']} | {s['not_present']['home']} + {s['not_present']['variant']} | {c['already_satisfied']} | "
                     f"{c['missing_state']} | {r['variants']:.0%} | {r['injected']:.1%} | {r['p50']} / {r['p99']} | "
                     f"{r['seconds']} s ({r['rows_per_s']} rows/s) |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--language", default="en", help="comma-separated language codes, one build each")
    args = parser.parse_args(argv)
    print(format_table(measure(args.size, languages=tuple(args.language.split(",")))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
