"""``python -m trainer [run|train|eval|export] [flags | --config FILE.yaml]``, as TRL's own scripts parse arguments.

Each command is a ``trl.TrlParser`` over the dataclasses it needs (see
:mod:`trainer.config`): every ``SFTConfig``/``TrainingArguments`` flag works
for ``run`` and ``train``; ``--config FILE.yaml`` sets defaults that flags override.
Bad input (a missing dataset, a base model that is not a dense Qwen3, a setting
the plan excludes) prints one line naming what is wrong and exits 2.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .config import (
    Config,
    EvalArguments,
    EvalRunArguments,
    ExportArguments,
    PlanViolation,
    ScriptArguments,
    StatewiseModelConfig,
    StatewiseSFTConfig,
    check_plan,
)
from .data import InputError

log = logging.getLogger("trainer")
TINY = "tiny"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _setup_logging() -> None:
    try:
        from rich.logging import RichHandler

        handlers: list[logging.Handler] = [RichHandler(show_path=False)]
    except ImportError:
        handlers = [logging.StreamHandler()]
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=handlers)


def _with_base(cfg: Config, base: str) -> Config:
    return replace(cfg, model=replace(cfg.model, model_name_or_path=base))


def _tiny_base(cfg: Config, run: Path) -> Config:
    """``--base_model tiny``: a tiny Qwen3 with a vocabulary trained on the dataset (CPU smoke runs)."""
    from .data import read_rows
    from .tiny import save_tiny_base

    path = save_tiny_base(read_rows(cfg.script.dataset), run / "tiny-base", vocab_size=1024, hidden=64)
    log.info("built a tiny Qwen3 base model at %s", path)
    return _with_base(cfg, str(path))


def _available(name: str) -> bool:
    """True when ``name`` is a local folder, or there is a GPU and the model loads from the cache or the hub.

    Without a GPU a real Qwen3 is not trained by ``run`` (hours on a CPU): it falls back to the tiny model.
    """
    import torch
    from transformers import AutoConfig

    if Path(name).is_dir():
        return True
    if not torch.cuda.is_available():
        return False
    try:
        AutoConfig.from_pretrained(name)
    except (OSError, ValueError):
        return False
    return True


FALLBACK_NOTE = (
    "this run used a tiny local Qwen3 (no GPU or no model hub), not {base}: the pipeline ran end to end, "
    "but every accuracy figure in this report is meaningless"
)


def _shout(text: str) -> None:
    """A message nobody can miss in the terminal."""
    try:
        from rich.console import Console
        from rich.panel import Panel

        Console(stderr=True).print(Panel(text, title="STATEWISE: TINY FALLBACK", style="bold red"))
    except ImportError:
        print(f"\n{'!' * 80}\n{text}\n{'!' * 80}\n", file=sys.stderr)


def _write_summary(run: Path, report: dict, note: str) -> Path:
    """``run/README.md``: where everything in the run folder is."""
    lines = ["# Statewise run", ""]
    if note:
        lines += [f"> **WARNING: {note}**", ""]
    lines += [
        f"Evaluation: **{'PASSED' if report['passed'] else 'FAILED'}** (exact-plan accuracy {report['summary'].get('exact_plan_accuracy')})",
        "",
        "| what | where |",
        "| --- | --- |",
        "| dataset card, stats and plots | `dataset/dataset_card.md`, `dataset/*.png` |",
        "| training (adapter, logs, checkpoints) | `train/` |",
        "| evaluation report and plots | `eval/report.md`, `eval/*.png` |",
        "| exported model (adapter, merged model, model card) | `export/` |",
        "| manifest (schema version, base model, export and dataset hashes) | `export/statewise_manifest.json` |",
    ]
    path = run / "README.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _training_in(cfg: Config, out: Path) -> Config:
    """The same config with the trainer writing into ``out``."""
    cfg.training.output_dir = str(out)
    return cfg


def cmd_train(cfg: Config, _extra: Any = None) -> int:
    """Train the LoRA adapter."""
    from .model import check_base_model
    from .train import train

    if cfg.base_model == TINY:
        cfg = _tiny_base(cfg, Path(str(cfg.training.output_dir)))
    check_base_model(cfg.base_model)
    summary = train(cfg)
    log.info("loss %s -> %s over %d steps", summary["first_loss"], summary["last_loss"], summary["global_step"])
    return EXIT_OK


def cmd_eval(cfg: Config, args: EvalRunArguments) -> int:
    """Evaluate a model or score a predictions file; 1 when a criterion fails."""
    from .evaluate import evaluate

    if not (args.model or args.predictions) or not cfg.script.dataset:
        raise InputError("eval needs --dataset HELDOUT.jsonl and --model DIR or --predictions FILE")
    report = evaluate(cfg, cfg.script.dataset, model_dir=args.model, predictions=args.predictions, baseline=args.baseline, out_dir=args.out)
    for name, c in report["criteria"].items():
        log.info("%-28s %-8s %s %s  %s", name, c["value"], c["op"], c["bound"], "pass" if c["passed"] else "FAIL")
    return EXIT_OK if report["passed"] else EXIT_FAILED


def cmd_export(cfg: Config, args: ExportArguments) -> int:
    """Export adapter + merged model + manifest + card."""
    from .export import export

    model = Path(args.model or args.output_dir)
    if not model.is_dir():
        raise InputError(f"{model}: no trained run or adapter folder here")
    found = [p for p in (model / "eval" / "report.json", model.parent / "eval" / "report.json") if p.is_file()]
    report_path = args.eval_report or (str(found[0]) if found else "")
    report = json.loads(Path(report_path).read_text()) if report_path else None
    if report_path:
        log.info("eval summary from %s", report_path)
    out = export(model, args.out or Path(args.output_dir) / "export", export_dir=cfg.script.export_dir, eval_report=report, gguf=args.gguf,
                 lora_gguf=args.lora_gguf, base_gguf_dir=args.base_gguf_dir)  # fmt: skip
    log.info("exported to %s", out)
    return EXIT_OK


def cmd_run(cfg: Config, _extra: Any = None) -> int:
    """build-dataset -> train -> eval -> export, all under ``output_dir``."""
    from .evaluate import evaluate
    from .export import export
    from .model import check_base_model
    from .train import train

    run = Path(str(cfg.training.output_dir))
    data = run / "dataset"
    script = cfg.script
    if not script.dataset:
        cmd = [sys.executable, "-m", "dataset_export", "build", script.export_dir, "--out", str(data), "--seed", str(cfg.training.seed)]
        cmd += ["--max-length", str(cfg.training.max_length), *(["--size", str(script.dataset_size)] if script.dataset_size else [])]
        cmd += ["--language", script.language] if script.language else []
        log.info("building the dataset: %s", " ".join(cmd))
        built = subprocess.run(cmd, check=False)
        if built.returncode:
            return built.returncode  # the builder has said why, in one line
        script = replace(script, dataset=str(data / "train.jsonl"), heldout=script.heldout or str(data / "heldout.jsonl"))
    if not script.heldout:
        script = replace(script, heldout=str(Path(script.dataset).with_name("heldout.jsonl")))
    if not Path(script.heldout).is_file():
        raise InputError(f"{script.heldout}: no held-out set (pass --heldout)")
    cfg = replace(cfg, script=script)
    note = ""
    if cfg.base_model != TINY and not _available(cfg.base_model):
        note = FALLBACK_NOTE.format(base=cfg.base_model)
        _shout(note)
        cfg = _with_base(cfg, TINY)
    if cfg.base_model == TINY:
        note = note or FALLBACK_NOTE.format(base="a real Qwen3")
        cfg = _tiny_base(cfg, run)
    check_base_model(cfg.base_model)
    train(_training_in(cfg, run / "train"))
    report = evaluate(cfg, script.heldout, model_dir=str(run / "train"), out_dir=str(run / "eval"), note=note)
    if script.eval_baseline:
        base = evaluate(cfg, script.heldout, model_dir=str(run / "train"), baseline=True, out_dir=str(run / "eval_baseline"), note=note)
        log.info("exact-plan accuracy: base %s -> fine-tuned %s", base["summary"]["exact_plan_accuracy"], report["summary"]["exact_plan_accuracy"])
    export(run / "train", run / "export", export_dir=script.export_dir, eval_report=report)
    log.info("run folder %s: eval %s (start with %s)", run, "PASSED" if report["passed"] else "FAILED", _write_summary(run, report, note))
    if note:
        _shout(note + f"\nRun folder: {run}")
        return EXIT_OK  # a smoke run: the pipeline worked; its figures say nothing about a real model
    return EXIT_OK if report["passed"] else EXIT_FAILED


@dataclass(frozen=True)
class Command:
    """One subcommand: its help, the dataclasses its parser reads, and what it runs."""

    help: str
    dataclasses: tuple[type, ...]
    run: Callable[[Config, Any], int]


COMMANDS: dict[str, Command] = {
    "run": Command("build-dataset -> train -> eval -> export (the default)",
                   (ScriptArguments, StatewiseModelConfig, StatewiseSFTConfig, EvalArguments), cmd_run),
    "train": Command("LoRA SFT of a dense Qwen3 (TRL SFTTrainer + PEFT)", (ScriptArguments, StatewiseModelConfig, StatewiseSFTConfig), cmd_train),
    "eval": Command("evaluate on a held-out set (the plan's five criteria)", (ScriptArguments, StatewiseModelConfig, EvalArguments, EvalRunArguments),
                    cmd_eval),
    "export": Command("adapter + merged model + manifest + card", (ScriptArguments, ExportArguments), cmd_export),
}  # fmt: skip


def make_parser(name: str) -> Any:
    """The ``trl.TrlParser`` of one command."""
    from trl import TrlParser

    command = COMMANDS[name]
    return TrlParser(command.dataclasses, prog=f"python -m trainer {name}", description=command.help)


def parse(name: str, argv: list[str]) -> tuple[Config, Any]:
    """The command's :class:`Config` and its extra arguments object (eval/export), from flags and ``--config``."""
    parsed = make_parser(name).parse_args_and_config(argv)
    by_type = {type(value): value for value in parsed}
    cfg = Config(
        script=by_type.get(ScriptArguments) or ScriptArguments(),
        model=by_type.get(StatewiseModelConfig) or StatewiseModelConfig(),
        training=by_type.get(StatewiseSFTConfig) or StatewiseSFTConfig(),
        evaluation=by_type.get(EvalArguments) or EvalArguments(),
    )
    if StatewiseSFTConfig in COMMANDS[name].dataclasses:
        check_plan(cfg.model)
    extra = by_type.get(EvalRunArguments) or by_type.get(ExportArguments)
    return cfg, extra


def _usage() -> str:
    lines = ["usage: python -m trainer {" + ",".join(COMMANDS) + "} [flags] [--config FILE.yaml]", "", "Statewise LoRA SFT of dense Qwen3 (TRL + PEFT).", ""]
    lines += [f"  {name:8} {command.help}" for name, command in COMMANDS.items()]
    lines += ["", "python -m trainer COMMAND --help lists a command's flags (every TrainingArguments flag for run and train)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point: the exit code (0 ok, 1 a criterion failed, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return EXIT_OK
    name = argv.pop(0) if argv and argv[0] in COMMANDS else "run"
    try:
        try:
            cfg, extra = parse(name, argv)
        except (OSError, ValueError) as err:  # a config file that is missing or not YAML, an invalid flag combination
            raise InputError(str(err).splitlines()[0] if str(err) else type(err).__name__) from None
        _setup_logging()
        return COMMANDS[name].run(cfg, extra)
    except (InputError, PlanViolation) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
