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

``--prefix-cache`` adds, per command, one bare request (one generated token, so the
prompt dominates) with the ONTOLOGY prefix evicted first (what a server without a
prompt cache pays every time) beside one right after another command of the same home
(the prefix reused), with the prompt tokens the server evaluated where it says so
(llama-server's ``timings.prompt_n``, an OpenAI ``cached_tokens``, or llama-cpp-python's
log via ``--server-log``). ``--grammar`` counts, per command, whether the answer is
valid v0 with and without the agent's GBNF grammar (llama.cpp's ``grammar`` field).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from custom_components.statewise.protocol import CHAT_TEMPLATE_KWARGS, KIND_INVALID, check_output, load_export, render_messages
from custom_components.statewise.protocol.agent import StatewiseAgent
from custom_components.statewise.protocol.grammar import v0_grammar
from custom_components.statewise.protocol.simulate import SimulatedHome

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo_home"
MAX_TOKENS = 256
# More commands for the grammar count (the agent's ordinary traffic: actions, questions, refusals).
GRAMMAR_COMMANDS = ("lock the front door", "set the thermostat to 21", "what is on tv", "open the garage", "play music", "dim the lights to 30%",
                    "is the door locked", "turn on the porch light", "make it cosy", "unlock the front door")  # fmt: skip
# llama-cpp-python's log line for a request whose prompt starts like the previous one.
_PREFIX_HIT = re.compile(r"Llama\.generate: (\d+) prefix-match hit, remaining (\d+) prompt tokens to eval")


