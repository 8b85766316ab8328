"""STATE bytes per media player on the real demo home, with the rule STATE used before (media titles, long sources) and now.

Runs in the Home Assistant environment: the demo integration's media players (set up as
``tests/ha`` sets them up, in a test instance) are read through the protocol's
``entity_state`` (now) and through the previous rule, reproduced here (the media title, up to
200 characters, and the source as a slug of any length). Run:
``.venv/ha/bin/python bench/state_bytes.py [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def previous_entry(entry: dict[str, Any], attributes: dict[str, Any]) -> dict[str, Any]:
    """The entry as STATE carried it before (``docs/SECURITY.md``): plus the media title, the full source slug."""
    from custom_components.statewise.protocol import slugify

    out = dict(entry)
    if isinstance(attributes.get("media_title"), str) and attributes["media_title"]:
        out["media_title"] = attributes["media_title"][:200]
    if isinstance(attributes.get("source"), str) and slugify(attributes["source"]):
        out["source"] = slugify(attributes["source"])
    return out


async def _measure() -> dict[str, Any]:
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    from custom_components.statewise.protocol import entity_state, state_json
    from tests.ha.conftest import async_setup_demo_home

    with tempfile.TemporaryDirectory() as config_dir:  # registries of their own, never a shared test config folder
        return await _read(async_test_home_assistant, async_setup_demo_home, entity_state, state_json, config_dir)


async def _read(test_home: Any, setup_demo: Any, entity_state: Any, state_json: Any, config_dir: str) -> dict[str, Any]:
    async with test_home(config_dir=config_dir) as hass:
        hass.config.config_dir = config_dir
        await setup_demo(hass)
        rows = []
        for state in sorted(hass.states.async_all("media_player"), key=lambda s: s.entity_id):
            now = entity_state("media_player", state.state, state.attributes)
            before = previous_entry(now, dict(state.attributes))
            rows.append({"entity": state.entity_id, "state": state.state, "before_bytes": len(state_json({state.entity_id: before}).encode()),
                         "after_bytes": len(state_json({state.entity_id: now}).encode()), "title": state.attributes.get("media_title")})  # fmt: skip
        await hass.async_stop(force=True)
    return {"players": rows, "before_total": sum(r["before_bytes"] for r in rows), "after_total": sum(r["after_bytes"] for r in rows)}


def measure() -> dict[str, Any]:
    """Figures for every demo media player."""
    return asyncio.run(_measure())


def format_table(figures: dict[str, Any]) -> str:
    """Markdown."""
    lines = ["| media player | state | STATE bytes before | after | media title (no longer sent) |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['entity']} | {r['state']} | {r['before_bytes']} | {r['after_bytes']} | {r['title'] or '-'} |" for r in figures["players"]]
    ratio = figures["after_total"] / figures["before_total"] if figures["before_total"] else 0
    lines.append(f"| **all** | | {figures['before_total']} | {figures['after_total']} ({ratio:.2f}x) | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = measure()
    print(json.dumps(figures, indent=2) if args.json else format_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
