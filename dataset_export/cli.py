"""``python -m dataset_export <command>``: stable command-line entry points.

Each command is one ``add_<name>(subparsers)`` function that declares its
arguments and sets ``func`` (``Namespace -> exit code``); to add a command,
write one and append it to :data:`COMMANDS`. An :class:`ExportError` (a bad
ontology or state file) prints ``error: <file>: <field>: <why>`` and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from statewise_protocol import AUTO_MAX_LENGTHS, ExportError, check_output, load_home, load_state, parse_system_text, render_messages

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2
Subparsers = Any  # argparse's private _SubParsersAction


def print_json(obj: Any) -> None:
    """One JSON document on stdout, UTF-8 (a lone surrogate is written as its JSON escape)."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n"
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8", "backslashreplace"))
    sys.stdout.buffer.flush()


def _add_home_args(parser: argparse.ArgumentParser) -> None:
    home = parser.add_mutually_exclusive_group(required=True)
    home.add_argument("--ontology", metavar="FILE", help="ontology.json of a v0 export, the ONTOLOGY JSON of a prompt, or a whole system text")
    home.add_argument("--row", metavar="FILE:N", help="the prompt of line N (1-based) of a dataset JSONL file (its ONTOLOGY and STATE)")
    parser.add_argument("--state", metavar="FILE", help="STATE: {entity_id: {state, ..}} or a snapshots.json (its first snapshot)")


def _row_home(spec: str) -> tuple[Any, dict[str, dict[str, Any]] | None]:
    """ONTOLOGY and STATE of one dataset row (``FILE:N``)."""
    file, sep, number = spec.rpartition(":")
    if not sep or not number.isdigit() or int(number) < 1:
        raise ExportError("--row", "", f"{spec!r} is not FILE:N (N counts lines from 1)")
    path = Path(file)
    if not path.is_file():
        raise ExportError(file, "", "file not found")
    with path.open(encoding="utf-8") as fh:
        line = next((text for i, text in enumerate(fh, 1) if i == int(number)), None)
    if line is None:
        raise ExportError(file, f"line {number}", "no such line")
    try:
        system = json.loads(line)["messages"][0]["content"]
        return parse_system_text(system)
    except (ValueError, KeyError, IndexError, TypeError) as err:
        raise ExportError(file, f"line {number}", f"not a dataset row with a v0 system message ({type(err).__name__})") from None


def _load_home(args: argparse.Namespace) -> tuple[Any, dict[str, dict[str, Any]] | None]:
    ontology, state = _row_home(args.row) if args.row else load_home(args.ontology)
    return ontology, (load_state(args.state) if args.state else state)


def cmd_render_prompt(args: argparse.Namespace) -> int:
    """Print the chat messages (system, user) for one command."""
    ontology, state = _load_home(args)
    print_json(render_messages(ontology, args.command, state))
    return EXIT_OK


def add_render_prompt(sub: Subparsers) -> None:
    """``render-prompt --ontology FILE [--state FILE] --command TEXT``."""
    parser = sub.add_parser("render-prompt", help="print the v0 prompt messages as JSON")
    _add_home_args(parser)
    parser.add_argument("--command", required=True, metavar="TEXT", help="the user's natural-language command")
    parser.set_defaults(func=cmd_render_prompt)


def cmd_check_output(args: argparse.Namespace) -> int:
    """Classify and validate model output read from stdin; exit 0 valid, 1 invalid."""
    ontology, state = _load_home(args)
    verdict = check_output(sys.stdin.buffer.read(), ontology, state)
    print_json(verdict.as_dict())
    return EXIT_OK if verdict.ok else EXIT_INVALID


def add_check_output(sub: Subparsers) -> None:
    """``check-output --ontology FILE [--state FILE]`` (model output on stdin)."""
    parser = sub.add_parser("check-output", help="print the JSON verdict for model output on stdin (exit 0 valid, 1 invalid)")
    _add_home_args(parser)
    parser.set_defaults(func=cmd_check_output)


