"""TrainConfig: the plan's defaults in one dataclass, loadable from TOML, mirrored as CLI flags."""

from __future__ import annotations

import argparse
import tomllib
import types
from dataclasses import MISSING, asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

LORA_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class TrainConfig:
    """Every knob of train, eval and export. Defaults follow the fine-tune plan (v0)."""

    # data and paths
    base_model: str = "Qwen/Qwen3-1.7B"
    dataset: str = ""
    heldout: str = ""
    export_dir: str = "examples/demo_home"
    output_dir: str = "runs/statewise"
    dataset_size: int = 0  # `run` only: training examples to build (0: the builder's default)
    # plan: training configuration (baseline)
    max_length: int = 2048
    per_device_train_batch_size: int = 1
    gradient_accumulation_steps: int = 8
    learning_rate: float = 2e-4
    num_train_epochs: float = 1.0
    max_steps: int = -1
    optim: str = "adamw_torch"
    lr_scheduler_type: str = "linear"
    warmup_steps: float = 0.0  # int = steps, float in [0, 1) = ratio
    weight_decay: float = 0.0
    bf16: bool | None = None  # None: bf16 where the GPU supports it, else fp32
    gradient_checkpointing: bool | None = None  # None: on for CUDA, off on CPU
    packing: bool = True
    seed: int = 42
    # plan: LoRA (no full fine-tuning; bias not trained)
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] = LORA_TARGET_MODULES
    lora_bias: str = "none"
    # logging and checkpoints
    logging_steps: int = 10
    save_steps: int = 200
    save_total_limit: int = 2
    resume_from_checkpoint: str = ""  # "" none, "auto" latest in output_dir, or a path
    tensorboard: bool = False
    disable_tqdm: bool = False
    attn_implementation: str = "sdpa"
    # evaluation
    eval_batch_size: int = 8
    eval_baseline: bool = False  # `run` only: also evaluate the base model without the adapter
    max_new_tokens: int = 256
    min_decision_accuracy: float = 0.95
    min_schema_compliance: float = 1.0
    max_hallucinated_id_rate: float = 0.0
    max_redundant_call_rate: float = 0.01
    min_state_sensitivity: float = 0.95

    def thresholds(self) -> dict[str, tuple[str, float]]:
        """Criterion -> (``>=`` or ``<=``, bound)."""
        return {
            "decision_accuracy": (">=", self.min_decision_accuracy),
            "schema_compliance_rate": (">=", self.min_schema_compliance),
            "hallucinated_id_rate": ("<=", self.max_hallucinated_id_rate),
            "redundant_call_rate": ("<=", self.max_redundant_call_rate),
            "state_sensitivity_accuracy": (">=", self.min_state_sensitivity),
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = asdict(self)
        out["lora_target_modules"] = list(self.lora_target_modules)
        return out


def _field_types() -> dict[str, Any]:
    return get_type_hints(TrainConfig)


def _scalar(tp: Any) -> Any:
    """The non-None type of ``X | None``."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0]
    return tp


def _coerce(name: str, value: Any) -> Any:
    tp = _scalar(_field_types()[name])
    if get_origin(tp) is tuple:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(str(i).strip() for i in items if str(i).strip())
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def load_toml(path: str | Path, base: TrainConfig | None = None) -> TrainConfig:
    """Read a TOML file (top level or a ``[train]`` table); unknown keys are an error."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    data = data.get("train", data)
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown config keys {unknown}; known: {sorted(known)}")
    return replace(base or TrainConfig(), **{k: _coerce(k, v) for k, v in data.items()})


def _str2bool_or_none(text: str) -> bool | None:
    low = text.lower()
    if low in ("auto", "none"):
        return None
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false/auto, got {text!r}")


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per TrainConfig field (generated from the dataclass), plus ``--config FILE.toml``."""
    parser.add_argument("--config", help="TOML file with TrainConfig fields (flags override it)")
    hints = _field_types()
    for f in fields(TrainConfig):
        tp = hints[f.name]
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        shown = ",".join(default) if isinstance(default, tuple) else default
        help_text = f"(default: {shown})"
        if tp is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text)
        elif _scalar(tp) is bool:
            parser.add_argument(flag, dest=f.name, type=_str2bool_or_none, metavar="{true,false,auto}", default=argparse.SUPPRESS, help=help_text)
        elif get_origin(_scalar(tp)) is tuple:
            parser.add_argument(flag, dest=f.name, type=str, metavar="A,B,..", default=argparse.SUPPRESS, help=help_text)
        else:
            parser.add_argument(flag, dest=f.name, type=_scalar(tp), default=argparse.SUPPRESS, help=help_text)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults < ``--config`` TOML < explicit flags."""
    cfg = load_toml(args.config) if getattr(args, "config", None) else TrainConfig()
    given = {f.name: _coerce(f.name, getattr(args, f.name)) for f in fields(TrainConfig) if hasattr(args, f.name)}
    return replace(cfg, **given)
