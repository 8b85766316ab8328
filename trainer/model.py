"""Base model loading: dense Qwen3 only (the plan excludes MoE in v0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ACCEPTED_ARCH = "Qwen3ForCausalLM"
ACCEPTED_TYPE = "qwen3"


class UnsupportedModelError(ValueError):
    """The base model is not a dense Qwen3."""


def check_architecture(config: Any) -> None:
    """Raise :class:`UnsupportedModelError` unless ``config`` is a dense Qwen3 causal LM."""
    archs = list(getattr(config, "architectures", None) or [])
    model_type = getattr(config, "model_type", "")
    if model_type == "qwen3_moe" or any("Moe" in a for a in archs):
        raise UnsupportedModelError(
            f"refusing {archs or model_type}: MoE variants are explicitly excluded in v0 (the plan's Model Scope); "
            "use a dense Qwen3 such as Qwen/Qwen3-1.7B or Qwen/Qwen3-4B"
        )
    if model_type != ACCEPTED_TYPE or (archs and archs != [ACCEPTED_ARCH]):
        raise UnsupportedModelError(
            f"refusing model_type={model_type!r} architectures={archs}: statewise v0 trains dense Qwen3 only "
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

    tok = AutoTokenizer.from_pretrained(name_or_path)
    if tok.chat_template is None and (Path(name_or_path) / "chat_template.jinja").is_file():
        tok.chat_template = (Path(name_or_path) / "chat_template.jinja").read_text(encoding="utf-8")
    return apply_statewise_template(tok)
