"""``dataset_card.md``: a Hugging Face dataset card with YAML header."""

from __future__ import annotations

from typing import Any

from .build import COVERAGE
from .families import PHRASINGS
from .plots import LABELS
from .templates import ATTRIBUTION


def _size_category(n: int) -> str:
    return "n<1K" if n < 1000 else "1K<n<10K" if n < 10_000 else "10K<n<100K" if n < 100_000 else "100K<n<1M"


def _budget_note(stats: dict[str, Any]) -> str:
    """How the token budget was chosen."""
    choice = stats["max_length_choice"]
    if choice["mode"] != "auto":
        return f"set with --max-length; the longest example is {choice['longest_example']} tokens"
    if stats["max_length"] == choice["plan"]:
        return f"chosen automatically: the longest example, {choice['longest_example']} tokens, fits the plan's {choice['plan']}"
    return (f"chosen automatically: the longest example is {choice['longest_example']} tokens, more than the plan's {choice['plan']}, "
            "so the smallest larger budget that holds it")


def render_card(stats: dict[str, Any]) -> str:
    """Markdown card text from ``stats.json`` figures."""
    train, held = stats["train"], stats["heldout"]
    lines = [
        "---",
        "license: cc-by-4.0",
        "language:",
        *[f"- {code}" for code in stats["language"].split(",")],
        "task_categories:",
        "- text-generation",
        "tags:",
        "- home-assistant",
        "- tool-calling",
        "- qwen3",
        "- statewise",
        f"size_categories:\n- {_size_category(train['examples'] + held['examples'])}",
        f"pretty_name: Statewise v0 dataset for {stats['export']['name']}",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        "    path: train.jsonl",
        "  - split: heldout",
        "    path: heldout.jsonl",
        "---",
        "",
        f"# Statewise v0 dataset: {stats['export']['name']}",
        "",
        "State-conditioned tool calling for Home Assistant with Qwen3 (LoRA SFT), built by `python -m dataset_export build` "
        "from one home's export. Each row is `[system, user, assistant]` chat messages: the system message holds `ONTOLOGY:` and, only "
        "when state was fetched, `STATE:`; the assistant answers with JSON tool-call lines or plain text.",
        "",
        "## Source",
        "",
        f"- Export: `{stats['export']['name']}` ({stats['export']['entities']} entities, {stats['export']['snapshots']} snapshots), "
        f"content hash `{stats['export']['content_hash']}`",
        f"- Held-out source: {stats['heldout_source']}",
        f"- Seed {stats['seed']}, token budget {stats['max_length']} (Qwen3 vocabulary, chat template with thinking off; "
        f"{_budget_note(stats)}); the ontology alone is {stats['ontology_tokens']} tokens. Train and serve with this sequence length.",
        "",
        "Text derived from CC BY 4.0 sentence templates makes the whole set CC BY 4.0 (see Attribution). "
        "The rows describe one home's devices; they contain no personal data beyond device, area and floor names.",
        "",
        "## Composition",
        "",
        "| class | plan band | train | heldout |",
        "| --- | --- | --- | --- |",
    ]
    for cls, label in LABELS.items():
        low, high = train["classes"][cls]["band"]
        tr, he = train["classes"][cls], held["classes"][cls]
        lines.append(f"| {label} | {low:.0%}-{high:.0%} | {tr['count']} ({tr['share']:.1%}) | {he['count']} ({he['share']:.1%}) |")
    for code, split in (stats.get("languages") or {}).items():
        tr, he = split["train"], split["heldout"]
        shares = lambda s: " / ".join(f"{s['classes'][c]['share']:.1%}" for c in LABELS)  # noqa: E731
        lines.append(f"| {code}: {' / '.join(LABELS.values())} | | {tr['examples']} ({shares(tr)}) | {he['examples']} ({shares(he)}) |")
    lines += ["", f"Output classes (train): {', '.join(f'{k} {v}' for k, v in train['output_class'].items())}. "
              "A state fetch counts as one call.", "", "## Coverage (required by the plan)", "", "| requirement | train | heldout |", "| --- | --- | --- |"]
    for tag, what in COVERAGE.items():
        lines.append(f"| {what} (`{tag}`) | {train['coverage'][tag]} | {held['coverage'][tag]} |")
    lines += ["", "### How each rule was met", "",
              "Rows drawn in the home itself and in an ontology variant of it (the builder supplies a rule the home cannot: an "
              "`absent` variant for present:false when nothing was unavailable at export time, other names for alias resolution "
              "when nobody set aliases).", "", "| requirement | train: home | train: variant | heldout: home | heldout: variant |",
              "| --- | --- | --- | --- | --- |"]
    for tag in COVERAGE:
        a, b = train["coverage_sources"][tag], held["coverage_sources"][tag]
        lines.append(f"| `{tag}` | {a['home']} | {a['variant']} | {b['home']} | {b['variant']} |")
    v_tr, v_he = train["ontology_variants"], held["ontology_variants"]
    changes = sorted(set(v_tr["by_change"]) | set(v_he["by_change"]))
    lines += ["", "## Ontology variants", "",
              f"{v_tr['rows']} train rows ({v_tr['share']:.1%}) and {v_he['rows']} held-out rows ({v_he['share']:.1%}) use the home's "
              "ontology with one small change, labelled against that changed ontology (the row's `variant` names it), so the model reads "
              "the ONTOLOGY instead of memorising the home. The held-out set draws its own variants.", "",
              "| change | train | heldout |", "| --- | --- | --- |"]
    lines += [f"| {c} | {v_tr['by_change'].get(c, 0)} | {v_he['by_change'].get(c, 0)} |" for c in changes]
    i_tr, i_he = train["injected"], held["injected"]
    lines += ["", "## Text written by devices and third parties", "",
              f"{i_tr['rows']} train rows ({i_tr['share']:.1%}) and {i_he['rows']} held-out rows ({i_he['share']:.1%}) carry instruction-like "
              "text where a device or whatever it plays writes it (a media player's input names in the ONTOLOGY, its source in STATE), "
              "labelled exactly as without it, so the model learns that such text asks for nothing (docs/SECURITY.md). "
              f"Train: {i_tr['by_field']['input']} in an input name, {i_tr['by_field']['source']} in STATE's source; held-out: "
              f"{i_he['by_field']['input']} and {i_he['by_field']['source']}. STATE carries no media titles."]
    g_tr, g_he = train["state_sensitivity_groups"], held["state_sensitivity_groups"]
    lines += [
        "",
        f"State-sensitivity groups: train {g_tr['groups']} ({g_tr['rows']} rows), heldout {g_he['groups']} ({g_he['rows']} rows); "
        "rows of a group share the command and differ in STATE and answer.",
        "",
        "## Token lengths",
        "",
        "| split | p50 | p90 | p95 | p99 | max | excluded over budget |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in (("train", train), ("heldout", held)):
        t = s["tokens"]
        lines.append(f"| {name} | {t['p50']} | {t['p90']} | {t['p95']} | {t['p99']} | {t['max']} | {s['excluded_over_length']['count']} |")
    lines += [
        "",
        "Over-long candidates are excluded (the column counts every candidate dropped while drawing), never truncated.",
        "",
        *([f"Size: {stats['supplied']}.", ""] if stats.get("supplied") else []),
        "## Not understood",
        "",
        f"Readers: {', '.join(stats.get('readers', []))}. "
        f"Candidate commands no reader could place, dropped instead of answered: train {train['not_understood_dropped']}, "
        f"heldout {held['not_understood_dropped']}. The teacher answers only what it read; \"no such device\" is said only of a mention "
        "that matches nothing in the home by name, alias, fuzzy name, device type or class, phrased with the mention alone.",
        "",
        "Phrasing families of their own (dataset_export/phrasings.py), rows train/heldout: "
        + ", ".join(f"{f} {train['tags'].get(f, 0)}/{held['tags'].get(f, 0)}" for f in PHRASINGS) + ".",
        "",
        "## Held-out design",
        "",
        "Held-out rows use sentence templates that never occur in training (per intent kind, every fifth template in hash order) "
        "and (entity, state) pairs that never occur in training (a fixed hash partition of entity id plus state entry), with their own "
        "state-sensitivity groups.",
        "",
        "## Fields",
        "",
        "`id`, `messages`, `output_class` (fetch/action/text), `num_calls`, `tags`, `group`, `snapshot`, `state` (whole-home state, canonical JSON), "
        "`followup` (for fetch rows: the answer once STATE is given), `intent` (canonical JSON of the intent), `template`, `domain`. "
        "See `docs/CONTRACTS.md`.",
        "",
        "## Templates",
        "",
        f"Train rows from hassil templates: {train['templates']['rows_hassil']}, from the project's own templates: {train['templates']['rows_own']} "
        f"({train['templates']['distinct']} distinct templates).",
        "",
        "## Attribution",
        "",
        ATTRIBUTION,
        "",
        "## Plots",
        "",
        "![class ratios](class_ratios.png)",
        "![token lengths](token_lengths.png)",
        "![coverage](coverage.png)",
        "",
    ]
    return "\n".join(lines)
