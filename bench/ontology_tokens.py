"""Benchmark: ONTOLOGY prompt tokens per entity with the real Qwen3 vocabulary (offline).

For each example home, in one run: the prompt's ONTOLOGY JSON (grouped, the
current shape), the shape it replaced (one object per entity repeating area,
floor and capabilities: ``previous_prompt``), Home Assistant's Assist static
context for the same entities (``bench/assist_context.py``, checked against
Home Assistant's own code by ``tests/ha/test_assist_context.py``), and the whole
ontology document pretty-printed (the baseline of the ratios). Also: the
largest demo-mix home (the demo home's entities repeated over more rooms) whose
ontology fits 2048 / 4096 / 8192 tokens, and prompt tokens per command for the
first and the post-fetch round on the demo home.

Run ``python bench/ontology_tokens.py [--json]``; import :func:`measure`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from assist_context import static_context  # noqa: E402
from statewise_protocol import ONTOLOGY_PREFIX, Ontology, dumps, load_export, system_text  # noqa: E402

from dataset_export.budget import HEADROOM  # noqa: E402
from dataset_export.tokens import count_tokens, qwen3_tokenizer, render_chat  # noqa: E402

EXAMPLES = ROOT / "examples"
HOMES = ("demo_home", "small_flat", "large_house", "ha_apartment", "ha_family_home", "ha_big_house")
BASELINE = "pretty_json"
GOAL = 1.3  # issue 11: at most 1.3x Home Assistant's static context per entity
BUDGETS = (2048, 4096, 8192)


def previous_prompt_json(ontology: Ontology) -> str:
    """The ONTOLOGY JSON before the grouped shape: one object per entity (kept here only to measure against)."""
    out = []
    for ent in ontology.entities.values():
        item: dict[str, Any] = {"id": ent["id"], "name": ent["name"]}
        item.update((k, ent[k]) for k in ("aliases", "area", "area_aliases", "floor", "device_class") if ent.get(k))
        caps = {k: v for k, v in ent["capabilities"].items() if v not in (False, None, [], {})}
        if caps:
            item["capabilities"] = caps
        if not ent["present"]:
            item["present"] = False
        out.append(item)
    return dumps(out, sort_keys=False)


def formats(ontology: Ontology) -> dict[str, tuple[str, int]]:
    """Each format's text and the number of entities it describes."""
    n = len(ontology.entities)
    return {
        "ontology_prompt": (ONTOLOGY_PREFIX + ontology.prompt_json, n),
        "previous_prompt": (ONTOLOGY_PREFIX + previous_prompt_json(ontology), n),
        "ha_assist_static": static_context(ontology.entities.values()),
        BASELINE: (json.dumps(ontology.document(), indent=2, ensure_ascii=False), n),
    }


def measure_home(home: str | Path) -> dict[str, Any]:
    """Tokens and tokens per entity per format for one export, with ratios to HA's context and to the baseline."""
    ontology = load_export(EXAMPLES / home if isinstance(home, str) else home).ontology
    counts = {name: (count_tokens(text), n) for name, (text, n) in formats(ontology).items()}
    per = {name: tokens / n for name, (tokens, n) in counts.items()}
    rows = {
        name: {"tokens": tokens, "entities": n, "tokens_per_entity": round(per[name], 2), "vs_ha": round(per[name] / per["ha_assist_static"], 3),
               "vs_baseline": round(tokens / counts[BASELINE][0], 3)}
        for name, (tokens, n) in counts.items()
    }  # fmt: skip
    return {"home": str(home), "entities": len(ontology.entities), "formats": rows}


def demo_mix(size: int) -> Ontology:
    """``size`` entities: the demo home's, copied into more rooms ("Bedroom 2", ...) with numbered names and ids."""
    base = list(load_export(EXAMPLES / "demo_home").ontology.entities.values())
    out = []
    for i in range(size):
        ent, copy = dict(base[i % len(base)]), i // len(base)
        if copy:
            domain, obj = ent["id"].split(".", 1)
            ent |= {"id": f"{domain}.{obj}_{copy + 1}", "name": f"{ent['name']} {copy + 1}", "aliases": [f"{a} {copy + 1}" for a in ent["aliases"]],
                    "area": f"{ent['area']} {copy + 1}" if ent["area"] else None}  # fmt: skip
        out.append(ent)
    return Ontology.from_entities(out)


