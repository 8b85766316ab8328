"""Base model loading: dense Qwen3 only (the plan excludes MoE in v0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .data import InputError

ACCEPTED_ARCH = "Qwen3ForCausalLM"
ACCEPTED_TYPE = "qwen3"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


class UnsupportedModelError(InputError):
    """The base model is not a dense Qwen3."""


def check_base_model(name_or_path: str) -> None:
    """Refuse, in one line naming the model, what cannot be trained: a folder without a model or tokenizer, not Qwen3, MoE.

    The architecture is checked first (from ``config.json``), so an MoE or other model is
    named as such whatever else its folder lacks.
    """
    from transformers import AutoConfig

    folder = Path(name_or_path)
    local = folder.exists() or name_or_path.startswith((".", "/", "~"))
    if local and not folder.is_dir():
        raise InputError(f"{name_or_path}: base model folder not found")
    if local and not (folder / "config.json").is_file():
        raise InputError(f"{name_or_path}: not a model folder (no config.json)")
    try:
        config = AutoConfig.from_pretrained(name_or_path)
    except (OSError, ValueError) as err:
        raise InputError(f"{name_or_path}: the model's config cannot be loaded ({str(err).splitlines()[0][:200]})") from None
    check_architecture(config, name_or_path)
    if local and not any((folder / f).is_file() for f in TOKENIZER_FILES):
        raise InputError(f"{name_or_path}: the folder has no tokenizer ({' or '.join(TOKENIZER_FILES)}); save the base model's tokenizer beside it")


def check_architecture(config: Any, name: str = "") -> None:
    """Raise :class:`UnsupportedModelError` unless ``config`` is a dense Qwen3 causal LM."""
    archs = list(getattr(config, "architectures", None) or [])
    model_type = getattr(config, "model_type", "")
    where = f"{name}: " if name else ""
    if model_type == "qwen3_moe" or any("Moe" in a for a in archs):
        raise UnsupportedModelError(
            f"{where}refusing {archs or model_type}: MoE variants are explicitly excluded in v0 (the plan's Model Scope); "
            "use a dense Qwen3 such as Qwen/Qwen3-1.7B or Qwen/Qwen3-4B"
        )
    if model_type != ACCEPTED_TYPE or (archs and archs != [ACCEPTED_ARCH]):
        raise UnsupportedModelError(
            f"{where}refusing model_type={model_type!r} architectures={archs}: statewise v0 trains dense Qwen3 only "
            f"({ACCEPTED_ARCH}, e.g. Qwen/Qwen3-1.7B or Qwen/Qwen3-4B)"
        )


def load_base_model(name_or_path: str, *, dtype: Any = None, attn_implementation: str = "sdpa") -> Any:
    """Load a dense Qwen3 for causal LM (local folder or hub cache); refuses anything else first."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(name_or_path)
    check_architecture(config)
    model = AutoModelForCausalLM.from_pretrained(name_or_path, dtype=dtype or "auto", attn_implementation=attn_implementation)
    check_architecture(model.config)
    return model


def load_tokenizer(name_or_path: str) -> Any:
    """The base model's tokenizer with the statewise (non-thinking by default) template."""
    from transformers import AutoTokenizer

    from .template import apply_statewise_template

    try:
        tok = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as err:
        raise InputError(f"{name_or_path}: the tokenizer cannot be loaded ({str(err).splitlines()[0][:200]})") from None
    if tok.chat_template is None and (Path(name_or_path) / "chat_template.jinja").is_file():
        tok.chat_template = (Path(name_or_path) / "chat_template.jinja").read_text(encoding="utf-8")
    try:
        return apply_statewise_template(tok)
    except ValueError as err:
        raise InputError(f"{name_or_path}: {err}") from None