async def _chat(session: aiohttp.ClientSession, url: str, model: str, messages: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    body = {"model": model, "messages": messages, "temperature": 0, "max_tokens": MAX_TOKENS, "chat_template_kwargs": CHAT_TEMPLATE_KWARGS, **extra}
    async with session.post(url + "/v1/chat/completions", json=body) as resp:
        resp.raise_for_status()
        return await resp.json()


def _evaluated(reply: dict[str, Any], log_tail: str) -> int | None:
    """Prompt tokens the server evaluated for this reply, where it tells."""
    if isinstance(reply.get("timings"), dict) and "prompt_n" in reply["timings"]:
        return int(reply["timings"]["prompt_n"])
    cached = ((reply.get("usage") or {}).get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached is not None:
        return int(reply["usage"]["prompt_tokens"]) - int(cached)
    if log_tail:
        hits = _PREFIX_HIT.findall(log_tail)
        return int(hits[-1][1]) if hits else int(reply["usage"]["prompt_tokens"])
    return None


async def prefix_cache_async(url: str, model: str, commands: Sequence[str], export_dir: str | Path = DEMO, repeat: int = 3,
                             server_log: str | Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Per command: median ms (and evaluated prompt tokens) with the prefix evicted and reused; the very first request too."""
    ontology = load_export(export_dir).ontology
    log = Path(server_log) if server_log else None
    rows, first = [], None
    async with aiohttp.ClientSession() as session:

        async def timed(messages: list[dict[str, str]]) -> tuple[float, int, int | None]:
            size = log.stat().st_size if log else 0
            start = time.perf_counter()
            reply = await _chat(session, url, model, messages, max_tokens=1)
            ms = (time.perf_counter() - start) * 1000
            tail = log.read_bytes()[size:].decode("utf-8", "replace") if log else ""
            return ms, int(reply["usage"]["prompt_tokens"]), _evaluated(reply, tail)

        for i, command in enumerate(commands):
            messages = render_messages(ontology, command)
            if first is None:
                ms, tokens, evaluated = await timed(messages)
                first = {"command": command, "ms": round(ms, 1), "prompt_tokens": tokens, "evaluated": evaluated}
            other = render_messages(ontology, commands[(i + 1) % len(commands)] if len(commands) > 1 else command + " now")
            evicted, reused = [], []
            for _ in range(repeat):
                await _chat(session, url, model, [{"role": "system", "content": "-"}, messages[1]], max_tokens=1)  # another prefix
                evicted.append(await timed(messages))
                await _chat(session, url, model, other, max_tokens=1)  # the same home, another command
                reused.append(await timed(messages))
            e_ms, r_ms = statistics.median(m for m, _, _ in evicted), statistics.median(m for m, _, _ in reused)
            rows.append({"command": command, "prompt_tokens": evicted[-1][1], "evicted_ms": round(e_ms, 1), "evicted_evaluated": evicted[-1][2],
                         "reused_ms": round(r_ms, 1), "reused_evaluated": reused[-1][2], "speedup": round(e_ms / r_ms, 2)})  # fmt: skip
    return {"url": url, "model": model, "repeat": repeat, "first": first, "rows": rows}


async def grammar_rates_async(url: str, model: str, commands: Sequence[str], export_dir: str | Path = DEMO) -> dict[str, Any]:
    """Per grammar setting: how many answers are not valid v0 (greedy, one request per command)."""
    ontology = load_export(export_dir).ontology
    out: dict[str, Any] = {"commands": len(commands)}
    async with aiohttp.ClientSession() as session:
        for label, extra in (("off", {}), ("gbnf", {"grammar": v0_grammar()})):
            invalid, kinds, codes = 0, {}, {}
            for command in commands:
                reply = await _chat(session, url, model, render_messages(ontology, command), **extra)
                verdict = check_output(reply["choices"][0]["message"]["content"], ontology)
                kinds[verdict.kind] = kinds.get(verdict.kind, 0) + 1
                if verdict.kind == KIND_INVALID:
                    invalid += 1
                    code = verdict.errors[0].code
                    codes[code] = codes.get(code, 0) + 1
            out[label] = {"invalid": invalid, "rate": round(invalid / len(commands), 3), "kinds": kinds, "first_error": codes}
    return out


async def measure_async(url: str, model: str, commands: Sequence[str], export_dir: str | Path = DEMO, repeat: int = 5) -> dict[str, Any]:
    """Median baseline and agent latency (ms) per command."""
    export = load_export(export_dir)
    rows = []
    async with aiohttp.ClientSession() as session:

        async def ask(messages: list[dict[str, str]]) -> str:
            return (await _chat(session, url, model, messages))["choices"][0]["message"]["content"]

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


def format_cache_table(report: dict[str, Any]) -> str:
    """Markdown table of :func:`prefix_cache_async`'s figures."""
    f = report["first"]
    lines = [
        f"Server {report['url']}, one generated token per request, median of {report['repeat']}. The very first request "
        f"({f['command']!r}): {f['ms']} ms, {f['evaluated'] if f['evaluated'] is not None else '?'} of {f['prompt_tokens']} prompt tokens evaluated.",
        "",
        "| command | prompt tokens | prefix evicted ms (evaluated) | prefix reused ms (evaluated) | x faster |",
        "| --- | --- | --- | --- | --- |",
    ]
    show = lambda n: "?" if n is None else n  # noqa: E731
    lines += [f"| {r['command']} | {r['prompt_tokens']} | {r['evicted_ms']} ({show(r['evicted_evaluated'])}) | "
              f"{r['reused_ms']} ({show(r['reused_evaluated'])}) | {r['speedup']} |" for r in report["rows"]]  # fmt: skip
    return "\n".join(lines)


def format_grammar_table(report: dict[str, Any]) -> str:
    """Markdown table of :func:`grammar_rates_async`'s figures."""
    lines = [f"{report['commands']} commands, greedy, one request each, every answer checked by the v0 validator.", "",
             "| grammar | not valid v0 | rate | answers by kind | first error of the invalid ones |", "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for label in ("off", "gbnf"):
        r = report[label]
        kinds, errors = json.dumps(r["kinds"], sort_keys=True), json.dumps(r["first_error"], sort_keys=True)
        lines.append(f"| {label} | {r['invalid']} | {r['rate']:.1%} | {kinds} | {errors} |")
    return "\n".join(lines)


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
    parser.add_argument("--prefix-cache", action="store_true", help="also time each prompt with its prefix evicted and reused")
    parser.add_argument("--server-log", default="", help="the server's log, for the prompt tokens llama-cpp-python evaluated")
    parser.add_argument("--grammar", action="store_true", help="also count invalid answers with and without the v0 grammar (llama.cpp)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    commands = [c["command"] for c in json.loads(Path(args.cases).read_text(encoding="utf-8"))["cases"]]
    commands += ["what is the capital of France", "make the kitchen lights brighter"]
    report: dict[str, Any] = {}
    if args.prefix_cache:  # first: its first request is the server's first, with nothing cached
        report["prefix_cache"] = asyncio.run(prefix_cache_async(args.url, args.model, commands, args.export_dir, args.repeat, args.server_log or None))
    report["latency"] = measure(args.url, args.model, commands, args.export_dir, args.repeat)
    if args.grammar:
        report["grammar"] = asyncio.run(grammar_rates_async(args.url, args.model, commands + list(GRAMMAR_COMMANDS), args.export_dir))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(format_table(report["latency"]))
    if "prefix_cache" in report:
        print("\nPrefix cache:\n\n" + format_cache_table(report["prefix_cache"]))
    if "grammar" in report:
        print("\nGrammar-constrained output:\n\n" + format_grammar_table(report["grammar"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
