"""``build``: a valid v0 training set and held-out set from an export.

Units of rows are drawn family by family, always from the output class
furthest below its target share, so the plan's ratios hold by construction;
they and the coverage rules are then checked, and the build fails with
``training is invalid: ...`` when a home cannot meet them. Held-out rows use
other sentence templates and other (entity, state) pairs than training.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statewise_protocol import Export, ExportError, check_output, dumps, load_tools, system_text

from .budget import TokenCounter
from .families import FIRST, WEIGHTS
from .generate import Generator
from .labelbook import LabelBook
from .language import Language
from .templates import Template, all_templates

TARGET = {"text": 0.60, "one": 0.33, "multi": 0.07}
BANDS = {"text": (0.50, 0.70), "one": (0.20, 0.40), "multi": (0.0, 0.10)}
FORCED_TRIES = 300  # a big home with no aliases may need many draws before a device type or an area and type names one device
COVERAGE = {
    "alias": "alias resolution (the same entity by other names: an alias, an area alias, a device type, an area and type, the only such device)",
    "state_sensitive": "the same command under different states giving different plans",
    "not_present": "present:false entities answered with a refusal or clarification",
    "already_satisfied": "already-satisfied state answered with a minimal action or explicit no-op",
    "missing_state": "missing state answered with a state fetch",
}
HELDOUT_PAIR_SHARE = 0.2
HELDOUT_GROUP_BOOST = 2.5  # state sensitivity is scored on held-out groups: draw more of them
HELDOUT_TEMPLATE_EVERY = 5
ROW_KEYS = ("id", "messages", "output_class", "num_calls", "tags", "group", "snapshot", "state", "followup", "intent", "template", "domain",
            "variant")


class InvalidTraining(ValueError):
    """The plan's ratio or coverage rules cannot be met; ``drawn``: the class shares that were drawn (for the message)."""

    def __init__(self, message: str, drawn: dict[str, dict[str, float]] | None = None) -> None:
        """One line naming each broken rule."""
        super().__init__(message)
        self.drawn = drawn or {}


class InconsistentTeacher(AssertionError):
    """Two rows give the same (ontology, STATE, command) different answers: the teacher is not a function."""


def class_of(row: dict[str, Any]) -> str:
    """``text``, ``one`` (exactly one call, a fetch counts) or ``multi``."""
    return "text" if row["num_calls"] == 0 else "one" if row["num_calls"] == 1 else "multi"


def _bucket(text: str) -> float:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) / 2**32


def pair_key(eid: str, entry: dict[str, Any]) -> str:
    """The (entity, state) pair as one string."""
    return f"{eid}={dumps(entry)}"


def is_heldout_pair(eid: str, entry: dict[str, Any]) -> bool:
    """Held-out side of the (entity, state) partition."""
    return _bucket(pair_key(eid, entry)) < HELDOUT_PAIR_SHARE


def split_templates(templates: tuple[Template, ...]) -> tuple[list[Template], list[Template]]:
    """(train, heldout): per kind, every 5th template in hash order is held out (kinds with < 3 stay in train)."""
    by_kind: dict[str, list[Template]] = {}
    for t in templates:
        by_kind.setdefault(t.kind, []).append(t)
    train, held = [], []
    for group in by_kind.values():
        ordered = sorted(group, key=lambda t: hashlib.sha256(t.id.encode()).hexdigest())
        for i, t in enumerate(ordered):
            (held if len(ordered) >= 3 and i % HELDOUT_TEMPLATE_EVERY == 2 else train).append(t)
    return sorted(train, key=lambda t: t.id), sorted(held, key=lambda t: t.id)


def row_pairs(row: dict[str, Any]) -> set[str]:
    """(entity, state) pairs the model sees in this row (STATE and the fetch follow-up STATE)."""
    return {pair_key(eid, e) for eid, e in {**row["_shown"], **row["_followup_state"]}.items()}


