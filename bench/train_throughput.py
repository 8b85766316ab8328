"""Training throughput of the real TRL/PEFT path: packing on and off, and a bare PEFT loop, in the same run.

For each mode it builds the trainer (``trainer.train.build_trainer``, so every speed flag of the trainer
applies: ``--attn``, ``--checkpointing``, ``--liger``, ``--packed-length``, ``--tokens-per-step``), walks one
epoch of its dataloader to count real tokens and token slots (a slot is a position in a batch tensor; padding
fills the difference), then trains a few optimizer steps and reports:

- ``tokens_per_s``: real (non-padding) tokens trained per second (TRL's ``num_tokens`` over wall time of the
  timed steps, after ``--warmup`` untimed steps);
- ``mfu``: model FLOPs utilisation, ``tokens_per_s x FLOPs per token`` over the device's peak
  (``trainer.speed.train_flops_per_token``: 4 FLOPs per projection weight per token for a LoRA step on a frozen
  base, plus attention over each example's own tokens; recomputation not counted). The peak: ``--peak-tflops``,
  else the table ``PEAK_BF16_TFLOPS`` by device name, else a matmul measured here (the source is printed);
- ``vs_bare``: tokens/s over a bare PEFT loop (``peft.get_peft_model`` with the same LoRA, AdamW, forward with
  ``labels``, backward, step; no TRL, no checkpointing unless ``--bare-checkpointing``) on a fresh copy of the
  same model and the packed mode's own rows, timed the same way: the reference the defaults must match;
- ``packing_efficiency``: real tokens / token slots over the epoch;
- ``bin_fill``: with packing, real tokens / (packed rows x row length);
- ``peak_mem_gib`` on CUDA; the attention implementation and activation checkpointing each mode ran with.

Packing on: padding-free BFD rows (``--packed-length``, default ``max_length``), batch 1, accumulating
``--packed-accumulation`` rows per optimizer step (or ``--tokens-per-step``). Packing off: padded batches of
``--unpacked-batch-size`` examples, one per optimizer step (the plan's 8 examples per step).

Shapes: ``auto`` (default: ``qwen3-1.7b`` on a CUDA GPU, else ``tiny``), ``tiny`` (2-layer Qwen3, small
vocabulary trained on the rows), ``qwen3-1.7b`` or ``qwen3-4b`` (random weights of the real shape, real Qwen3
vocabulary from ``dataset_export.tokens``; bf16 where the GPU has it). Random weights time the same as trained ones.

Rows: ``--dataset train.jsonl`` or the demo fixture rows repeated ``--examples`` times.
``measure()`` returns the numbers for ``bench/run_all.py``; ``bench/gpu_check.sh`` runs the issue-20 table.

Run: ``.venv/trainer/bin/python bench/train_throughput.py [--shape tiny|qwen3-1.7b|qwen3-4b] [--steps N] [--dataset train.jsonl]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statewise_protocol import PLAN_MAX_LENGTH

from trainer.config import make_config
from trainer.data import read_rows
from trainer.fixtures import demo_rows

QWEN3_1_7B = dict(hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8,
                  head_dim=128, vocab_size=151936, tie_word_embeddings=True, max_position_embeddings=40960, rope_theta=1000000.0)  # fmt: skip
QWEN3_4B = dict(QWEN3_1_7B, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36, num_attention_heads=32)
SHAPES = {"qwen3-1.7b": QWEN3_1_7B, "qwen3-4b": QWEN3_4B}
# Dense bf16 tensor-core peaks from the vendors' data sheets, TFLOP/s, by a part of torch.cuda.get_device_name();
# the first match wins (so "H100 PCIe" before "H100"). --peak-tflops overrides.
PEAK_BF16_TFLOPS = (("H200", 989.4), ("H100 PCIe", 756.5), ("H100 NVL", 835.5), ("H100", 989.4), ("GH200", 989.4), ("B200", 2250.0),
                    ("A100", 312.0), ("L40S", 362.1), ("L4", 121.0), ("A10", 125.0))  # fmt: skip


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
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r} (tiny, {', '.join(SHAPES)})")
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from dataset_export.tokens import qwen3_tokenizer
    from trainer.config import native_bf16
    from trainer.template import apply_statewise_template

    def real_shape() -> tuple[Any, Any]:
        tok = apply_statewise_template(qwen3_tokenizer())
        dtype = torch.bfloat16 if native_bf16() else torch.float32
        eos = tok.convert_tokens_to_ids("<|im_end|>")
        cfg = Qwen3Config(**SHAPES[shape], architectures=["Qwen3ForCausalLM"], eos_token_id=eos, pad_token_id=tok.pad_token_id)
        torch.manual_seed(0)
        with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
            model = Qwen3ForCausalLM(cfg).to(dtype)
        return model, tok

    return real_shape


def _count(trainer: Any, row_length: int, keep: int = 0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Token accounting over one epoch of the trainer's dataloader, and its first ``keep`` batches (for the bare loop)."""
    real = slots = rows = 0
    kept: list[dict[str, Any]] = []
    for batch in trainer.get_train_dataloader():
        ids = batch["input_ids"]
        slots += ids.numel()
        rows += ids.shape[0]
        real += int(batch["attention_mask"].sum()) if "attention_mask" in batch else ids.numel()
        if len(kept) < keep:
            kept.append({k: v.detach().cpu() for k, v in batch.items() if k in ("input_ids", "position_ids", "attention_mask", "labels")})
    efficiency, fill = round(real / slots, 4), round(real / (rows * row_length), 4)
    return {"real_tokens": real, "token_slots": slots, "rows": rows, "packing_efficiency": efficiency, "bin_fill": fill}, kept


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _free(*objects: Any) -> None:
    """Drop models between modes so the next one has the whole card."""
    import gc

    import torch

    del objects
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


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


