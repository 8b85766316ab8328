"""Benchmark: ``dataset_export build`` time and examples per second.

Builds, in one process, a small baseline (default 1,000 training examples) and
the target size (default 20,000), each with a held-out set of a tenth, from one
export (default ``examples/demo_home``) into temporary folders, and prints wall
time and examples (train + held-out) per second for both. The first build pays
the one-off start-up (tokenizer load, template parsing); it is timed
separately as ``warmup_s``. Run ``python bench/dataset_build.py [EXPORT_DIR]
[--size N] [--baseline N] [--max-length N] [--json]``; import :func:`measure`
(``bench/run_all.py``) to get the figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from statewise_protocol import PLAN_MAX_LENGTH

from dataset_export.pipeline import build_dataset

DEMO_DIR = Path(__file__).resolve().parents[1] / "examples" / "demo_home"


def _timed_build(export_dir: Path, size: int, max_length: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="statewise-bench-") as tmp:
        start = time.perf_counter()
        stats = build_dataset(export_dir, Path(tmp) / "out", seed=seed, size=size, max_length=max_length)
        seconds = time.perf_counter() - start
    total = stats["train"]["examples"] + stats["heldout"]["examples"]
    return {"train_examples": stats["train"]["examples"], "heldout_examples": stats["heldout"]["examples"], "seconds": round(seconds, 2),
            "examples_per_s": round(total / seconds, 1), "tokens_p50": stats["train"]["tokens"]["p50"]}


def measure(export_dir: str | Path = DEMO_DIR, size: int = 20_000, baseline: int = 1_000, max_length: int = PLAN_MAX_LENGTH, seed: int = 0,
            warmup: int = 200) -> dict[str, Any]:
    """Figures for the baseline size and the target size (same process, same export)."""
    export_dir = Path(export_dir)
    start = time.perf_counter()
    _timed_build(export_dir, warmup, max_length, seed)  # loads the tokenizer and parses templates once
    warmup = time.perf_counter() - start
    return {
        "export": export_dir.name,
        "max_length": max_length,
        "warmup_s": round(warmup, 2),
        "baseline": _timed_build(export_dir, baseline, max_length, seed),
        "target": _timed_build(export_dir, size, max_length, seed),
    }


def format_table(figures: dict[str, Any]) -> str:
    """Plain-text table of :func:`measure`'s figures."""
    lines = [f"dataset build on {figures['export']} (max length {figures['max_length']}, warm-up {figures['warmup_s']} s)",
             f"{'run':<10}{'train':>8}{'heldout':>9}{'seconds':>10}{'examples/s':>12}"]
    for name in ("baseline", "target"):
        f = figures[name]
        lines.append(f"{name:<10}{f['train_examples']:>8}{f['heldout_examples']:>9}{f['seconds']:>10}{f['examples_per_s']:>12}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", nargs="?", default=str(DEMO_DIR))
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--max-length", type=int, default=PLAN_MAX_LENGTH)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    figures = measure(args.export_dir, args.size, args.baseline, args.max_length)
    print(json.dumps(figures, indent=2) if args.json else format_table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