@dataclass
class SplitResult:
    """Rows of one split and what happened while drawing them."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    over_length: list[int] = field(default_factory=list)
    duplicates: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    not_understood: int = 0  # candidate sentences no reader could place: dropped, never answered "no such device"


def _verify(row: dict[str, Any]) -> None:
    """The row's answers are valid v0 output of its class, against the row's own ontology (a variant's, if it is one)."""
    answer = row["messages"][-1]["content"]
    ontology = row["_ontology"]
    verdict = check_output(answer, ontology, row["_shown"] if row["_shown"] else None)
    expected = row["output_class"]
    if not verdict.ok or verdict.kind != expected:
        raise AssertionError(f"teacher produced an invalid target {answer!r}: {verdict.as_dict()}")
    if row["followup"] and not check_output(row["followup"], ontology, {**row["_shown"], **row["_followup_state"]}).ok:
        raise AssertionError(f"invalid follow-up {row['followup']!r}")


def draw_split(export: Export, split: str, size: int, seed: int, templates: list[Template], pair_ok: Callable[[str, dict[str, Any]], bool],
               counter: TokenCounter, max_length: int, tick: Callable[[int], None] = lambda n: None, book: LabelBook | None = None, *,
               lang: Language) -> SplitResult:
    """Draw ``size`` rows in ``lang``, balancing classes, dropping over-long and duplicate units (``book``: shared by the build's splits)."""
    gen = Generator(export, split, seed, templates, pair_ok, lang, book)
    rng = gen.rng
    out = SplitResult()
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    dup_streak = 0
    exhausted: set[str] = set()
    ok_runs: Counter[str] = Counter()
    streak: Counter[str] = Counter()  # failures in a row, per family
    forced = list(FIRST)
    attempts = 0
    while len(out.rows) < size and attempts < size * 30 + 2000:
        attempts += 1
        if forced:
            family = forced[0]
            if ok_runs[family] or out.failed[family] >= FORCED_TRIES:
                forced.pop(0)
                continue
        else:
            total = len(out.rows) + 1
            live = [c for c in TARGET if any(f not in exhausted for f, _ in WEIGHTS[c])]
            if not live:
                break
            cls = max(live, key=lambda c: TARGET[c] * total - counts[c])
            options = [(f, w * (HELDOUT_GROUP_BOOST if f == "group" and split == "heldout" else 1)) for f, w in WEIGHTS[cls] if f not in exhausted]
            family = rng.choices([f for f, _ in options], weights=[w for _, w in options])[0]
        unit = gen.draw(family)
        if unit is None:
            out.failed[family] += 1
            streak[family] += 1
            if streak[family] >= EXHAUSTED_AFTER:
                exhausted.add(family)  # this home cannot supply it (any more): a one-lock home has no multi-step request
            continue
        streak[family] = 0
        keys = [hashlib.sha256(dumps(r["messages"]).encode("utf-8")).hexdigest() for r in unit]
        if any(k in seen for k in keys) and dup_streak < 50:
            out.duplicates += 1
            dup_streak += 1
            continue
        dup_streak = 0
        lengths = [counter.count(r["messages"]) for r in unit]
        if max(lengths) > max_length:
            out.over_length += [n for n in lengths if n > max_length]
            continue
        unit = unit[: size - len(out.rows)]
        added = Counter(class_of(r) for r in unit)
        if size >= MIN_ROWS_FOR_RATIOS and any(counts[c] + n > math.floor(BANDS[c][1] * size) for c, n in added.items()):
            out.failed[family] += 1  # a unit that would push a class past the plan's band (small splits: one group is several %)
            streak[family] += 1
            if streak[family] >= EXHAUSTED_AFTER:
                exhausted.add(family)
            continue
        if len(unit) == 1 and unit[0]["group"]:
            unit[0]["group"] = ""
            unit[0]["tags"] = [t for t in unit[0]["tags"] if t != "state_sensitive"]
        for r, k, n in zip(unit, keys, lengths, strict=False):
            _verify(r)
            r["_tokens"] = n
            seen.add(k)
            counts[class_of(r)] += 1
            out.rows.append(r)
        ok_runs[family] += 1
        tick(len(unit))
    out.not_understood = gen.unread
    return out


EXHAUSTED_AFTER = 300  # a family that fails this many times in a row is no longer drawn
HELDOUT_REQUIRED = ("state_sensitive",)


def supplied(rows: list[dict[str, Any]], size: int, label: str, required: tuple[str, ...] = tuple(COVERAGE)) -> list[dict[str, Any]]:
    """The rows a home that cannot supply ``size`` can: the longest prefix that meets the plan (ratios and coverage).

    Rows are drawn class by class towards the plan's shares, so a prefix keeps the ratios; a
    prefix never ends inside a state-sensitivity group. ``rows`` itself when it has ``size``
    rows or no prefix is valid (the plan's check then says why).
    """
    if len(rows) >= size:
        return rows
    for n in range(len(rows), 0, -1):
        if n < len(rows) and rows[n - 1]["group"] and rows[n]["group"] == rows[n - 1]["group"]:
            continue
        if not check_plan(rows[:n], n, label, required):
            return rows[:n]
    return rows
MIN_ROWS_FOR_RATIOS = 20


def check_plan(rows: list[dict[str, Any]], size: int, label: str, required: tuple[str, ...] = tuple(COVERAGE)) -> list[str]:
    """Problems with ratios (splits of 20+ rows) and the ``required`` coverage (empty when the split is valid)."""
    problems: list[str] = []
    if len(rows) < size:
        problems.append(f"{label}: only {len(rows)} of {size} examples could be drawn from this home")
    if not rows:
        return [*problems, f"{label}: no examples (an empty set meets no coverage rule)"]
    counts = Counter(class_of(r) for r in rows)
    names = {"text": "no tool call", "one": "exactly one tool call", "multi": "multi-step"}
    for cls, (low, high) in BANDS.items():
        share = counts[cls] / len(rows)
        if len(rows) >= MIN_ROWS_FOR_RATIOS and not low <= share <= high:
            problems.append(f"{label}: {names[cls]} is {share:.1%}, outside the plan's {low:.0%}-{high:.0%}")
    tags = Counter(t for r in rows for t in r["tags"])
    for tag in required:
        what = COVERAGE[tag]
        if not tags[tag]:
            problems.append(f"{label}: no example of {what} ({tag})")
    groups: dict[str, set[str]] = {}
    for r in rows:
        if r["group"]:
            groups.setdefault(r["group"], set()).add(r["messages"][-1]["content"])
    if tags["state_sensitive"] and not any(len(a) > 1 for a in groups.values()):
        problems.append(f"{label}: no state-sensitivity group has two different answers")
    return problems


def public_row(row: dict[str, Any], rid: str) -> dict[str, Any]:
    """The contract row (``docs/CONTRACTS.md`` order), private keys dropped."""
    full = {**row, "id": rid}
    return {k: full[k] for k in ROW_KEYS}


def assign_ids(rows: list[dict[str, Any]], split: str, content_hash: str, seed: int) -> list[dict[str, Any]]:
    """Stable ids: same export + seed -> same ids."""
    out = []
    for i, r in enumerate(rows):
        digest = hashlib.sha256(f"{content_hash}|{seed}|{split}|{i}".encode()).hexdigest()[:12]
        out.append(public_row(r, f"{split}-{i:06d}-{digest}"))
    return out


def check_controllable(export: Export) -> None:
    """Raise :class:`InvalidTraining` when no exposed entity can be controlled by a v0 tool (no dataset could fix that)."""
    domains = {d for spec in load_tools().values() for d in spec.domains}
    present = [e for e in export.ontology.entities.values() if e["domain"] in domains and e.get("present", True)]
    if not present:
        found = sorted({e["domain"] for e in export.ontology.entities.values()}) or ["none"]
        raise InvalidTraining(
            f"training is invalid: nothing in {export.path} can be controlled by a v0 tool (domains exposed: {', '.join(found)}). "
            f"In Home Assistant, expose at least one device of {', '.join(sorted(domains))} to Assist "
            "(Settings > Voice assistants > Expose) and export again."
        )


def check_teacher(rows: list[dict[str, Any]]) -> None:
    """Raise :class:`InconsistentTeacher` naming the sentence and both answers when one prompt has two answers."""
    seen: dict[tuple[str, str], str] = {}
    for r in rows:
        system, command, answer = (m["content"] for m in r["messages"])
        pairs = [((system, command), answer)]
        if r["followup"]:
            pairs.append(((system_text(r["_ontology"], {**r["_shown"], **r["_followup_state"]}), command), r["followup"]))
        for key, value in pairs:
            known = seen.setdefault(key, value)
            if known != value:
                raise InconsistentTeacher(f"the teacher gave {command!r} two answers in the same home and state: {known!r} and {value!r}")


def check_disjoint(train: list[dict[str, Any]], held: list[dict[str, Any]]) -> None:
    """Raise when a held-out template or (entity, state) pair appears in training."""
    t_templates = {r["template"] for r in train}
    t_pairs = set().union(*(row_pairs(r) for r in train)) if train else set()
    for r in held:
        if r["template"] in t_templates:
            raise AssertionError(f"held-out template {r['template']} also in train")
        shared = row_pairs(r) & t_pairs
        if shared:
            raise AssertionError(f"held-out (entity, state) pair {sorted(shared)[0]} also in train")


OUTPUT_FILES = ("class_ratios.png", "coverage.png", "dataset_card.md", "heldout.jsonl", "stats.json", "token_lengths.png", "train.jsonl")


def check_replaceable(out_dir: Path, names: tuple[str, ...] | list[str] = OUTPUT_FILES) -> None:
    """Refuse an ``out_dir`` that is not new, empty or a previous build: replacing it would delete other files."""
    out_dir = Path(out_dir)
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ExportError("--out", "", f"{out_dir} exists and is not a folder")
    others = sorted(p.name for p in out_dir.iterdir() if p.name not in names)
    if others:
        raise ExportError("--out", "", f"{out_dir} holds files a build did not write ({', '.join(others[:5])}); "
                                       "the output folder is replaced as a whole, so choose a new or empty one")


def write_atomic(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a temp folder beside ``out_dir``, then swap it in (only over a previous build, see :func:`check_replaceable`)."""
    check_replaceable(out_dir, list(files))
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it 0700; the finished folder gets the usual permissions
    old = out_dir.parent / f".{out_dir.name}.old-{tmp.name.rsplit('-', 1)[-1]}"
    try:
        for name, data in sorted(files.items()):
            (tmp / name).write_bytes(data)
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    """Canonical JSON lines."""
    return "".join(dumps(r, sort_keys=False) + "\n" for r in rows).encode("utf-8")


def templates_for(split: str, lang: Language) -> list[Template]:
    """The split's side of ``lang``'s template partition."""
    train, held = split_templates(all_templates(lang))
    return train if split == "train" else held


def heldout_pair_ok(eid: str, entry: dict[str, Any]) -> bool:
    """Pair filter for held-out rows."""
    return is_heldout_pair(eid, entry)


def train_pair_ok(eid: str, entry: dict[str, Any]) -> bool:
    """Pair filter for training rows."""
    return not is_heldout_pair(eid, entry)
