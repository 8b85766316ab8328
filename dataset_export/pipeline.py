"""The whole build: load, budget check, draw, check the plan, write atomically."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from statewise_protocol import AUTO_MAX_LENGTHS, PLAN_MAX_LENGTH, Export, ExportError, auto_max_length, load_export

from . import plots
from .budget import AUTO, TokenCounter
from .build import (
    HELDOUT_REQUIRED,
    InvalidTraining,
    assign_ids,
    check_controllable,
    check_disjoint,
    check_plan,
    check_replaceable,
    check_teacher,
    draw_split,
    heldout_pair_ok,
    jsonl,
    supplied,
    templates_for,
    train_pair_ok,
    write_atomic,
)
from .card import render_card
from .gazetteer import readers
from .generate import LabelBook
from .language import load_language
from .stats import split_stats


def supply_line(requested: dict[str, int], train: int, held: int) -> str:
    """One line saying the size a small home could supply, or ``""`` when it supplied what was asked."""
    if (train, held) == (requested["train"], requested["heldout"]):
        return ""
    return (f"this home supplies {train} training and {held} held-out examples within the plan's ratios and coverage "
            f"({requested['train']} and {requested['heldout']} were asked for); a home with more devices supplies more")


def build_dataset(export_dir: str | Path, out_dir: str | Path, *, seed: int = 0, size: int = 2000, heldout_size: int | None = None,
                  language: str = "en", heldout_export: str | Path | None = None, max_length: int | str = AUTO,
                  tick: Callable[[int], None] = lambda n: None) -> dict[str, Any]:
    """Build and write the dataset; returns ``stats.json``'s content.

    ``max_length="auto"`` draws within the largest of ``AUTO_MAX_LENGTHS`` and then keeps the
    smallest budget that holds the longest example drawn (the plan's 2048 whenever the home fits
    it); a number is a fixed budget (longer candidates are excluded). Raises ``ExportError`` (bad
    export or language), ``BudgetError`` (ontology too big) or :class:`InvalidTraining` (ratios or
    coverage not met); nothing is written then.
    """
    auto = max_length == AUTO
    if not auto and not isinstance(max_length, int):
        raise ExportError("--max-length", "", f"{max_length!r} is neither 'auto' nor a number of tokens")
    limit = AUTO_MAX_LENGTHS[-1] if auto else int(max_length)
    lang = load_language(language)
    export = load_export(export_dir)
    other: Export = load_export(heldout_export) if heldout_export is not None else export
    check_replaceable(Path(out_dir))
    held_n = max(1, size // 10) if heldout_size is None else heldout_size
    counters = {id(export): TokenCounter(export.ontology)}
    counters.setdefault(id(other), TokenCounter(other.ontology))
    for counter in counters.values():
        counter.check_fits(limit, auto=auto)
    for home in {id(export): export, id(other): other}.values():
        check_controllable(home)
    book = LabelBook()  # one teacher for both splits
    train = draw_split(export, "train", size, seed, templates_for("train", lang), train_pair_ok, counters[id(export)], limit, tick, book, lang=lang)
    held = draw_split(other, "heldout", held_n, seed, templates_for("heldout", lang), heldout_pair_ok, counters[id(other)], limit, tick, book,
                      lang=lang)
    requested = {"train": size, "heldout": held_n}
    train.rows = supplied(train.rows, size, "train")
    held.rows = supplied(held.rows, held_n, "heldout", HELDOUT_REQUIRED)
    size, held_n = min(size, len(train.rows)), min(held_n, len(held.rows))
    problems = check_plan(train.rows, size, "train") + check_plan(held.rows, held_n, "heldout", HELDOUT_REQUIRED)
    if problems:
        drawn = {"train": split_stats(train, size)["classes"], "heldout": split_stats(held, held_n)["classes"]}
        raise InvalidTraining("training is invalid: " + "; ".join(problems), drawn)
    check_teacher(train.rows + held.rows)
    check_disjoint(train.rows, held.rows)
    longest = max(r["_tokens"] for r in train.rows + held.rows)
    chosen = auto_max_length(longest) if auto else limit
    stats: dict[str, Any] = {
        "format": "statewise.dataset_stats",
        "version": 0,
        "export": {"name": export.path.name, "content_hash": export.manifest["content_hash"], "entities": len(export.ontology.entities),
                   "snapshots": len(export.snapshots)},
        "heldout_source": f"a different home, `{other.path.name}` ({other.manifest['content_hash']})" if other is not export else "the same home",
        "language": language,
        "readers": readers(),
        "seed": seed,
        "max_length": chosen,
        "max_length_choice": {"mode": "auto" if auto else "explicit", "longest_example": longest, "plan": PLAN_MAX_LENGTH},
        "ontology_tokens": counters[id(export)].ontology_tokens,
        "train": split_stats(train, size),
        "heldout": split_stats(held, held_n),
        "requested": requested,
        "supplied": supply_line(requested, size, held_n),
    }
    files = {
        "train.jsonl": jsonl(assign_ids(train.rows, "train", export.manifest["content_hash"], seed)),
        "heldout.jsonl": jsonl(assign_ids(held.rows, "heldout", other.manifest["content_hash"], seed)),
        "stats.json": (json.dumps(stats, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        "dataset_card.md": render_card(stats).encode("utf-8"),
        "class_ratios.png": plots.class_ratios(stats),
        "token_lengths.png": plots.token_histogram([r["_tokens"] for r in train.rows], [r["_tokens"] for r in held.rows], chosen),
        "coverage.png": plots.coverage_counts(stats),
    }
    write_atomic(Path(out_dir), files)
    return stats
