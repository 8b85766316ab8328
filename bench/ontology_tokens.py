"""Benchmark: ONTOLOGY prompt tokens per entity with the real Qwen3 vocabulary (offline).

Compares, for one export (default ``examples/demo_home``), the prompt's
ONTOLOGY JSON with the same home as pretty-printed JSON (``indent=2`` of the
whole ontology document: the baseline) and as one line per device built from
the live snapshot (``light.x 'Name' = on;80%``). Ratios are against the
baseline measured in the same run. Run ``python bench/ontology_tokens.py
[EXPORT_DIR] [--json]``; import :func:`measure` to get the figures.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from statewise_protocol import Ontology, load_export, system_text

from dataset_export.tokens import count_tokens, qwen3_tokenizer

DEMO_DIR = Path(__file__).resolve().parents[1] / "examples" / "demo_home"
BASELINE = "pretty_json"


def _suffixes(domain: str, entry: Mapping[str, Any]) -> list[str]:
    """Compact state details for one line (``80%``, ``2857K``, ``src=dvd``, ...)."""
    out: list[str] = []
    if domain in ("light", "fan", "cover", "valve"):
        for key in ("brightness", "percentage", "position"):
            if key in entry:
                out.append(f"{entry[key]}%")
        if "color_temp_kelvin" in entry:
            out.append(f"{entry['color_temp_kelvin']}K")
    elif domain == "media_player":
        out += [f"src={entry['source']}"] if "source" in entry else []
        out += [f"vol={entry['volume']}%"] if "volume" in entry else []
        out += [f"'{entry['media_title']}'"] if "media_title" in entry else []
    elif domain == "climate":
        out += [f"set={entry['temperature']}"] if "temperature" in entry else []
        out += [f"now={entry['current_temperature']}"] if "current_temperature" in entry else []
    return out


def one_line_per_device(ontology: Ontology, states: Mapping[str, Mapping[str, Any]]) -> str:
    """``light.x 'Name' = on;80%`` per entity (state ``unknown`` when the snapshot lacks it)."""
    lines = []
    for eid, ent in ontology.entities.items():
        entry = states.get(eid, {"state": "unknown"})
        lines.append(f"{eid} '{ent['name']}' = " + ";".join([entry["state"], *_suffixes(ent["domain"], entry)]))
    return "\n".join(lines)


def measure(export_dir: str | Path = DEMO_DIR) -> dict[str, Any]:
    """Token figures for one export: per format, tokens, tokens per entity, characters and ratio to the baseline."""
    export = load_export(export_dir)
    ontology = export.ontology
    live = next((s for s in export.snapshots if s.source == "live"), export.snapshots[0]).states
    texts = {
        BASELINE: json.dumps(ontology.document(), indent=2, ensure_ascii=False),
        "ontology_prompt": ontology.prompt_json,
        "one_line_per_device": one_line_per_device(ontology, live),
        "system_with_full_state": system_text(ontology, live),
    }
    entities = len(ontology.entities)
    counts = {name: count_tokens(text) for name, text in texts.items()}
    rows = [
        {
            "format": name,
            "tokens": counts[name],
            "tokens_per_entity": round(counts[name] / entities, 2),
            "chars": len(text),
            "chars_per_token": round(len(text) / counts[name], 2),
            "ratio_vs_baseline": round(counts[name] / counts[BASELINE], 3),
        }
        for name, text in texts.items()
    ]
    samples = {name: text[:160] for name, text in texts.items()}
    return {"export": str(export_dir), "entities": entities, "vocab_size": len(qwen3_tokenizer()), "baseline": BASELINE, "rows": rows, "samples": samples}


def format_table(figures: Mapping[str, Any]) -> str:
    """Human-readable table of :func:`measure`'s figures."""
    head = f"{'format':<24}{'tokens':>8}{'tok/entity':>12}{'chars/tok':>11}{'vs pretty':>11}"
    lines = [f"{figures['export']}: {figures['entities']} entities, Qwen3 vocabulary ({figures['vocab_size']} tokens)", head, "-" * len(head)]
    for row in figures["rows"]:
        lines.append(f"{row['format']:<24}{row['tokens']:>8}{row['tokens_per_entity']:>12.2f}{row['chars_per_token']:>11.2f}{row['ratio_vs_baseline']:>10.3f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table (or the figures as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", nargs="?", default=str(DEMO_DIR))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure(args.export_dir)
    print(json.dumps(figures, ensure_ascii=False, indent=2) if args.json else format_table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
