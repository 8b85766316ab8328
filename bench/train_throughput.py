"""Training throughput of the real TRL/PEFT path, packing on and off in the same run.

For each mode it builds the trainer (``trainer.train.build_trainer``), walks one
epoch of its dataloader to count real tokens and token slots (a slot is a
position in a batch tensor; padding fills the difference), then trains a few
optimizer steps and reports:

- ``tokens_per_s``: real (non-padding) tokens trained per second (TRL's
  ``num_tokens`` over wall time of the timed steps, after ``--warmup`` untimed steps);
- ``packing_efficiency``: real tokens / token slots over the epoch;
- ``bin_fill``: with packing, real tokens / (packed rows x max_length);
- ``peak_mem_gib`` on CUDA.

Packing on: padding-free BFD rows of up to ``max_length``, batch 1, accumulating
``--packed-accumulation`` rows per optimizer step. Packing off: padded batches of
``--unpacked-batch-size`` examples, one per optimizer step (the plan's 8 examples
per step). Both modes then put a similar number of tokens into each optimizer step.

Shapes: ``auto`` (default: ``qwen3-1.7b`` on a CUDA GPU, else ``tiny``), ``tiny``
(2-layer Qwen3, small vocabulary trained on the rows) or ``qwen3-1.7b`` (random
weights of Qwen3-1.7B's real shape, real Qwen3 vocabulary from
``dataset_export.tokens``; bf16, gradient checkpointing). Random weights time the
same as trained ones.

Rows: ``--dataset train.jsonl`` or the demo fixture rows repeated ``--examples`` times.
``measure()`` returns the numbers for ``bench/run_all.py``.

Run: ``.venv/trainer/bin/python bench/train_throughput.py [--shape tiny|qwen3-1.7b] [--steps N] [--dataset train.jsonl]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statewise_protocol import PLAN_MAX_LENGTH

from trainer.config import make_config
from trainer.data import read_rows
from trainer.fixtures import demo_rows

QWEN3_1_7B = dict(hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8,
                  head_dim=128, vocab_size=151936, tie_word_embeddings=True, max_position_embeddings=40960, rope_theta=1000000.0)  # fmt: skip


def _rows(dataset: str, examples: int) -> list[dict[str, Any]]:
    if dataset:
        return read_rows(dataset)[:examples] if examples else read_rows(dataset)
    base = demo_rows()
    return [{**base[i % len(base)], "id": f"bench-{i}"} for i in range(examples)]


def _factory(shape: str, rows: list[dict[str, Any]]) -> Callable[[], tuple[Any, Any]]:
    """A function giving a fresh ``(model, tokenizer)`` of ``shape`` (the tiny base is built once)."""
    import torch

    if shape == "tiny":
        from trainer.model import load_base_model, load_tokenizer
        from trainer.tiny import save_tiny_base

        folder = str(save_tiny_base(rows, tempfile.mkdtemp(prefix="bench-tiny-"), vocab_size=512))
        return lambda: (load_base_model(folder, dtype=torch.float32), load_tokenizer(folder))
    if shape != "qwen3-1.7b":
        raise ValueError(f"unknown shape {shape!r} (tiny or qwen3-1.7b)")
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from dataset_export.tokens import qwen3_tokenizer
    from trainer.config import native_bf16
    from trainer.template import apply_statewise_template

    def real_shape() -> tuple[Any, Any]:
        tok = apply_statewise_template(qwen3_tokenizer())
        dtype = torch.bfloat16 if native_bf16() else torch.float32
        eos = tok.convert_tokens_to_ids("<|im_end|>")
        cfg = Qwen3Config(**QWEN3_1_7B, architectures=["Qwen3ForCausalLM"], eos_token_id=eos, pad_token_id=tok.pad_token_id)
        torch.manual_seed(0)
        with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
            model = Qwen3ForCausalLM(cfg).to(dtype)
        return model, tok

    return real_shape


def _count(trainer: Any, max_length: int) -> dict[str, Any]:
    real = slots = rows = 0
    for batch in trainer.get_train_dataloader():
        ids = batch["input_ids"]
        slots += ids.numel()
        rows += ids.shape[0]
        real += int(batch["attention_mask"].sum()) if "attention_mask" in batch else ids.numel()
    efficiency, fill = round(real / slots, 4), round(real / (rows * max_length), 4)
    return {"real_tokens": real, "token_slots": slots, "rows": rows, "packing_efficiency": efficiency, "bin_fill": fill}


def _step_clock() -> Any:
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        """Wall time at the end of every optimizer step."""

        def __init__(self) -> None:
            self.ends: dict[int, float] = {}

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if torch_cuda_sync is not None:
                torch_cuda_sync()
            self.ends[state.global_step] = time.perf_counter()

    import torch

    torch_cuda_sync = torch.cuda.synchronize if torch.cuda.is_available() else None
    return StepClock()


def measure_mode(
    packing: bool,
    rows: list[dict[str, Any]],
    *,
    factory: Callable[[], tuple[Any, Any]],
    tiny: bool,
    steps: int,
    max_length: int,
    unpacked_batch_size: int,
    packed_accumulation: int = 4,
    warmup: int = 1,
) -> dict[str, Any]:
    """One mode: token accounting over an epoch, then ``warmup + steps`` optimizer steps, the last ``steps`` timed."""
    import torch

    from trainer.train import build_trainer

    model, tok = factory()
    gpu = torch.cuda.is_available()
    cfg = make_config(output_dir=tempfile.mkdtemp(prefix="bench-run-"), max_length=max_length, packing=packing, max_steps=warmup + steps,
                      per_device_train_batch_size=1 if packing else unpacked_batch_size, gradient_accumulation_steps=packed_accumulation if packing else 1,
                      logging_steps=1, save_steps=10**9, disable_tqdm=True, activation_checkpointing=gpu and not tiny)  # fmt: skip
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    trainer = build_trainer(cfg, rows, model=model, tokenizer=tok)
    counts = _count(trainer, max_length)
    clock = _step_clock()
    trainer.add_callback(clock)
    trainer.train()
    seen = {h["step"]: h["num_tokens"] for h in trainer.state.log_history if "num_tokens" in h}
    last = max(seen)
    tokens, seconds = seen[last] - seen.get(warmup, 0), clock.ends[last] - clock.ends[warmup]
    out = {"packing": packing, "batch_size": cfg.training.per_device_train_batch_size, "accumulation": cfg.training.gradient_accumulation_steps,
           "steps": steps, "warmup_steps": warmup, **counts,
           "timed_tokens": int(tokens), "seconds": round(seconds, 3), "tokens_per_s": round(tokens / seconds, 1)}  # fmt: skip
    if not packing:
        out.pop("bin_fill")
    if gpu:
        out["peak_mem_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return out


def measure(
    shape: str = "auto",
    steps: int = 6,
    examples: int = 48,
    dataset: str = "",
    max_length: int = PLAN_MAX_LENGTH,
    unpacked_batch_size: int = 8,
    packed_accumulation: int = 4,
    warmup: int = 1,
) -> dict[str, Any]:
    """Packing on and off on the same rows; returns both modes and the speed-up."""
    import torch

    if shape == "auto":
        shape = "qwen3-1.7b" if torch.cuda.is_available() else "tiny"
    rows = _rows(dataset, examples)
    kwargs = {"factory": _factory(shape, rows), "tiny": shape == "tiny", "steps": steps, "max_length": max_length, "unpacked_batch_size": unpacked_batch_size,
              "packed_accumulation": packed_accumulation, "warmup": warmup}  # fmt: skip
    modes = [measure_mode(p, rows, **kwargs) for p in (True, False)]
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    return {"shape": shape, "device": device, "examples": len(rows), "max_length": max_length, "packed": modes[0], "unpacked": modes[1],
            "speedup": round(modes[0]["tokens_per_s"] / modes[1]["tokens_per_s"], 2)}  # fmt: skip


def format_report(report: dict[str, Any]) -> str:
    """A small table."""
    lines = [f"train throughput: {report['shape']} on {report['device']}, {report['examples']} examples, max_length {report['max_length']}",
             f"{'mode':<10}{'batch':>8}{'tokens/s':>12}{'efficiency':>12}{'bin fill':>10}{'peak GiB':>10}"]  # fmt: skip
    for name in ("packed", "unpacked"):
        m = report[name]
        fill, mem = m.get("bin_fill", "-"), m.get("peak_mem_gib", "-")
        batch = f"{m['batch_size']}x{m['accumulation']}"
        lines.append(f"{name:<10}{batch:>8}{m['tokens_per_s']:>12}{m['packing_efficiency']:>12}{fill:>10}{mem:>10}")
    lines.append(f"packed / unpacked tokens/s: {report['speedup']}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="auto", choices=["auto", "tiny", "qwen3-1.7b"], help="auto: qwen3-1.7b on a CUDA GPU, else tiny")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--examples", type=int, default=48)
    parser.add_argument("--dataset", default="")
    parser.add_argument("--max-length", type=int, default=PLAN_MAX_LENGTH)
    parser.add_argument("--unpacked-batch-size", type=int, default=8)
    parser.add_argument("--packed-accumulation", type=int, default=4, help="packed rows per optimizer step")
    parser.add_argument("--warmup", type=int, default=1, help="untimed optimizer steps first")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    report = measure(args.shape, args.steps, args.examples, args.dataset, args.max_length, args.unpacked_batch_size, args.packed_accumulation, args.warmup)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
