"""The trainer's arguments, the TRL way: dataclasses read by ``trl.TrlParser`` (flags and ``--config FILE.yaml``).

- :class:`ScriptArguments`: what the script reads and writes besides the model (export, dataset files);
- :class:`StatewiseModelConfig`: TRL's ``ModelConfig`` (the base model and its LoRA), with the plan's LoRA;
- :class:`StatewiseSFTConfig`: TRL's ``SFTConfig``, so every ``TrainingArguments`` flag works
  (``--report_to``, ``--lr_scheduler_type``, ``--warmup_ratio``, ``--push_to_hub``, DeepSpeed/FSDP
  through ``accelerate launch``), with the plan's defaults where TRL's differ;
- :class:`EvalArguments`: the evaluation thresholds (the plan's five criteria) and generation bounds.

The plan's guards (:func:`check_plan`) refuse what the plan excludes with a one-line error:
LoRA on exactly the seven modules, bias not trained, no full fine-tuning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from statewise_protocol import AUTO_MAX_LENGTHS, auto_max_length
from trl import ModelConfig, SFTConfig

from .speed import ATTENTION_CHOICES

AUTO = "auto"
LORA_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
DEFAULT_BASE_MODEL = "Qwen/Qwen3-1.7B"
EVAL_CPU_BATCH = 8  # prompts per generate() call where no GPU memory figure applies (the batch that ran so far)


class PlanViolation(ValueError):
    """A setting the fine-tune plan explicitly excludes."""


@dataclass
class ScriptArguments:
    """Inputs and outputs of ``python -m trainer`` besides the model."""

    export_dir: str = field(default="examples/demo_home", metadata={"help": "A Statewise export folder (what `run` builds the dataset from)."})
    dataset: str = field(default="", metadata={"help": "train.jsonl from `python -m dataset_export build` (eval: the held-out file to score)."})
    heldout: str = field(default="", metadata={"help": "heldout.jsonl (default: beside --dataset)."})
    dataset_size: int = field(default=0, metadata={"help": "`run` only: training examples to build (0: the builder's default)."})
    language: str = field(default="", metadata={"help": "`run` only: the language(s) of the commands, `de` or `en,de` (default: the language Home "
                                                          "Assistant reported at export time, else en)."})
    eval_baseline: bool = field(default=False, metadata={"help": "`run` only: also evaluate the base model without the adapter."})


@dataclass
class StatewiseModelConfig(ModelConfig):
    """TRL's ``ModelConfig`` with the plan's model and LoRA: dense Qwen3, PEFT on, the seven modules."""

    model_name_or_path: str | None = field(
        default=DEFAULT_BASE_MODEL,
        metadata={"help": "Dense Qwen3 base model: a hub id or a local folder ('tiny' builds a tiny local Qwen3).",
                  "aliases": ["--base_model", "--base-model"]},
    )
    use_peft: bool = field(default=True, metadata={"help": "LoRA (the plan excludes full fine-tuning: must stay true)."})
    lora_target_modules: list[str] | None = field(default_factory=lambda: list(LORA_TARGET_MODULES), metadata={"help": "The plan's seven modules."})
    lora_bias: str = field(default="none", metadata={"help": "PEFT's LoRA bias setting: the plan trains no bias terms ('none')."})
    attn_implementation: str | None = field(
        default="sdpa",
        metadata={"help": "Attention implementation: sdpa (default), eager, flex_attention, flash_attention_2, flash_attention_3, or auto "
                          "(the first installed and usable of FlashAttention 3/2, FlexAttention, else SDPA: see docs/TRAINING.md)."},
    )

    def __post_init__(self) -> None:
        """Keep a one-module list a list (TRL collapses it to a string); refuse attention kernels fetched from a hub."""
        super().__post_init__()
        if isinstance(self.lora_target_modules, str):
            self.lora_target_modules = [self.lora_target_modules]
        if self.attn_implementation not in (None, *ATTENTION_CHOICES):
            raise ValueError(f"attn_implementation={self.attn_implementation!r}: use one of {', '.join(ATTENTION_CHOICES)} "
                             "(kernels fetched from a model hub at run time are not used)")


def native_bf16() -> bool:
    """True on a CUDA GPU with bf16 in hardware (Ampere or newer).

    ``torch.cuda.is_bf16_supported()`` alone also says yes on T4/V100, where bf16 is only emulated (slow).
    """
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False))


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@dataclass
class StatewiseSFTConfig(SFTConfig):
    """TRL's ``SFTConfig`` with the plan's baseline (batch 1, accumulation 8, lr 2e-4, 2048 tokens, packing, adamw_torch).

    ``bf16`` and ``activation_checkpointing`` default to what the hardware does well: bf16 only
    on a GPU with bf16 in hardware, checkpointing on CUDA only (TRL turns both on everywhere);
    ``--activation_checkpointing auto`` decides from the estimated memory need instead (:mod:`trainer.speed`).
    Loss is on the answer only (prompt/completion rows), packing is padding-free BFD.
    ``packed_length`` and ``tokens_per_step`` set the packed row length and the token slots per optimizer step.
    """

    output_dir: str | None = field(default="runs/statewise", metadata={"help": "Where checkpoints and the adapter go."})
    max_length: str = field(  # type: ignore[assignment]  # "auto" or a number; a number before TRL reads it (resolve_max_length)
        default="auto",
        metadata={"help": "Token budget per example, never truncated: auto (the dataset's own budget from its stats.json: the plan's 2048 when "
                          "the home fits, else 3072/4096/6144/8192) or a number of tokens."},
    )
    per_device_train_batch_size: int = field(default=1, metadata={"help": "The plan: 1."})
    gradient_accumulation_steps: int = field(default=8, metadata={"help": "The plan: 8."})
    learning_rate: float = field(default=2e-4, metadata={"help": "The plan: 2e-4."})
    num_train_epochs: float = field(default=1.0, metadata={"help": "The plan: 1-2."})
    optim: str = field(default="adamw_torch", metadata={"help": "The plan: adamw_torch."})
    packing: bool = field(default=True, metadata={"help": "The plan: packing enabled (padding-free BFD)."})
    padding_free: bool | None = field(default=None, metadata={"help": "Default: on when packing."})
    completion_only_loss: bool | None = field(default=True, metadata={"help": "Loss on the assistant answer only."})
    bf16: bool | None = field(default=None, metadata={"help": "Default: on only where the GPU has bf16 in hardware."})
    activation_checkpointing: str | None = field(  # type: ignore[assignment]  # true/false/auto; a bool before TRL reads it
        default=None,
        metadata={"help": "true, false, or auto (on when the estimated memory need passes 85%% of the GPU's memory). "
                          "Default: on for CUDA, off on CPU.", "nargs": "?", "const": "true"},
    )
    gradient_checkpointing: bool | None = field(default=None, metadata={"help": "Deprecated alias of activation_checkpointing."})
    packed_length: int = field(default=0, metadata={"help": "Packed row length in tokens (0: max_length, the plan's). Longer rows fill a GPU "
                                                            "better; never shorter than max_length."})
    tokens_per_step: int = field(default=0, metadata={"help": "Token slots per optimizer step (0: batch x accumulation as given). Sets "
                                                             "gradient_accumulation_steps to about this / (batch x row length); the plan's "
                                                             "1 x 8 x 2048 is 16384."})
    logging_steps: float = field(default=10, metadata={"help": "Log every N optimizer steps."})
    save_steps: float = field(default=200, metadata={"help": "Checkpoint every N steps."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Checkpoints kept."})
    seed: int = field(default=42, metadata={"help": "Random seed (also the data order)."})
    dataloader_num_workers: int = field(default=0, metadata={"help": "Data loader workers."})
    disable_tqdm: bool | None = field(default=None, metadata={"help": "No progress bars (a bare flag means true).", "nargs": "?", "const": True})

    def __post_init__(self) -> None:
        """Resolve the hardware-dependent defaults before TRL's (which turn bf16 and checkpointing on everywhere)."""
        if isinstance(self.max_length, str) and self.max_length != AUTO:
            if not self.max_length.isdigit() or int(self.max_length) < 1:
                raise PlanViolation(f"max_length={self.max_length!r}: use auto or a number of tokens")
            self.max_length = int(self.max_length)
        cuda = _cuda()
        if self.bf16 is None:
            self.bf16 = False if self.fp16 else native_bf16()
        if self.bf16 and not cuda:
            raise PlanViolation("bf16 was requested but no CUDA GPU is available (pass --bf16 false)")
        self.statewise_checkpointing = _checkpointing_request(self.activation_checkpointing, self.gradient_checkpointing)
        if self.statewise_checkpointing in ("hardware", AUTO):  # auto: the hardware default until build_trainer has the estimate
            self.activation_checkpointing = cuda
        else:
            self.activation_checkpointing = self.statewise_checkpointing == "on"
        if self.packed_length < 0 or self.tokens_per_step < 0:
            raise PlanViolation("packed_length and tokens_per_step are token counts (0: not set)")
        if self.padding_free is None:
            self.padding_free = self.packing
        if self.packing:
            self.packing_strategy = "bfd"
        self.assistant_only_loss = False
        self.use_cpu = self.use_cpu or not cuda
        if self.data_seed is None:
            self.data_seed = self.seed
        super().__post_init__()