class Flags(NamedTuple):
    """The trainer's speed flags as the bench passes them to every mode (a NamedTuple: the module loads without an import name)."""

    attn: str = "sdpa"
    checkpointing: str = "default"  # default: the bench's own (on for a real shape on CUDA, off for tiny), or true/false/auto
    liger: bool = False
    packed_length: int = 0
    tokens_per_step: int = 0


def _checkpointing(flags: Flags, gpu: bool, tiny: bool) -> str | bool:
    return (gpu and not tiny) if flags.checkpointing == "default" else flags.checkpointing


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
    flags: Flags | None = None,
    keep: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]], Any, list[int]]:
    """One mode: token accounting over an epoch, then ``warmup + steps`` optimizer steps, the last ``steps`` timed.

    Returns the figures, the first ``keep`` batches of the epoch, the model's config and the examples' token lengths.
    """
    import torch

    from trainer.train import build_trainer

    flags = flags or Flags()
    model, tok = factory()
    gpu = torch.cuda.is_available()
    extra = {"packed_length": flags.packed_length, "tokens_per_step": flags.tokens_per_step} if packing else {}
    cfg = make_config(output_dir=tempfile.mkdtemp(prefix="bench-run-"), max_length=max_length, packing=packing, max_steps=warmup + steps,
                      per_device_train_batch_size=1 if packing else unpacked_batch_size, gradient_accumulation_steps=packed_accumulation if packing else 1,
                      logging_steps=1, save_steps=10**9, disable_tqdm=True, activation_checkpointing=_checkpointing(flags, gpu, tiny),
                      attn_implementation=flags.attn, use_liger_kernel=flags.liger, **extra)  # fmt: skip
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    trainer = build_trainer(cfg, rows, model=model, tokenizer=tok)
    choices = trainer.statewise_speed
    counts, kept = _count(trainer, choices["row_length"], keep)
    clock = _step_clock()
    trainer.add_callback(clock)
    trainer.train()
    seen = {h["step"]: h["num_tokens"] for h in trainer.state.log_history if "num_tokens" in h}
    last = max(seen)
    tokens, seconds = seen[last] - seen.get(warmup, 0), clock.ends[last] - clock.ends[warmup]
    out = {"packing": packing, "batch_size": cfg.training.per_device_train_batch_size, "accumulation": cfg.training.gradient_accumulation_steps,
           "row_length": choices["row_length"], "steps": steps, "warmup_steps": warmup, **counts,
           "timed_tokens": int(tokens), "seconds": round(seconds, 3), "tokens_per_s": round(tokens / seconds, 1),
           "attention": choices["attention"]["implementation"], "checkpointing": choices["activation_checkpointing"]["on"],
           "liger": choices["liger_kernel"]["on"], "estimate_gib": choices["activation_checkpointing"]["estimate_gib"]}  # fmt: skip
    if not packing:
        out.pop("bin_fill")
    if gpu:
        out["peak_mem_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    config, lengths = trainer.model.get_base_model().config, trainer.statewise_lengths
    _free(trainer, model)
    return out, kept, config, lengths


def measure_bare(
    batches: list[dict[str, Any]], *, factory: Callable[[], tuple[Any, Any]], steps: int, accumulation: int, warmup: int = 1,
    checkpointing: bool = False, attn: str = "sdpa",
) -> dict[str, Any]:  # fmt: skip
    """A bare PEFT loop on ``batches``: the reference the trainer's path is measured against.

    The same LoRA as the trainer (``trainer.train.lora_config``), AdamW at the plan's learning rate,
    ``model(**batch).loss.backward()``, a step every ``accumulation`` batches; no TRL.
    """
    import torch
    from peft import get_peft_model

    from trainer.config import make_config
    from trainer.speed import choose_attention
    from trainer.train import lora_config

    model, _tok = factory()
    implementation = choose_attention(attn)[0]
    if model.config._attn_implementation != implementation:
        model.set_attn_implementation(implementation)
    model = get_peft_model(model, lora_config(make_config().model))
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    device = next(model.parameters()).device
    bf16 = device.type == "cuda" and next(model.get_base_model().parameters()).dtype == torch.bfloat16
    tokens, start = 0, 0.0
    for step in range(warmup + steps):
        if step == warmup:
            _sync()
            start = time.perf_counter()
        for index in range(step * accumulation, (step + 1) * accumulation):
            batch = batches[index % len(batches)]  # past one epoch, the next epoch (as the trainer does)
            inputs = {k: v.to(device) for k, v in batch.items()}
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = model(**inputs).loss / accumulation
            loss.backward()
            if step >= warmup:
                mask = inputs.get("attention_mask")
                tokens += int(mask.sum()) if mask is not None else inputs["input_ids"].numel()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    _sync()
    seconds = time.perf_counter() - start
    out = {"batch_size": int(batches[0]["input_ids"].shape[0]), "accumulation": accumulation, "steps": steps, "checkpointing": checkpointing,
           "attention": implementation, "timed_tokens": tokens, "seconds": round(seconds, 3), "tokens_per_s": round(tokens / seconds, 1)}  # fmt: skip
    _free(model, optimizer)
    return out


def peak_flops(device: str, override_tflops: float = 0.0) -> tuple[float, str]:
    """The device's peak FLOP/s for MFU and where it comes from: the override, the data-sheet table, or a matmul timed here."""
    if override_tflops > 0:
        return override_tflops * 1e12, "--peak-tflops"
    for part, tflops in PEAK_BF16_TFLOPS:
        if part.lower() in device.lower():
            return tflops * 1e12, f"bf16 data sheet ({part})"
    return matmul_flops(), "matmul measured here (no data-sheet peak known)"


def matmul_flops(size: int = 1024, seconds: float = 0.3) -> float:
    """FLOP/s of square matmuls in the training dtype of this device, best of a short loop."""
    import torch

    cuda = torch.cuda.is_available()
    dtype = torch.bfloat16 if cuda else torch.float32
    a = torch.randn(size, size, dtype=dtype, device="cuda" if cuda else "cpu")
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        _sync()
        t = time.perf_counter()
        a @ a
        _sync()
        best = max(best, 2 * size**3 / max(time.perf_counter() - t, 1e-9))
    return best


def _mean_context(lengths: list[int]) -> float:
    """Earlier tokens of the same example a token attends to, on average over all tokens ((n + 1) / 2 for one example)."""
    return sum(n * (n + 1) / 2 for n in lengths) / max(1, sum(lengths))


def measure(
    shape: str = "auto",
    steps: int = 6,
    examples: int = 48,
    dataset: str = "",
    max_length: int = PLAN_MAX_LENGTH,
    unpacked_batch_size: int = 8,
    packed_accumulation: int = 4,
    warmup: int = 1,
    flags: Flags | None = None,
    peak_tflops: float = 0.0,
    bare_checkpointing: bool = False,
) -> dict[str, Any]:
    """Packing on and off and the bare PEFT loop on the same rows; tokens/s, MFU and the ratios."""
    import torch

    from trainer.speed import ModelShape, mfu, train_flops_per_token

    flags = flags or Flags()
    if shape == "auto":
        shape = "qwen3-1.7b" if torch.cuda.is_available() else "tiny"
    rows = _rows(dataset, examples)
    factory = _factory(shape, rows)
    kwargs = {"factory": factory, "tiny": shape == "tiny", "steps": steps, "max_length": max_length, "unpacked_batch_size": unpacked_batch_size,
              "packed_accumulation": packed_accumulation, "warmup": warmup, "flags": flags}  # fmt: skip
    packed, kept, config, lengths = measure_mode(True, rows, keep=10**9, **kwargs)
    unpacked, *_ = measure_mode(False, rows, **kwargs)
    bare = measure_bare(kept, factory=factory, steps=steps, accumulation=packed["accumulation"], warmup=warmup, checkpointing=bare_checkpointing,
                        attn=flags.attn)  # fmt: skip
    bare["row_length"] = packed["row_length"]  # the packed mode's rows
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    peak, peak_source = peak_flops(device, peak_tflops)
    flops = train_flops_per_token(ModelShape.of(config), _mean_context(lengths))
    for m in (packed, unpacked, bare):
        m["mfu"] = round(mfu(m["tokens_per_s"], flops, peak), 4)
    for m in (packed, unpacked):
        m["vs_bare"] = round(m["tokens_per_s"] / bare["tokens_per_s"], 2)
    return {"shape": shape, "device": device, "torch": torch.__version__, "examples": len(rows), "max_length": max_length,
            "flags": flags._asdict(), "flops_per_token": round(flops), "peak_tflops": float(f"{peak / 1e12:.4g}"), "peak_source": peak_source,
            "packed": packed, "unpacked": unpacked, "bare": bare,
            "speedup": round(packed["tokens_per_s"] / unpacked["tokens_per_s"], 2)}  # fmt: skip


COLUMNS = ("mode", "batch", "row", "tokens/s", "MFU", "vs bare", "efficiency", "bin fill", "peak GiB", "attention", "ckpt")


def format_report(report: dict[str, Any]) -> str:
    """A table: one line per mode, every column filled ('-' where a figure does not apply)."""
    flags = report["flags"]
    lines = [f"train throughput: {report['shape']} on {report['device']} (torch {report['torch']}), {report['examples']} examples, "
             f"max_length {report['max_length']}, flags {', '.join(f'{k}={v}' for k, v in flags.items())}",
             f"MFU against {report['peak_tflops']} TFLOP/s ({report['peak_source']}), {report['flops_per_token'] / 1e9:.3g} GFLOP per token",
             "".join(f"{c:>11}" if i else f"{c:<9}" for i, c in enumerate(COLUMNS))]  # fmt: skip
    for name in ("packed", "unpacked", "bare"):
        m = report[name]
        cells = [name, f"{m['batch_size']}x{m['accumulation']}", m.get("row_length", "-"), m["tokens_per_s"], f"{m['mfu']:.2%}",
                 m.get("vs_bare", "1.0"), m.get("packing_efficiency", "-"), m.get("bin_fill", "-"), m.get("peak_mem_gib", "-"), m["attention"],
                 "on" if m["checkpointing"] else "off"]  # fmt: skip
        lines.append("".join(f"{c!s:>11}" if i else f"{c!s:<9}" for i, c in enumerate(cells)))
    lines.append(f"packed / unpacked tokens/s: {report['speedup']}x; packed / bare PEFT loop: {report['packed']['vs_bare']}x")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """The bench's flags (``bench/gpu_check.sh`` checks its commands against them)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", default="auto", choices=["auto", "tiny", *SHAPES], help="auto: qwen3-1.7b on a CUDA GPU, else tiny")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--examples", type=int, default=48)
    p.add_argument("--dataset", default="")
    p.add_argument("--max-length", type=int, default=PLAN_MAX_LENGTH)
    p.add_argument("--unpacked-batch-size", type=int, default=8)
    p.add_argument("--packed-accumulation", type=int, default=4, help="packed rows per optimizer step")
    p.add_argument("--warmup", type=int, default=1, help="untimed optimizer steps first")
    p.add_argument("--attn", default="sdpa", help="the trainer's --attn_implementation (sdpa, flex_attention, flash_attention_2, auto, ...)")
    p.add_argument("--checkpointing", default="default", choices=["default", "true", "false", "auto"],
                   help="the trainer's --activation_checkpointing (default: on for a real shape on CUDA, off for tiny)")
    p.add_argument("--liger", action="store_true", help="the trainer's --use_liger_kernel")
    p.add_argument("--packed-length", type=int, default=0, help="the trainer's --packed_length (0: max_length)")
    p.add_argument("--tokens-per-step", type=int, default=0, help="the trainer's --tokens_per_step (packed mode)")
    p.add_argument("--bare-checkpointing", action="store_true", help="activation checkpointing in the bare PEFT loop too")
    p.add_argument("--peak-tflops", type=float, default=0.0, help="the device's peak for MFU (default: data-sheet table, else measured)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """CLI."""
    args = parser().parse_args(argv)
    flags = Flags(args.attn, args.checkpointing, args.liger, args.packed_length, args.tokens_per_step)
    report = measure(args.shape, args.steps, args.examples, args.dataset, args.max_length, args.unpacked_batch_size, args.packed_accumulation,
                     args.warmup, flags, args.peak_tflops, args.bare_checkpointing)  # fmt: skip
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