def capacity(render: Any, budget: int) -> int:
    """The largest demo-mix home whose ONTOLOGY (plus the builder's headroom for a command and answer) fits ``budget``."""
    low, high = 1, 8
    while count_tokens(render(demo_mix(high))) + HEADROOM <= budget:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if count_tokens(render(demo_mix(mid))) + HEADROOM <= budget else (low, mid)
    return low


def prompt_rounds() -> dict[str, dict[str, int]]:
    """Prompt tokens (chat template, generation prompt) of demo-home rows: first round (no STATE) and post-fetch round."""
    from dataset_export.pipeline import build_dataset

    with tempfile.TemporaryDirectory() as tmp:
        build_dataset(EXAMPLES / "demo_home", Path(tmp) / "out", seed=0, size=300, heldout_size=40)
        rows = [json.loads(line) for line in (Path(tmp) / "out" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    rounds: dict[str, list[int]] = {"first": [], "post_fetch": []}
    for row in rows:
        prompt = row["messages"][:-1]
        rounds["post_fetch" if "\nSTATE: " in prompt[0]["content"] else "first"].append(len(qwen3_tokenizer().encode(render_chat(prompt))))
    return {k: {"rows": len(v), "min": min(v), "p50": sorted(v)[len(v) // 2], "max": max(v)} for k, v in rounds.items()}


def measure(homes: tuple[str, ...] = HOMES) -> dict[str, Any]:
    """Every figure of this benchmark."""
    demo = load_export(EXAMPLES / "demo_home").ontology
    live = next(s for s in load_export(EXAMPLES / "demo_home").snapshots if s.source == "live").states
    return {
        "vocab_size": len(qwen3_tokenizer()),
        "goal_vs_ha": GOAL,
        "homes": [measure_home(h) for h in homes],
        "demo_system_with_full_state": count_tokens(system_text(demo, live)),
        "capacity": {str(b): {"ontology_prompt": capacity(lambda o: ONTOLOGY_PREFIX + o.prompt_json, b),
                              "previous_prompt": capacity(lambda o: ONTOLOGY_PREFIX + previous_prompt_json(o), b)} for b in BUDGETS},
        "prompt_rounds": prompt_rounds(),
    }  # fmt: skip


def format_table(figures: Mapping[str, Any]) -> str:
    """Markdown tables of :func:`measure`'s figures."""
    lines = [f"Qwen3 vocabulary ({figures['vocab_size']} tokens). Tokens per entity; in brackets the ratio to Home Assistant's "
             f"Assist static context for the same home (goal: at most {figures['goal_vs_ha']}x).", "",
             "| home | entities | ONTOLOGY (grouped) | previous ONTOLOGY | HA Assist static context | pretty JSON (baseline) | grouped vs pretty |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for h in figures["homes"]:
        f = h["formats"]
        cell = lambda name, f=f: f"{f[name]['tokens_per_entity']:.1f} ({f[name]['vs_ha']:.2f}x)"  # noqa: E731
        lines.append(f"| {h['home']} | {h['entities']} | {cell('ontology_prompt')} | {cell('previous_prompt')} | "
                     f"{f['ha_assist_static']['tokens_per_entity']:.1f} | {cell(BASELINE)} | {f['ontology_prompt']['vs_baseline']:.3f}x |")  # fmt: skip
    cap = figures["capacity"]
    lines += ["", f"The largest demo-mix home whose ONTOLOGY plus {HEADROOM} tokens for a command and answer fits:", "",
              "| budget | grouped ONTOLOGY | previous ONTOLOGY |", "| --- | --- | --- |"]  # fmt: skip
    lines += [f"| {b} | {c['ontology_prompt']} entities | {c['previous_prompt']} entities |" for b, c in cap.items()]
    r = figures["prompt_rounds"]
    lines += ["", "Prompt tokens per command on the demo home (chat template with its generation prompt, 300 training rows):", "",
              "| round | rows | min | p50 | max |", "| --- | --- | --- | --- | --- |"]  # fmt: skip
    lines += [f"| {name.replace('_', '-')} | {v['rows']} | {v['min']} | {v['p50']} | {v['max']} |" for name, v in r.items()]
    lines += ["", f"The demo home's system text with the whole live STATE: {figures['demo_system_with_full_state']} tokens."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the tables (or the figures as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure()
    print(json.dumps(figures, ensure_ascii=False, indent=2) if args.json else format_table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