def _checkpointing_request(value: str | bool | None, alias: bool | None) -> str:
    """``on``, ``off``, ``auto`` or ``hardware`` (not set) from ``--activation_checkpointing`` and its deprecated alias."""
    if value is None:
        value = alias
    if value is None:
        return "hardware"
    if isinstance(value, bool):
        return "on" if value else "off"
    text = str(value).strip().lower()
    if text == AUTO:
        return AUTO
    if text in ("true", "1", "yes", "on"):
        return "on"
    if text in ("false", "0", "no", "off"):
        return "off"
    raise PlanViolation(f"activation_checkpointing={value!r}: use true, false or auto")


@dataclass
class EvalArguments:
    """The plan's five criteria (thresholds) and generation bounds for the held-out evaluation."""

    eval_batch_size: str = field(  # type: ignore[assignment]  # a number, or auto (a number after __post_init__)
        default="8",
        metadata={"help": "Prompts generated together: a number, or auto (from the GPU's free memory and the KV cache a prompt needs; "
                          f"{EVAL_CPU_BATCH} on CPU)."},
    )
    max_new_tokens: int = field(default=256, metadata={"help": "Longest answer generated."})
    min_decision_accuracy: float = field(default=0.95, metadata={"help": "Criterion 1: fetch vs act vs no-op."})
    max_redundant_call_rate: float = field(default=0.01, metadata={"help": "Criterion 2: action minimality."})
    min_state_sensitivity: float = field(default=0.95, metadata={"help": "Criterion 3: same command, different state."})
    min_schema_compliance: float = field(default=1.0, metadata={"help": "Criterion 4: every call validates against v0."})
    max_hallucinated_id_rate: float = field(default=0.0, metadata={"help": "Criterion 5: every id exists in ONTOLOGY."})

    def __post_init__(self) -> None:
        """``eval_batch_size``: auto or a positive number."""
        value = str(self.eval_batch_size).strip().lower()
        if value != AUTO and (not value.isdigit() or int(value) < 1):
            raise PlanViolation(f"eval_batch_size={self.eval_batch_size!r}: use auto or a number of prompts")
        self.eval_batch_size = value if value == AUTO else int(value)  # type: ignore[assignment]

    def thresholds(self) -> dict[str, tuple[str, float]]:
        """Criterion -> (``>=`` or ``<=``, bound)."""
        return {
            "decision_accuracy": (">=", self.min_decision_accuracy),
            "schema_compliance_rate": (">=", self.min_schema_compliance),
            "hallucinated_id_rate": ("<=", self.max_hallucinated_id_rate),
            "redundant_call_rate": ("<=", self.max_redundant_call_rate),
            "state_sensitivity_accuracy": (">=", self.min_state_sensitivity),
        }