def cmd_build(args: argparse.Namespace) -> int:
    """Build train/heldout JSONL, card, stats and plots; exit 1 when the plan cannot be met, 2 on bad input or budget."""
    from tqdm import tqdm

    from .budget import BudgetError
    from .build import InconsistentTeacher, InvalidTraining
    from .pipeline import build_dataset

    held = max(1, args.size // 10) if args.heldout_size is None else args.heldout_size
    failure: str | None = None
    code = EXIT_OK
    with tqdm(total=args.size + held, unit="ex", desc="build", file=sys.stderr, disable=args.quiet) as bar:
        try:
            stats = build_dataset(args.export_dir, args.out, seed=args.seed, size=args.size, heldout_size=held, language=args.language,
                                  language_dir=args.language_dir, heldout_export=args.heldout_export, max_length=args.max_length, tick=bar.update)
        except BudgetError as err:
            failure, code = f"error: {args.export_dir}: token budget: {err}", EXIT_BAD_INPUT
        except InvalidTraining as err:
            drawn = "; ".join(f"{split} drawn: " + ", ".join(f"{c} {v['share']:.1%}" for c, v in classes.items()) for split, classes in err.drawn.items())
            failure, code = f"error: {err}" + (f" ({drawn})" if drawn else ""), EXIT_INVALID
        except InconsistentTeacher as err:
            failure, code = f"error: {err}", EXIT_INVALID
    if failure is not None:  # after the progress bar has closed, so the message is not lost inside it
        print(failure, file=sys.stderr)
        return code
    if stats["supplied"]:
        print(f"size: {stats['supplied']}", file=sys.stderr)
    train = stats["train"]
    shares = ", ".join(f"{k} {v['share']:.1%}" for k, v in train["classes"].items())
    choice = stats["max_length_choice"]
    if choice["mode"] == "auto":
        why = "the home fits the plan's budget" if stats["max_length"] == choice["plan"] else f"the plan's {choice['plan']} does not hold it"
        print(f"token budget: {stats['max_length']} (auto: the longest example is {choice['longest_example']} tokens; {why})", file=sys.stderr)
    print(f"wrote {args.out}: train {train['examples']} ({shares}), heldout {stats['heldout']['examples']}, "
          f"tokens p50 {train['tokens']['p50']} p99 {train['tokens']['p99']}, over budget excluded {train['excluded_over_length']['count']}",
          file=sys.stderr)
    return EXIT_OK


def max_length_arg(text: str) -> int | str:
    """``auto`` or a positive number of tokens."""
    if text == "auto":
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: use auto or a number of tokens")
    return int(text)


def add_build(sub: Subparsers) -> None:
    """``build EXPORT_DIR --out OUT_DIR [--seed N] [--size N] [--language en] [--heldout-export DIR] [--max-length N]``."""
    parser = sub.add_parser("build", help="build a v0 training set and held-out set from an export")
    parser.add_argument("export_dir", metavar="EXPORT_DIR", help="a v0 export folder (ontology.json, snapshots.json, manifest.json)")
    parser.add_argument("--out", required=True, metavar="OUT_DIR", help="output folder (replaced atomically)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=2000, help="training examples (default 2000)")
    parser.add_argument("--heldout-size", type=int, default=None, help="held-out examples (default size/10)")
    parser.add_argument("--language", default=None, metavar="CODE[,CODE]",
                        help="the language(s) of the commands, each a folder under protocol/languages (several: one model, equal shares); "
                             "default: the language Home Assistant reported at export time, else en")
    parser.add_argument("--language-dir", default=None, metavar="DIR", help="a folder of language folders of your own (one not shipped yet)")
    parser.add_argument("--heldout-export", metavar="DIR", default=None, help="draw the held-out set from this other home")
    parser.add_argument("--max-length", type=max_length_arg, default="auto", metavar="auto|N",
                        help="token budget per example (Qwen3 vocabulary); auto: the plan's 2048 when the home fits, else the smallest of "
                             f"{', '.join(map(str, AUTO_MAX_LENGTHS[1:]))} that holds the longest example")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_build)


def cmd_label(args: argparse.Namespace) -> int:
    """Print how the teacher reads each sentence and the answer a build would write; exit 1 when a single sentence is not understood."""
    from statewise_protocol import load_export

    from .label import Teacher, describe, read_sentences, state_arg
    from .language import load_language

    export = load_export(args.export_dir)
    if (args.sentence is None) == (args.sentences is None):
        raise ExportError("label", "", 'give one sentence or --sentences FILE (a JSONL of {"text", "state"?})')
    if args.sentences is not None:
        if args.state or args.snapshot:
            raise ExportError("--sentences", "", "each line carries its own state; --state and --snapshot are for one sentence")
        lines = read_sentences(args.sentences)  # every line checked before any output
        teacher = Teacher(export, load_language(args.language))
        for text, state in lines:
            print_json(teacher.label(text, state).as_dict())
        return EXIT_OK
    label = Teacher(export, load_language(args.language)).label(args.sentence, state_arg(export, args.state, args.snapshot))
    if args.json:
        print_json(label.as_dict())
    else:
        print(describe(label))
    return EXIT_OK if label.understood else EXIT_INVALID


def add_label(sub: Subparsers) -> None:
    """``label EXPORT_DIR "sentence" [--state FILE | --snapshot ID] [--json]`` or ``label EXPORT_DIR --sentences FILE``."""
    parser = sub.add_parser("label", help="print how the teacher reads a sentence and the answer a build would write for it")
    parser.add_argument("export_dir", metavar="EXPORT_DIR", help="a v0 export folder")
    parser.add_argument("sentence", nargs="?", default=None, help="the command, as a person would say it")
    state = parser.add_mutually_exclusive_group()
    state.add_argument("--state", metavar="FILE", help="STATE: {entity_id: {state, ..}} or a snapshots.json (its first snapshot)")
    state.add_argument("--snapshot", metavar="ID", help="STATE: the export's snapshot with this id")
    parser.add_argument("--sentences", metavar="FILE", help='a JSONL of {"text", "state"?}: one JSON line per input on stdout, in order')
    parser.add_argument("--json", action="store_true", help="print the JSON line instead of the readable form")
    parser.add_argument("--language", default="en", help="the language the sentences are said in (a folder under protocol/languages)")
    parser.set_defaults(func=cmd_label)


COMMANDS: list[Callable[[Subparsers], None]] = [add_render_prompt, add_check_output, add_build, add_label]


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command in :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="python -m dataset_export", description="Statewise dataset tools (protocol v0).")
    sub = parser.add_subparsers(dest="command_name", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
