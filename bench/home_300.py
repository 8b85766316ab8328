"""A 300-entity home, end to end: Home Assistant export -> dataset build (``--max-length auto``) -> token-budget check.

Inside a Home Assistant test instance (``.venv/ha``): the HA-style mansion of
``examples/make_ha_style_homes.py`` (303 entities on five floors, named as Home
Assistant names device entities, sensors exposed, no aliases) is put into the
registries and the state machine, the integration's own export
writes it, ``python -m dataset_export build`` (the trainer environment, a
subprocess) builds a dataset with the automatic budget, and the integration's
token-budget Repair checks the live home against the model trained on it, with
the budget the build chose and, to show the check bites, with the plan's 2048.

Run: ``.venv/ha/bin/python bench/home_300.py [--size 300] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from host_exec import host_command  # noqa: E402

TRAINER_PYTHON = ROOT / ".venv" / "trainer" / "bin" / "python"


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mansion(work: Path) -> tuple[list[dict[str, Any]], dict[str, tuple[str, dict[str, Any]]]]:
    """The mansion's entities and their live states ``(state, no attributes)`` (the capabilities come from ``ha_attributes``)."""
    from custom_components.statewise.protocol import load_export

    subprocess.run(host_command([str(TRAINER_PYTHON), str(ROOT / "examples" / "make_ha_style_homes.py"), "--mansion", str(work)], ROOT),
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    export = load_export(work / "mansion")
    live = next(s for s in export.snapshots if s.source == "live").states
    return list(export.ontology.entities.values()), {eid: (live.get(eid, {}).get("state", "unknown"), {}) for eid in export.ontology.entities}


async def _run(size: int, work: Path) -> dict[str, Any]:
    from homeassistant.helpers import issue_registry as ir
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    from custom_components.statewise.const import DOMAIN, ISSUE_TOKEN_BUDGET
    from custom_components.statewise.export import async_export_training_seed
    from custom_components.statewise.protocol import load_ontology
    from custom_components.statewise.repairs import async_update_issues, estimate_tokens, token_budget

    async with async_test_home_assistant(config_dir=str(work / "config")) as hass:
        live = await _load(ROOT / "bench" / "agent_overhead.py").async_populate_entities(hass, *mansion(work))
        start = time.perf_counter()
        exported = await async_export_training_seed(hass, history_samples=0)
        export_s = time.perf_counter() - start
        out = work / "dataset"
        start = time.perf_counter()
        build = subprocess.run(host_command([str(TRAINER_PYTHON), "-m", "dataset_export", "build", str(exported.path), "--out", str(out), "--size", str(size),
                                             "--quiet"], ROOT), cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip
        build_s = time.perf_counter() - start
        if build.returncode:
            raise RuntimeError(f"dataset build failed ({build.returncode}): {build.stderr.strip()}")
        stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
        trained = await hass.async_add_executor_job(load_ontology, exported.path / "ontology.json")
        results = {}
        for label, max_length in (("chosen", stats["max_length"]), ("plan_2048", 2048)):
            async_update_issues(hass, "bench", "Agent", exported.export_id, trained, live, estimate_tokens(trained), max_length)
            issue = ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_TOKEN_BUDGET}_bench")
            results[label] = {"max_length": max_length, "budget": token_budget(estimate_tokens(trained), max_length), "issue": issue is not None}
        return {
            "entities": exported.entity_count,
            "present_false": len(exported.present_false),
            "export_s": round(export_s, 2),
            "build_s": round(build_s, 1),
            "train_rows": stats["train"]["examples"],
            "ontology_tokens": stats["ontology_tokens"],
            "longest_example": stats["max_length_choice"]["longest_example"],
            "max_length": stats["max_length"],
            "estimated_tokens_in_ha": estimate_tokens(live),
            "repair": results,
            "builder_says": build.stderr.strip().splitlines()[0],
        }


def measure(size: int = 300) -> dict[str, Any]:
    """Figures of one run (in a temporary folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_run(size, Path(tmp)))


def format_table(figures: dict[str, Any]) -> str:
    """Markdown."""
    r = figures["repair"]
    return "\n".join([
        "| entities (present:false) | export | build (train rows) | ONTOLOGY tokens | longest example | --max-length auto chose | "
        "HA estimate | Repair at the chosen budget | Repair at 2048 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {figures['entities']} ({figures['present_false']}) | {figures['export_s']} s | {figures['build_s']} s ({figures['train_rows']}) | "
        f"{figures['ontology_tokens']} | {figures['longest_example']} | {figures['max_length']} | {figures['estimated_tokens_in_ha']} | "
        f"{'raised' if r['chosen']['issue'] else 'none'} (budget {r['chosen']['budget']}) | {'raised' if r['plan_2048']['issue'] else 'none'} |",
        "",
        f"The builder said: `{figures['builder_says']}`",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=300, help="training rows to build")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = measure(args.size)
    print(json.dumps(figures, indent=2) if args.json else format_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
