"""Evaluation report: JSON, Markdown and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .scoring import CLASSES


def markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown page."""
    s = report["summary"]
    lines = [
        f"# Statewise evaluation: {'PASSED' if report['passed'] else 'FAILED'}",
        "",
        *([f"> **WARNING: {report['note']}**", ""] if report.get("note") else []),
        f"- model: `{report['model']}`",
        f"- dataset: `{report['dataset']}` ({s['rows']} rows)",
        *([_generation_line(report["generation"])] if report.get("generation") else []),
        "",
        "## Plan criteria",
        "",
        "| criterion | value | threshold | result |",
        "| --- | --- | --- | --- |",
    ]
    for name, c in report["criteria"].items():
        lines.append(f"| {name} | {c['value']} | {c['op']} {c['bound']} | {'pass' if c['passed'] else 'FAIL'} |")
    mt = s["multi_turn"]
    lines += [
        "",
        f"Exact-plan accuracy: {s['exact_plan_accuracy']} (text answers count by class; verbatim: {s['text_exact_rate']}). "
        f"State-sensitivity groups: {s['state_sensitivity_groups']}.",
        f"Multi-turn: {mt['fetch_rows']} fetch rows, {mt['second_turns']} second turns "
        f"(exact {mt['second_turn_exact']}, decision {mt.get('second_turn_decision')}), "
        f"final state {mt['final_state_accuracy']} over {mt['final_state_rows']} rows.",
        f"Drifted home (ontology variants): exact-plan accuracy {s['ontology_variants']['variant_exact']} on "
        f"{sum(n for k, n in s['ontology_variants']['rows'].items() if k != '(home)')} rows, against {s['ontology_variants']['home_exact']} "
        "in the home itself.",
        "",
        "## Decision confusion (rows: expected, columns: predicted)",
        "",
        "| expected | " + " | ".join(CLASSES) + " |",
        "| --- |" + " --- |" * len(CLASSES),
    ]
    for exp, row in s["confusion"].items():
        lines.append(f"| {exp} | " + " | ".join(str(row[c]) for c in CLASSES) + " |")
    lines += ["", "## Per-domain exact-plan accuracy", "", "| domain | accuracy |", "| --- | --- |"]
    lines += [f"| {d} | {a} |" for d, a in s["per_domain_accuracy"].items()]
    if s.get("per_language"):
        lines += ["", "## Per language of the commands", "", "| language | rows | decision accuracy | exact plan | schema compliance |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {code} | {v['rows']} | {v['decision_accuracy']} | {v['exact_plan_accuracy']} | {v['schema_compliance_rate']} |"
                  for code, v in s["per_language"].items()]
    if s["errors"]:
        lines += ["", "## Protocol errors seen", "", *(f"- `{k}`: {v}" for k, v in s["errors"].items())]
    return "\n".join(lines) + "\n"


def _generation_line(g: dict[str, Any]) -> str:
    """What generation took; its wall time is in ``generation_timing.json`` (it varies run to run, this report does not)."""
    return (f"- generation: {g['new_tokens']} new tokens, {g['calls']} generate() calls of up to {g['batch_size']} prompts "
            f"({g['batch_size_why']}); seconds and tokens/s in `generation_timing.json`")


def _mark(fig: Any, report: dict[str, Any]) -> None:
    """Stamp a report's warning (e.g. the tiny fallback's) across a figure."""
    if report.get("note"):
        fig.text(0.5, 0.5, "MEANINGLESS\n(tiny fallback model)", ha="center", va="center", fontsize=26, color="red", alpha=0.35, rotation=20)


def _save(plt: Any, fig: Any, report: dict[str, Any], path: Path) -> Path:
    """Mark (if needed), lay out, write and close one figure."""
    _mark(fig, report)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plots(report: dict[str, Any], out: Path) -> list[Path]:
    """``criteria.png``, ``confusion.png`` and ``domains.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, paths = report["summary"], []
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(report["criteria"])
    values = [report["criteria"][n]["value"] or 0.0 for n in names]
    colors = ["tab:green" if report["criteria"][n]["passed"] else "tab:red" for n in names]
    ax.barh(names, values, color=colors)
    for i, n in enumerate(names):
        ax.plot([report["criteria"][n]["bound"]] * 2, [i - 0.4, i + 0.4], "k--")
    ax.set_xlim(0, 1.05)
    ax.set_title("Plan criteria (dashed: threshold)")
    paths.append(_save(plt, fig, report, out / "criteria.png"))
    fig, ax = plt.subplots(figsize=(5, 4))
    grid = [[s["confusion"][e][p] for p in CLASSES] for e in s["confusion"]]
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(CLASSES)), CLASSES)
    ax.set_yticks(range(len(grid)), list(s["confusion"]))
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center")
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    paths.append(_save(plt, fig, report, out / "confusion.png"))
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(list(s["per_domain_accuracy"]), list(s["per_domain_accuracy"].values()))
    ax.set_ylim(0, 1.05)
    ax.set_title("Exact-plan accuracy by domain")
    ax.tick_params(axis="x", rotation=30)
    paths.append(_save(plt, fig, report, out / "domains.png"))
    return paths


def write_report(report: dict[str, Any], out: Path) -> None:
    """Write ``report.json``, ``report.md`` and the plots into ``out``."""
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    plots(report, out)
