"""Figures about a drawn split: composition, coverage, tokens, templates."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .build import BANDS, COVERAGE, SplitResult, class_of

PERCENTILES = (50, 90, 95, 99)


def percentile(values: list[int], p: float) -> int:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def coverage_sources(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """How each coverage rule was met: rows in the home itself vs in an ontology variant, and how aliases were said."""
    out: dict[str, dict[str, int]] = {}
    for tag in COVERAGE:
        tagged = [r for r in rows if tag in r["tags"]]
        out[tag] = {"home": sum(1 for r in tagged if not r.get("variant")), "variant": sum(1 for r in tagged if r.get("variant"))}
    return out


def split_stats(result: SplitResult, size: int) -> dict[str, Any]:
    """JSON-ready figures for one split."""
    rows = result.rows
    n = len(rows) or 1
    classes = Counter(class_of(r) for r in rows)
    tokens = [r["_tokens"] for r in rows]
    tags = Counter(t for r in rows for t in r["tags"])
    groups: dict[str, set[str]] = {}
    for r in rows:
        if r["group"]:
            groups.setdefault(r["group"], set()).add(r["messages"][-1]["content"])
    kinds = Counter(json.loads(r["intent"])["kind"] for r in rows)
    return {
        "examples": len(rows),
        "requested": size,
        "classes": {c: {"count": classes[c], "share": round(classes[c] / n, 4), "band": list(BANDS[c])} for c in BANDS},
        "output_class": dict(sorted(Counter(r["output_class"] for r in rows).items())),
        "num_calls": {str(k): v for k, v in sorted(Counter(r["num_calls"] for r in rows).items())},
        "coverage": {tag: tags[tag] for tag in COVERAGE},
        "tags": dict(sorted(tags.items())),
        "state_sensitivity_groups": {"groups": len(groups), "with_different_answers": sum(len(a) > 1 for a in groups.values()),
                                     "rows": sum(1 for r in rows if r["group"])},
        "tokens": {**{f"p{p}": percentile(tokens, p) for p in PERCENTILES}, "max": max(tokens, default=0),
                   "mean": round(sum(tokens) / n, 1)},
        "excluded_over_length": {"count": len(result.over_length), "max_tokens": max(result.over_length, default=0)},
        "duplicates_skipped": result.duplicates,
        "not_understood_dropped": result.not_understood,
        "templates": {"distinct": len({r["template"] for r in rows}),
                      "rows_hassil": sum(r["template"].startswith("hass/") for r in rows),
                      "rows_own": sum(r["template"].startswith("own/") for r in rows)},
        "intent_kinds": dict(sorted(kinds.items())),
        "ontology_variants": {"rows": sum(1 for r in rows if r.get("variant")), "share": round(sum(1 for r in rows if r.get("variant")) / n, 4),
                              "by_change": dict(sorted(Counter(r["variant"].split(":", 1)[0] for r in rows if r.get("variant")).items()))},
        "coverage_sources": coverage_sources(rows),
        "injected": {"rows": tags["injected"], "share": round(tags["injected"] / n, 4),
                     "by_field": {f: tags[f"injected_{f}"] for f in ("input", "source")}},
        "domains": dict(sorted(Counter(r["domain"] or "none" for r in rows).items())),
    }
