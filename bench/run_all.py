"""Run every benchmark in the project and write ``bench/results.md``.

    .venv/trainer/bin/python bench/run_all.py [--quick]

Each figure stands beside a baseline measured in the same run:

1. ONTOLOGY tokens per entity (real Qwen3 vocabulary) vs Home Assistant's Assist static context, the previous shape and pretty JSON;
   capacity at 2048/4096/8192 tokens; prompt tokens per round;
2. dataset build speed for 20,000 examples vs a 1,000-example build; the dataset on every example home;
   agreement with Home Assistant's own intent tests (``bench/intents_agreement.py``, needs a clone of OHF-Voice/intents);
3. training tokens/s, MFU and packing efficiency, packing on vs off vs a bare PEFT loop (tiny Qwen3 on CPU; GPU: bench/gpu_results.md);
4. the agent's own per-command cost at 50/200/500 entities vs 50 (Home Assistant environment), cached and uncached;
   a 300-entity home through export, an automatic-budget build and the token-budget check;
5. end-to-end latency per command through the agent against a real ``transformers serve``
   of an overfit tiny model, vs one bare chat completion;
6. the same against llama.cpp (``llama_cpp.server`` and ``llama-server``, one GGUF export), with each prompt's prefix
   evicted vs reused, and the invalid-answer rate with and without the v0 grammar.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
HA_PYTHON = ROOT / ".venv" / "ha" / "bin" / "python"
DEMO = ROOT / "examples" / "demo_home"
AGREEMENT_TITLE = "Against Home Assistant's own intent tests (OHF-Voice/intents tests/<language>, CC BY 4.0; every language Statewise speaks)"
sys.path.insert(0, str(ROOT / "bench"))
import model_servers  # noqa: E402


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ha_bench(script: str, *args: str) -> str:
    """A benchmark of the Home Assistant environment, run there; its own printed table."""
    out = subprocess.run([str(HA_PYTHON), str(ROOT / "bench" / script), *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.rstrip()


def e2e_section(work: Path, repeat: int) -> str:
    """Overfit a tiny model on the demo home, serve it, time commands through the agent."""
    subprocess.run([sys.executable, str(ROOT / "tests" / "e2e" / "make_overfit_model.py"), str(DEMO), str(work / "model")],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    cases = json.loads((work / "model" / "cases.json").read_text(encoding="utf-8"))
    argv = model_servers.transformers_serve(cases["model_dir"], model_servers.free_port())
    with model_servers.running(argv, work / "serve.log", "/health") as url:
        return _ha_bench("e2e_latency.py", "--url", url, "--model", cases["model_dir"], "--cases", str(work / "model" / "cases.json"), "--repeat", str(repeat))


def llama_cpp_section(work: Path, repeat: int, server: str = "llama_cpp.server") -> str:
    """A random-weight tiny Qwen3 (full vocabulary) as GGUF under one of llama.cpp's servers: agent latency, prefix cache, grammar."""
    if not (work / "gguf" / "cases.json").is_file():
        subprocess.run([sys.executable, str(ROOT / "tests" / "e2e" / "make_gguf_model.py"), str(DEMO), str(work / "gguf")],
                       cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    cases = json.loads((work / "gguf" / "cases.json").read_text(encoding="utf-8"))
    log, port = work / f"{server}.log", model_servers.free_port()
    argv = model_servers.llama_cpp_server(cases["gguf"], port) if server == "llama_cpp.server" else model_servers.llama_server(cases["gguf"], port)
    # llama-cpp-python tells the prompt tokens it evaluated in its log; llama-server in each answer's timings.
    log_args = ["--server-log", str(log)] if server == "llama_cpp.server" else []
    with model_servers.running(argv, log, "/v1/models") as url:
        return _ha_bench("e2e_latency.py", "--url", url, "--model", model_servers.LLAMA_MODEL_ALIAS, "--cases", str(work / "gguf" / "cases.json"),
                         "--repeat", str(repeat), "--prefix-cache", *log_args, "--grammar")  # fmt: skip


def _sections(text: str) -> list[tuple[str, str]]:
    """The (title, body) sections of a results file this script wrote."""
    parts = text.split("\n## ")[1:]
    return [(part.split("\n", 1)[0], part.split("\n", 1)[1].strip("\n")) for part in parts]


def main(argv: list[str] | None = None) -> int:
    """Run everything, print each section as it finishes, write ``bench/results.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run of the benchmarks)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    parser.add_argument("--intents-repo", default="/work/.mirror/OHF-Voice+intents/repo", help="a clone of OHF-Voice/intents (work tree or bare)")
    parser.add_argument("--llama-only", action="store_true", help="only the llama.cpp sections, replaced in the existing --out file")
    args = parser.parse_args(argv)
    sections: list[tuple[str, str]] = []

    def add(title: str, body: str) -> None:
        sections.append((title, body))
        print(f"\n## {title}\n\n{body}", flush=True)

    if not args.llama_only:
        tokens = _bench("ontology_tokens")
        add("ONTOLOGY tokens per entity against Home Assistant's Assist context (every example home, real Qwen3 vocabulary)",
            tokens.format_table(tokens.measure()))
        build = _bench("dataset_build")
        size, base = (2000, 200) if args.quick else (20_000, 1_000)
        add(f"Dataset build speed ({size:,} vs {base:,} examples)", "```\n" + build.format_table(build.measure(size=size, baseline=base)) + "\n```")
        homes = _bench("dataset_homes")
        add("The dataset on every example home (400 training rows each; coverage counts of train)",
            homes.format_table(homes.measure(200 if args.quick else 400)))
        agreement = _bench("intents_agreement")
        if Path(args.intents_repo).exists():
            body = agreement.format_report(agreement.measure(Path(args.intents_repo)))
        else:
            body = f"(no clone of OHF-Voice/intents at {args.intents_repo}: pass --intents-repo)"
        add(AGREEMENT_TITLE, body)
        train = _bench("train_throughput")
        add("Training tokens/s, MFU and packing efficiency against a bare PEFT loop (tiny Qwen3, CPU; GPU figures: bench/gpu_results.md)",
            "```\n" + train.format_report(train.measure()) + "\n```")
        overhead = _ha_bench("agent_overhead.py", *(["--repeat", "5"] if args.quick else []))
        add("Agent overhead per command, model time excluded (Home Assistant environment)", "```\n" + overhead + "\n```")
        add("STATE per media player before and after media titles left STATE (demo home, docs/SECURITY.md)", _ha_bench("state_bytes.py"))
        add("A 300-entity home end to end: HA export -> build with --max-length auto -> HA token-budget check (bench/home_300.py)",
            _ha_bench("home_300.py", "--size", "120" if args.quick else "300"))
        with tempfile.TemporaryDirectory() as tmp:
            title = "End-to-end latency per command against a real server (transformers serve, tiny overfit model, CPU)"
            add(title, e2e_section(Path(tmp), 2 if args.quick else 5))
    with tempfile.TemporaryDirectory() as tmp:  # one GGUF, both of llama.cpp's servers
        title = ("llama.cpp (llama-cpp-python server, random-weight tiny Qwen3 with the real vocabulary as GGUF, CPU): agent latency, "
                 "prefix cache, grammar-constrained output")  # fmt: skip
        add(title, llama_cpp_section(Path(tmp), 2 if args.quick else 3))
        title = ("llama.cpp's llama-server (--jinja, one slot, --cache-ram 0; the same GGUF, CPU): agent latency, prefix cache "
                 "(timings.prompt_n), grammar-constrained output")  # fmt: skip
        add(title, llama_cpp_section(Path(tmp), 2 if args.quick else 3, "llama-server"))

    head = [
        "# Statewise benchmark results",
        "",
        f"Written by `bench/run_all.py` on {datetime.now(UTC).isoformat(timespec='seconds')}; "
        f"{platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}{' (quick mode)' if args.quick else ''}.",
        "Every figure stands beside its baseline measured in the same run. CPU figures on a shared 2-core machine are noisy.",
    ]
    if Path(args.out).is_file():  # sections this run does not write (by hand: the phrasing bench needs a local SLURP file) stay
        old = Path(args.out).read_text(encoding="utf-8")
        kept = dict(_sections(old))
        kept.update(sections)
        sections = list(kept.items())
        if args.llama_only:
            head = [line for line in old.split("\n## ")[0].rstrip("\n").splitlines() if not line.startswith("The llama.cpp sections: ")]
            head.append(f"The llama.cpp sections: run again by `bench/run_all.py --llama-only` on {datetime.now(UTC).isoformat(timespec='seconds')}.")
    text = "\n".join(head) + "\n" + "".join(f"\n## {t}\n\n{b}\n" for t, b in sections)
    out = Path(args.out)
    tmp_out = out.with_suffix(".md.tmp")
    tmp_out.write_text(text, encoding="utf-8")
    tmp_out.replace(out)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