@dataclass
class Config:
    """Everything one trainer command reads, grouped as TRL parses it."""

    script: ScriptArguments = field(default_factory=ScriptArguments)
    model: StatewiseModelConfig = field(default_factory=StatewiseModelConfig)
    training: StatewiseSFTConfig = field(default_factory=StatewiseSFTConfig)
    evaluation: EvalArguments = field(default_factory=EvalArguments)

    @property
    def base_model(self) -> str:
        """The base model's hub id or folder."""
        return str(self.model.model_name_or_path)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``train_summary.json``)."""
        return {
            "script": vars(self.script).copy(),
            "model": vars(self.model).copy(),
            "training": {k: v for k, v in self.training.to_dict().items() if not k.startswith("_")},
            "evaluation": vars(self.evaluation).copy(),
        }


def make_config(**values: Any) -> Config:
    """A :class:`Config` from flat keyword arguments, each routed to the dataclass that has that field (tests, scripts)."""
    groups = {"script": ScriptArguments, "model": StatewiseModelConfig, "training": StatewiseSFTConfig, "evaluation": EvalArguments}
    split: dict[str, dict[str, Any]] = {name: {} for name in groups}
    for key, value in values.items():
        if key == "base_model":
            key = "model_name_or_path"
        owner = next((name for name, cls in groups.items() if key in {f.name for f in fields(cls)}), None)
        if owner is None:
            raise TypeError(f"unknown trainer setting {key!r}")
        split[owner][key] = list(value) if key == "lora_target_modules" else value
    return Config(**{name: cls(**split[name]) for name, cls in groups.items()})


def resolve_max_length(value: int | str, dataset: str, longest: int) -> int:
    """The token budget to train with.

    A number as given; ``auto``: the builder's choice (``stats.json`` beside ``dataset``), else the
    smallest of ``AUTO_MAX_LENGTHS`` that holds the longest row (``longest`` tokens).
    """
    if value != AUTO:
        return int(value)
    stats = Path(dataset).parent / "stats.json" if dataset else None
    if stats is not None and stats.is_file():
        chosen = json.loads(stats.read_text(encoding="utf-8")).get("max_length")
        if isinstance(chosen, int) and chosen >= longest:
            return chosen
    chosen = auto_max_length(longest)
    if chosen is None:
        raise PlanViolation(f"max_length=auto: the longest example is {longest} tokens, more than the largest automatic budget "
                            f"{AUTO_MAX_LENGTHS[-1]}; rebuild the dataset with fewer exposed entities or pass --max_length N")
    return chosen


def check_plan(model: StatewiseModelConfig) -> None:
    """Refuse what the plan excludes, in one line (the plan's Fine-Tuning Method and Target Modules)."""
    modules = list(model.lora_target_modules or [])
    if not model.use_peft:
        raise PlanViolation("use_peft=False: the fine-tune plan allows LoRA only, no full-parameter fine-tuning")
    if sorted(modules) != sorted(LORA_TARGET_MODULES) or len(modules) != len(LORA_TARGET_MODULES):
        raise PlanViolation(f"lora_target_modules={modules}: the fine-tune plan applies LoRA to exactly {', '.join(LORA_TARGET_MODULES)}")
    if model.lora_bias != "none":
        raise PlanViolation(f"lora_bias={model.lora_bias!r}: the fine-tune plan does not train bias terms (use 'none')")
    if model.lora_modules_to_save or model.lora_target_parameters:
        raise PlanViolation("lora_modules_to_save/lora_target_parameters: the fine-tune plan trains LoRA on the seven modules only")


@dataclass
class EvalRunArguments:
    """``eval``: what to score (a model, or a predictions file) and where the report goes."""

    model: str = field(default="", metadata={"help": "Adapter, run or merged model folder."})
    predictions: str = field(default="", metadata={"help": 'JSONL of {"id", "output"[, "followup_output"]} to score without a model.'})
    baseline: bool = field(default=False, metadata={"help": "Evaluate the base model without the adapter."})
    out: str = field(default="", metadata={"help": "Report folder (default: <model>/eval)."})


@dataclass
class ExportArguments:
    """``export``: the trained run to export and where."""

    model: str = field(default="", metadata={"help": "Adapter or run folder (default: --output_dir)."})
    output_dir: str = field(default="runs/statewise", metadata={"help": "The run folder (used when --model is not given)."})
    out: str = field(default="", metadata={"help": "Export folder (default: <output_dir>/export)."})
    eval_report: str = field(default="", metadata={"help": "report.json to summarise in the manifest (default: the run's eval/report.json)."})
    gguf: str = field(default="", metadata={"help": "Also write statewise.gguf for llama.cpp and Ollama: f16 or q8_0 (converter of the pinned "
                                                    "llama.cpp release, scripts/llama_cpp.sh)."})
    lora_gguf: bool = field(default=False, metadata={"help": "With --gguf: also statewise-lora.gguf (the adapter alone) and the base model's GGUF, "
                                                             "for llama-server -m BASE.gguf --lora statewise-lora.gguf."})
    base_gguf_dir: str = field(default="", metadata={"help": "Where the base model's GGUF lies (written once per base model, reused when there; "
                                                            "default: the export folder)."})
