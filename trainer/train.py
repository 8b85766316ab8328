"""LoRA SFT of a dense Qwen3 with TRL's SFTTrainer: loss on the answer only, packed, seeded, resumable."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from statewise_protocol import AUTO_MAX_LENGTHS

from .config import AUTO, Config, StatewiseModelConfig, check_plan, resolve_max_length
from .data import build_dataset, file_hash, measure, read_rows

log = logging.getLogger("trainer")
ADAPTER_DIR = "adapter"


def lora_config(model: StatewiseModelConfig) -> Any:
    """PEFT LoRA from TRL's ``ModelConfig`` (``trl.get_peft_config``), after the plan's guards.

    The plan's Target Modules section is strict ("applied to the following
    modules only", "bias terms are not trained"): any other module set or
    bias setting is refused, whatever a flag or config file says.
    """
    from trl import get_peft_config

    check_plan(model)
    peft = get_peft_config(model)
    peft.bias = model.lora_bias
    return peft


def build_trainer(cfg: Config, rows: list[dict[str, Any]], *, model: Any = None, tokenizer: Any = None) -> Any:
    """An SFTTrainer ready to train; loads the base model unless ``model``/``tokenizer`` are given."""
    import torch
    from transformers import set_seed
    from trl import SFTTrainer

    from .model import check_architecture, load_base_model, load_tokenizer
    from .speed import choose_attention, describe, plan

    peft_config = lora_config(cfg.model)  # refuses a non-plan LoRA before anything loads
    args = cfg.training
    set_seed(args.seed)
    tokenizer = tokenizer or load_tokenizer(cfg.base_model)
    lengths = measure(rows, tokenizer, AUTO_MAX_LENGTHS[-1] if args.max_length == AUTO else args.max_length)
    budget = resolve_max_length(args.max_length, cfg.script.dataset, max(lengths))  # the longest example allowed, never truncated
    attention = choose_attention(cfg.model.attn_implementation or "sdpa")
    if model is None:
        model = load_base_model(cfg.base_model, dtype=torch.bfloat16 if args.bf16 else torch.float32, attn_implementation=attention[0])
    elif model.config._attn_implementation != attention[0]:
        model.set_attn_implementation(attention[0])
    check_architecture(model.config)
    choices = plan(args, model.config, attention=attention, budget=budget, lora_rank=cfg.model.lora_r)  # TRL's max_length: the row length
    for line in describe(choices):
        log.info(line)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=build_dataset(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    trainer.statewise_lengths = lengths
    trainer.statewise_budget = budget
    trainer.statewise_speed = choices
    return trainer


def _dataset_stats(dataset: str) -> dict[str, Any]:
    """The builder's ``stats.json`` beside the dataset (empty when there is none)."""
    stats = Path(dataset).parent / "stats.json"
    return json.loads(stats.read_text(encoding="utf-8")) if stats.is_file() else {}


def _home_hash(dataset: str) -> str | None:
    """The home export's content hash, from the builder's ``stats.json`` beside the dataset."""
    return _dataset_stats(dataset).get("export", {}).get("content_hash")


def _languages(dataset: str) -> list[str]:
    """The languages of the dataset's commands (``stats.json``; English for a dataset from before languages)."""
    return str(_dataset_stats(dataset).get("language") or "en").split(",")


def _resume_arg(cfg: Config) -> str | bool | None:
    resume = cfg.training.resume_from_checkpoint
    if resume == "auto":
        from transformers.trainer_utils import get_last_checkpoint

        out = str(cfg.training.output_dir)
        return get_last_checkpoint(out) if Path(out).is_dir() else None
    return resume or None


def train(cfg: Config, *, model: Any = None, tokenizer: Any = None) -> dict[str, Any]:
    """Train, save the adapter (+ tokenizer) under ``output_dir/adapter``, return a summary."""
    dataset = cfg.script.dataset
    if not dataset:
        raise ValueError("no --dataset given (a train.jsonl from `python -m dataset_export build`)")
    rows = read_rows(dataset)
    requested = cfg.training.max_length
    trainer = build_trainer(cfg, rows, model=model, tokenizer=tokenizer)
    lengths = trainer.statewise_lengths
    budget = trainer.statewise_budget
    log.info("training on %d examples (%d tokens, longest %d of max %d)", len(rows), sum(lengths), max(lengths), budget)
    resume = _resume_arg(cfg)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - start
    out = Path(str(cfg.training.output_dir))
    trainer.save_model(str(out / ADAPTER_DIR))  # adapter + tokenizer, main process only under accelerate
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    trained = max((h["num_tokens"] for h in trainer.state.log_history if "num_tokens" in h), default=None)
    summary = {
        "base_model": cfg.base_model,
        "dataset": str(dataset),
        "dataset_hash": file_hash(dataset),
        "export_content_hash": _home_hash(dataset),
        "languages": _languages(dataset),
        "examples": len(rows),
        "tokens": sum(lengths),
        "max_tokens": max(lengths),
        "max_length": budget,
        "max_length_requested": requested,
        "global_step": trainer.state.global_step,
        "train_loss": result.training_loss,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "seconds": round(seconds, 2),
        "trained_tokens": int(trained) if trained is not None else None,
        "tokens_per_s": round(trained / seconds, 1) if trained and seconds > 0 and not resume else None,  # resumed: tokens before it count too
        "speed": trainer.statewise_speed,
        "resumed_from": resume if isinstance(resume, str) else None,
        "config": cfg.as_dict(),
    }
    if trainer.is_world_process_zero():
        (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    log.info("adapter saved to %s", out / ADAPTER_DIR)
    return summary
