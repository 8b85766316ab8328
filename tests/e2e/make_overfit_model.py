"""Build the end-to-end test model: a tiny Qwen3 overfit on a handful of one home's commands.

Run with the trainer environment (``.venv/trainer/bin/python``)::

    python tests/e2e/make_overfit_model.py EXPORT_DIR OUT_DIR

From EXPORT_DIR (a live Home Assistant export) it builds the dataset with
``dataset_export``, picks a few training rows that need no STATE and whose one
action changes the live state, trains a tiny Qwen3 on them until greedy
decoding reproduces them, and exports it with ``trainer.export`` (the merged
model a server loads). OUT_DIR gets ``export/merged/`` and ``cases.json``:
per command, the expected answer, whether greedy decoding reproduced it, and
the prompt token ids that training used (what a server must render too).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import statewise_protocol as sp
from statewise_protocol.simulate import apply_calls
from transformers import TrainerCallback

from dataset_export.pipeline import build_dataset
from trainer.config import make_config
from trainer.data import read_rows, write_rows
from trainer.evaluate import generate
from trainer.export import export
from trainer.tiny import save_tiny_base
from trainer.train import build_trainer

HANDFUL = 4
SEEDS = 4


def pick_rows(rows: list[dict], export: sp.Export, already: list[dict]) -> list[dict]:
    """``already`` plus rows with the home's own prompt (no variant, no injected name, no STATE) whose one non-sensitive call changes the live snapshot."""
    live = export.snapshots[0].states
    home_system = sp.system_text(export.ontology)
    picked: dict[str, dict] = {sp.call_entity_ids(sp.check_output(r["messages"][2]["content"], export.ontology).calls[0])[0]: r for r in already}
    for row in sorted(rows, key=lambda r: r["id"]):
        system, _command, answer = (m["content"] for m in row["messages"])
        if row["output_class"] != "action" or row["num_calls"] != 1 or system != home_system:
            continue  # an ontology variant's or an injected row's prompt is not the live home's, nor is one with STATE
        verdict = sp.check_output(answer, export.ontology)
        if verdict.kind != sp.KIND_ACTION or verdict.calls[0].name not in ("light_power", "switch_power", "lock_control", "fan_power"):
            continue
        eid = sp.call_entity_ids(verdict.calls[0])[0]
        if sp.is_sensitive(verdict.calls[0], export.ontology.entities[eid]["device_class"]):
            continue  # the agent blocks these by default
        if eid in picked or apply_calls(live, verdict.calls, export.ontology) == live:
            continue
        picked[eid] = row
        if len(picked) == HANDFUL:
            break
    return list(picked.values())


class _StopWhenReproduced(TrainerCallback):
    """Every 50 steps, stop once greedy decoding reproduces every picked row (the home's export varies between runs)."""

    def __init__(self, trainer: object, rows: list[dict]) -> None:
        self.trainer, self.rows = trainer, rows

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % 50:
            return control
        model = self.trainer.model.eval()
        outputs = generate(model, self.trainer.processing_class, [r["messages"][:2] for r in self.rows], max_new_tokens=64)
        model.train()
        if all(o == r["messages"][2]["content"] for o, r in zip(outputs, self.rows, strict=True)):
            control.should_training_stop = True
        return control


def main(argv: list[str] | None = None) -> int:
    """Build, train, export; exit 1 if greedy decoding reproduces no command."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--steps", type=int, default=400, help="at most this many steps (it stops once every command is reproduced)")
    args = parser.parse_args(argv)
    out = Path(args.out_dir)
    home = sp.load_export(args.export_dir)
    rows: list[dict] = []
    for seed in range(SEEDS):  # the live export varies between runs: a seed may draw too few commands that change it
        with tempfile.TemporaryDirectory() as tmp:
            build_dataset(args.export_dir, Path(tmp) / "dataset", seed=seed, size=400)
            rows = pick_rows(read_rows(Path(tmp) / "dataset" / "train.jsonl"), home, rows)
        if len(rows) == HANDFUL:
            break
    if len(rows) < 2:
        raise SystemExit(f"only {len(rows)} usable rows in {SEEDS} datasets")
    data = write_rows(rows, out / "handful.jsonl")
    base = save_tiny_base(rows, out / "tiny-base", vocab_size=768, hidden=64)
    cfg = make_config(base_model=str(base), output_dir=str(out / "train"), dataset=str(data), max_length=2048, gradient_accumulation_steps=1,
                      max_steps=args.steps, learning_rate=1e-2, lora_dropout=0.0, lr_scheduler_type="constant", logging_steps=5,
                      save_steps=10_000, disable_tqdm=True, max_new_tokens=64)  # fmt: skip
    trainer = build_trainer(cfg, rows)
    trainer.add_callback(_StopWhenReproduced(trainer, rows))
    trainer.train()
    trainer.save_model(cfg.training.output_dir)
    trainer.processing_class.save_pretrained(cfg.training.output_dir)
    model = trainer.model.eval().merge_and_unload()
    tokenizer = trainer.processing_class
    outputs = generate(model, tokenizer, [r["messages"][:2] for r in rows], max_new_tokens=64)
    exported = export(out / "train", out / "export", export_dir=args.export_dir)
    cases = []
    for row, output in zip(rows, outputs, strict=True):
        prompt_ids = tokenizer.apply_chat_template(row["messages"][:2], add_generation_prompt=True, tokenize=True, return_dict=True,
                                                   **sp.CHAT_TEMPLATE_KWARGS)["input_ids"]  # fmt: skip
        system, command, expected = (m["content"] for m in row["messages"])
        cases.append({"command": command, "expected": expected, "reproduced": output == expected, "system": system, "prompt_ids": list(prompt_ids)})
    (out / "cases.json").write_text(json.dumps({"model_dir": str(exported / "merged"), "cases": cases}, indent=2) + "\n", encoding="utf-8")
    reproduced = sum(c["reproduced"] for c in cases)
    print(f"overfit model: {reproduced} of {len(cases)} commands reproduced greedily; model at {exported / 'merged'}")
    return 0 if reproduced else 1


if __name__ == "__main__":
    sys.exit(main())
