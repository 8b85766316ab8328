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
    SplitResult,
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
from .labelbook import LabelBook
from .language import LANGUAGES_DIR, Language, load_language
from .stats import split_stats


def supply_line(requested: dict[str, int], train: int, held: int) -> str:
    """One line saying the size a small home could supply, or ``""`` when it supplied what was asked."""
    if (train, held) == (requested["train"], requested["heldout"]):
        return ""
    return (f"this home supplies {train} training and {held} held-out examples within the plan's ratios and coverage "
            f"({requested['train']} and {requested['heldout']} were asked for); a home with more devices supplies more")


def _shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal whole shares, the first ones larger."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def build_languages(language: str | None, export: Export, language_dir: str | Path | None = None) -> list[Language]:
    """The languages a build speaks: ``--language`` (``en`` or ``en,de``), else the one Home Assistant reported at export time, else English.

    ``language_dir``: a folder holding language folders of one's own (one not shipped yet).
    """
    codes = [c.strip() for c in (language or export.manifest.get("language") or "en").split(",") if c.strip()]
    if not codes or len(set(codes)) != len(codes):
        raise ExportError("--language", str(language), "give one language or several, each once, separated by commas")
    root = Path(language_dir) if language_dir is not None else LANGUAGES_DIR
    return [load_language(code, root) for code in codes]


def _merged(parts: list[SplitResult]) -> SplitResult:
    """One split of several languages' draws, language by language."""
    if len(parts) == 1:
        return parts[0]
    out = SplitResult()
    for part in parts:
        out.rows += part.rows
        out.over_length += part.over_length
        out.duplicates += part.duplicates
        out.failed.update(part.failed)
        out.not_understood += part.not_understood
    return out


def build_dataset(export_dir: str | Path, out_dir: str | Path, *, seed: int = 0, size: int = 2000, heldout_size: int | None = None,
                  language: str | None = None, heldout_export: str | Path | None = None, max_length: int | str = AUTO,
                  language_dir: str | Path | None = None, tick: Callable[[int], None] = lambda n: None) -> dict[str, Any]:
    """Build and write the dataset; returns ``stats.json``'s content.

    ``language``: see :func:`build_languages`; several languages share the size equally, each
    drawn with the plan's ratios and coverage. ``max_length="auto"`` draws within the largest of
    ``AUTO_MAX_LENGTHS`` and then keeps the smallest budget that holds the longest example drawn
    (the plan's 2048 whenever the home fits it); a number is a fixed budget (longer candidates
    are excluded). Raises ``ExportError`` (bad export or language), ``BudgetError`` (ontology
    too big) or :class:`InvalidTraining` (ratios or coverage not met); nothing is written then.
    """
    auto = max_length == AUTO
    if not auto and not isinstance(max_length, int):
        raise ExportError("--max-length", "", f"{max_length!r} is neither 'auto' nor a number of tokens")
    limit = AUTO_MAX_LENGTHS[-1] if auto else int(max_length)
    export = load_export(export_dir)
    langs = build_languages(language, export, language_dir)
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
    per_language: dict[str, tuple[SplitResult, SplitResult]] = {}
    for lang, train_n, held_share in zip(langs, _shares(size, len(langs)), _shares(held_n, len(langs)), strict=True):
        part = draw_split(export, "train", train_n, seed, templates_for("train", lang), train_pair_ok, counters[id(export)], limit, tick, book,
                          lang=lang)
        held_part = draw_split(other, "heldout", held_share, seed, templates_for("heldout", lang), heldout_pair_ok, counters[id(other)], limit,
                               tick, book, lang=lang)
        part.rows = supplied(part.rows, train_n, "train")
        held_part.rows = supplied(held_part.rows, held_share, "heldout", HELDOUT_REQUIRED)
        per_language[lang.code] = (part, held_part)
    train = _merged([t for t, _ in per_language.values()])
    held = _merged([h for _, h in per_language.values()])
    requested = {"train": size, "heldout": held_n}
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
        "language": ",".join(lang.code for lang in langs),
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
    if len(langs) > 1:
        stats["languages"] = {code: {"train": split_stats(t, len(t.rows)), "heldout": split_stats(h, len(h.rows))}
                              for code, (t, h) in per_language.items()}
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
