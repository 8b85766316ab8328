"""``python -m trainer [run|train|eval|export]``: the TRL-script style command line."""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from .config import TrainConfig, add_config_flags, config_from_args

log = logging.getLogger("trainer")
TINY = "tiny"


def _setup_logging() -> None:
    try:
        from rich.logging import RichHandler

        handlers: list[logging.Handler] = [RichHandler(show_path=False)]
    except ImportError:
        handlers = [logging.StreamHandler()]
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=handlers)


def _tiny_base(cfg: TrainConfig, run: Path) -> TrainConfig:
    """``--base-model tiny``: a tiny Qwen3 with a vocabulary trained on the dataset (CPU smoke runs)."""
    from .data import read_rows
    from .tiny import save_tiny_base

    path = save_tiny_base(read_rows(cfg.dataset), run / "tiny-base", vocab_size=1024, hidden=64)
    log.info("built a tiny Qwen3 base model at %s", path)
    return replace(cfg, base_model=str(path))


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


def cmd_train(cfg: TrainConfig) -> int:
    """Train the LoRA adapter."""
    from .train import train

    if cfg.base_model == TINY:
        cfg = _tiny_base(cfg, Path(cfg.output_dir))
    summary = train(cfg)
    log.info("loss %s -> %s over %d steps", summary["first_loss"], summary["last_loss"], summary["global_step"])
    return 0


def cmd_eval(cfg: TrainConfig, args: argparse.Namespace) -> int:
    """Evaluate a model or score a predictions file; 1 when a criterion fails."""
    from .evaluate import evaluate

    if not (args.model or args.predictions) or not cfg.dataset:
        raise SystemExit("eval needs --dataset HELDOUT.jsonl and --model DIR or --predictions FILE")
    report = evaluate(cfg, cfg.dataset, model_dir=args.model, predictions=args.predictions, baseline=args.baseline, out_dir=args.out)
    for name, c in report["criteria"].items():
        log.info("%-28s %-8s %s %s  %s", name, c["value"], c["op"], c["bound"], "pass" if c["passed"] else "FAIL")
    return 0 if report["passed"] else 1


def cmd_export(cfg: TrainConfig, args: argparse.Namespace) -> int:
    """Export adapter + merged model + manifest + card."""
    from .export import export

    model = Path(args.model or cfg.output_dir)
    found = [p for p in (model / "eval" / "report.json", model.parent / "eval" / "report.json") if p.is_file()]
    report_path = args.eval_report or (str(found[0]) if found else "")
    report = json.loads(Path(report_path).read_text()) if report_path else None
    if report_path:
        log.info("eval summary from %s", report_path)
    out = export(model, args.out or Path(cfg.output_dir) / "export", export_dir=cfg.export_dir, eval_report=report)
    log.info("exported to %s", out)
    return 0


def cmd_run(cfg: TrainConfig) -> int:
    """build-dataset -> train -> eval -> export, all under ``output_dir``."""
    from .evaluate import evaluate
    from .export import export
    from .train import train

    run = Path(cfg.output_dir)
    data = run / "dataset"
    if not cfg.dataset:
        cmd = [sys.executable, "-m", "dataset_export", "build", cfg.export_dir, "--out", str(data), "--seed", str(cfg.seed)]
        cmd += ["--max-length", str(cfg.max_length), *(["--size", str(cfg.dataset_size)] if cfg.dataset_size else [])]
        log.info("building the dataset: %s", " ".join(cmd))
        subprocess.run(cmd, check=True)
        cfg = replace(cfg, dataset=str(data / "train.jsonl"), heldout=cfg.heldout or str(data / "heldout.jsonl"))
    if not cfg.heldout:
        cfg = replace(cfg, heldout=str(Path(cfg.dataset).with_name("heldout.jsonl")))
    if not Path(cfg.heldout).is_file():
        raise SystemExit(f"no held-out set: {cfg.heldout} does not exist (pass --heldout)")
    note = ""
    if cfg.base_model != TINY and not _available(cfg.base_model):
        note = FALLBACK_NOTE.format(base=cfg.base_model)
        _shout(note)
        cfg = replace(cfg, base_model=TINY)
    if cfg.base_model == TINY:
        note = note or FALLBACK_NOTE.format(base="a real Qwen3")
        cfg = _tiny_base(cfg, run)
    train_cfg = replace(cfg, output_dir=str(run / "train"))
    train(train_cfg)
    report = evaluate(cfg, cfg.heldout, model_dir=str(run / "train"), out_dir=str(run / "eval"), note=note)
    if cfg.eval_baseline:
        base = evaluate(cfg, cfg.heldout, model_dir=str(run / "train"), baseline=True, out_dir=str(run / "eval_baseline"), note=note)
        log.info("exact-plan accuracy: base %s -> fine-tuned %s", base["summary"]["exact_plan_accuracy"], report["summary"]["exact_plan_accuracy"])
    export(run / "train", run / "export", export_dir=cfg.export_dir, eval_report=report)
    log.info("run folder %s: eval %s (start with %s)", run, "PASSED" if report["passed"] else "FAILED", _write_summary(run, report, note))
    if note:
        _shout(note + f"\nRun folder: {run}")
        return 0  # a smoke run: the pipeline worked; its figures say nothing about a real model
    return 0 if report["passed"] else 1


def build_parser() -> argparse.ArgumentParser:
    """Parser with one subcommand per step; every subcommand takes every TrainConfig flag."""
    parser = argparse.ArgumentParser(prog="python -m trainer", description="Statewise LoRA SFT of dense Qwen3 (TRL + PEFT).")
    sub = parser.add_subparsers(dest="command")
    for name, text in (("run", "build-dataset -> train -> eval -> export (the default)"), ("train", "LoRA SFT"),
                       ("eval", "evaluate on a held-out set"), ("export", "adapter + merged model + manifest + card")):  # fmt: skip
        p = sub.add_parser(name, help=text, description=text)
        add_config_flags(p)
        if name in ("eval", "export"):
            p.add_argument("--model", default="", help="adapter / run / merged model folder")
            p.add_argument("--out", default="", help="output folder")
        if name == "eval":
            p.add_argument("--predictions", default="", help='JSONL of {"id", "output"[, "followup_output"]} to score without a model')
            p.add_argument("--baseline", action="store_true", help="evaluate the base model without the adapter")
        if name == "export":
            p.add_argument("--eval-report", default="", help="report.json to summarise in the manifest (default: the run's eval/report.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    args = build_parser().parse_args(argv)
    _setup_logging()
    cfg = config_from_args(args)
    if args.command == "train":
        return cmd_train(cfg)
    if args.command == "eval":
        return cmd_eval(cfg, args)
    if args.command == "export":
        return cmd_export(cfg, args)
    return cmd_run(cfg)
