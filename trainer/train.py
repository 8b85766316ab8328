"""LoRA SFT of a dense Qwen3 with TRL's SFTTrainer: loss on the answer only, packed, seeded, resumable."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from .config import LORA_TARGET_MODULES, TrainConfig
from .data import build_dataset, file_hash, measure, read_rows

log = logging.getLogger("trainer")
ADAPTER_DIR = "adapter"


def native_bf16() -> bool:
    """True on a CUDA GPU with bf16 in hardware (Ampere or newer).

    ``torch.cuda.is_bf16_supported()`` alone also says yes on T4/V100, where bf16 is only emulated (slow).
    """
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False))


def precision(cfg: TrainConfig) -> tuple[bool, bool]:
    """``(bf16, gradient_checkpointing)``: bf16 only where the GPU supports it; explicit on CPU."""
    import torch

    cuda = torch.cuda.is_available()
    bf16 = cfg.bf16 if cfg.bf16 is not None else native_bf16()
    if bf16 and not cuda:
        raise ValueError("bf16 was requested but no CUDA GPU is available")
    ckpt = cfg.gradient_checkpointing if cfg.gradient_checkpointing is not None else cuda
    return bf16, ckpt


def lora_config(cfg: TrainConfig) -> Any:
    """PEFT LoRA on exactly the plan's seven modules, bias not trained.

    The plan's Target Modules section is strict ("applied to the following
    modules only", "bias terms are not trained"): any other module set or
    bias setting is refused, whatever a flag or TOML file says.
    """
    from peft import LoraConfig

    if set(cfg.lora_target_modules) != set(LORA_TARGET_MODULES) or len(cfg.lora_target_modules) != len(LORA_TARGET_MODULES):
        raise ValueError(
            f"lora_target_modules={list(cfg.lora_target_modules)}: the fine-tune plan applies LoRA to exactly "
            f"{', '.join(LORA_TARGET_MODULES)}"
        )
    if cfg.lora_bias != "none":
        raise ValueError(f"lora_bias={cfg.lora_bias!r}: the fine-tune plan does not train bias terms (use 'none')")
    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=list(cfg.lora_target_modules),
        bias=cfg.lora_bias,
        task_type="CAUSAL_LM",
    )


def sft_config(cfg: TrainConfig) -> Any:
    """SFTConfig from TrainConfig (completion-only loss, padding-free BFD packing)."""
    from trl import SFTConfig

    bf16, ckpt = precision(cfg)
    if cfg.tensorboard:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(Path(cfg.output_dir) / "tensorboard")  # read by TensorBoardCallback
    return SFTConfig(
        output_dir=cfg.output_dir,
        max_length=cfg.max_length,
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps,
        optim=cfg.optim,
        lr_scheduler_type=cfg.lr_scheduler_type,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        bf16=bf16,
        fp16=False,
        activation_checkpointing=ckpt,  # the new name of gradient_checkpointing (TRL defaults it to True)
        packing=cfg.packing,
        packing_strategy="bfd",
        padding_free=cfg.packing,
        completion_only_loss=True,
        assistant_only_loss=False,
        seed=cfg.seed,
        data_seed=cfg.seed,
        logging_steps=cfg.logging_steps,
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        report_to=["tensorboard"] if cfg.tensorboard else "none",
        disable_tqdm=cfg.disable_tqdm,
        dataloader_num_workers=0,
        use_cpu=not _cuda(),
    )


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def build_trainer(cfg: TrainConfig, rows: list[dict[str, Any]], *, model: Any = None, tokenizer: Any = None) -> Any:
    """An SFTTrainer ready to train; loads the base model unless ``model``/``tokenizer`` are given."""
    import torch
    from transformers import set_seed
    from trl import SFTTrainer

    from .model import check_architecture, load_base_model, load_tokenizer

    peft_config = lora_config(cfg)  # refuses a non-plan LoRA before anything loads
    set_seed(cfg.seed)
    tokenizer = tokenizer or load_tokenizer(cfg.base_model)
    lengths = measure(rows, tokenizer, cfg.max_length)
    if model is None:
        bf16, _ = precision(cfg)
        model = load_base_model(cfg.base_model, dtype=torch.bfloat16 if bf16 else torch.float32, attn_implementation=cfg.attn_implementation)
    check_architecture(model.config)
    trainer = SFTTrainer(
        model=model,
        args=sft_config(cfg),
        train_dataset=build_dataset(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    trainer.statewise_lengths = lengths
    return trainer


def _home_hash(dataset: str) -> str | None:
    """The home export's content hash, from the builder's ``stats.json`` beside the dataset."""
    stats = Path(dataset).parent / "stats.json"
    if not stats.is_file():
        return None
    return json.loads(stats.read_text(encoding="utf-8")).get("export", {}).get("content_hash")


def _resume_arg(cfg: TrainConfig) -> str | bool | None:
    if cfg.resume_from_checkpoint == "auto":
        from transformers.trainer_utils import get_last_checkpoint

        return get_last_checkpoint(cfg.output_dir) if Path(cfg.output_dir).is_dir() else None
    return cfg.resume_from_checkpoint or None


def train(cfg: TrainConfig, *, model: Any = None, tokenizer: Any = None) -> dict[str, Any]:
    """Train, save the adapter (+ tokenizer) under ``output_dir/adapter``, return a summary."""
    if not cfg.dataset:
        raise ValueError("no --dataset given (a train.jsonl from `python -m dataset_export build`)")
    rows = read_rows(cfg.dataset)
    trainer = build_trainer(cfg, rows, model=model, tokenizer=tokenizer)
    lengths = trainer.statewise_lengths
    log.info("training on %d examples (%d tokens, longest %d of max %d)", len(rows), sum(lengths), max(lengths), cfg.max_length)
    resume = _resume_arg(cfg)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - start
    out = Path(cfg.output_dir)
    trainer.save_model(str(out / ADAPTER_DIR))  # adapter + tokenizer, main process only under accelerate
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    summary = {
        "base_model": cfg.base_model,
        "dataset": str(cfg.dataset),
        "dataset_hash": file_hash(cfg.dataset),
        "export_content_hash": _home_hash(cfg.dataset),
        "examples": len(rows),
        "tokens": sum(lengths),
        "max_tokens": max(lengths),
        "global_step": trainer.state.global_step,
        "train_loss": result.training_loss,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "seconds": round(seconds, 2),
        "resumed_from": resume if isinstance(resume, str) else None,
        "config": cfg.as_dict(),
    }
    if trainer.is_world_process_zero():
        (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    log.info("adapter saved to %s", out / ADAPTER_DIR)
    return summary
