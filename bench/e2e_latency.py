"""End-to-end latency per command against a real OpenAI-compatible model server.

Run in the Home Assistant environment (``.venv/ha/bin/python``), with a server up::

    python bench/e2e_latency.py --url http://127.0.0.1:8000 --model MODEL --cases cases.json

For each command, two figures measured in the same run, median of ``--repeat``:

- baseline: one bare ``/v1/chat/completions`` request with the command's prompt
  (the model's own time plus HTTP);
- agent: the Statewise agent's whole turn (``agent.StatewiseAgent``: prompt, model
  request(s) over aiohttp, parse, validate, fetch rounds, action preparation) on a
  home simulated from the export's live snapshot (actions are prepared, not sent
  to Home Assistant's service registry).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from custom_components.statewise.protocol import CHAT_TEMPLATE_KWARGS, load_export, render_messages
from custom_components.statewise.protocol.agent import StatewiseAgent
from custom_components.statewise.protocol.simulate import SimulatedHome

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo_home"
MAX_TOKENS = 256


async def measure_async(url: str, model: str, commands: Sequence[str], export_dir: str | Path = DEMO, repeat: int = 5) -> dict[str, Any]:
    """Median baseline and agent latency (ms) per command."""
    export = load_export(export_dir)
    rows = []
    async with aiohttp.ClientSession() as session:

        async def ask(messages: list[dict[str, str]]) -> str:
            body = {"model": model, "messages": messages, "temperature": 0, "max_tokens": MAX_TOKENS, "chat_template_kwargs": CHAT_TEMPLATE_KWARGS}
            async with session.post(url + "/v1/chat/completions", json=body) as resp:
                resp.raise_for_status()
                return (await resp.json())["choices"][0]["message"]["content"]

        for command in commands:
            await ask(render_messages(export.ontology, command))  # warm-up
            base, turn, outcome = [], [], ""
            for _ in range(repeat):
                start = time.perf_counter()
                await ask(render_messages(export.ontology, command))
                base.append((time.perf_counter() - start) * 1000)
                home = SimulatedHome(export.ontology, export.snapshots[0].states)  # every turn starts from the same home
                start = time.perf_counter()
                result = await StatewiseAgent(ask, home, fetch_rounds=1).async_run(command, export.ontology)
                turn.append((time.perf_counter() - start) * 1000)
                outcome = result.outcome
            b, t = statistics.median(base), statistics.median(turn)
            rows.append({"command": command, "baseline_ms": round(b, 1), "agent_ms": round(t, 1), "ratio": round(t / b, 3), "outcome": outcome})
    return {"url": url, "model": model, "repeat": repeat, "rows": rows}


def measure(url: str, model: str, commands: Sequence[str], export_dir: str | Path = DEMO, repeat: int = 5) -> dict[str, Any]:
    """Synchronous wrapper of :func:`measure_async`."""
    return asyncio.run(measure_async(url, model, commands, export_dir, repeat))


def format_table(report: dict[str, Any]) -> str:
    """Markdown table of the figures."""
    lines = [
        f"Server {report['url']}, median of {report['repeat']} per command; baseline = one bare chat completion with the same prompt.",
        "",
        "| command | baseline ms | agent turn ms | x baseline | outcome |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {r['command']} | {r['baseline_ms']} | {r['agent_ms']} | {r['ratio']} | {r['outcome']} |" for r in report["rows"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the figures (Markdown, or JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--cases", required=True, help="cases.json from tests/e2e/make_overfit_model.py (its commands are used)")
    parser.add_argument("--export-dir", default=str(DEMO))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    commands = [c["command"] for c in json.loads(Path(args.cases).read_text(encoding="utf-8"))["cases"]]
    commands += ["what is the capital of France", "make the kitchen lights brighter"]
    report = measure(args.url, args.model, commands, args.export_dir, args.repeat)
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
