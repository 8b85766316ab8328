"""Facts about Qwen3's tokenizer and chat template, stated once for the builder and the trainer.

Qwen2, Qwen2.5 and Qwen3 share one byte-level BPE vocabulary and pre-tokenizer
pattern; Qwen3 adds 26 tokens from id 151643. ``qwen3_chat_template.jinja`` is
the official Qwen3 chat template, verbatim (the copy TRL ships as
``trl/chat_templates/qwen3.jinja``; a test checks they are identical), so the
dataset builder needs neither TRL nor a model download to render prompts.
"""

from __future__ import annotations

from importlib import resources

# Qwen2/Qwen3 pre-tokenizer pattern (single digits, unlike GPT-4's \p{N}{1,3}).
PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
FIRST_SPECIAL_ID = 151643
# (token, special) in id order: "special" as in the official tokenizer_config.json (skipped by decode(skip_special_tokens=True)).
SPECIAL_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
)
EOS_TOKEN, PAD_TOKEN = "<|im_end|>", "<|endoftext|>"
TEMPLATE_FILE = "qwen3_chat_template.jinja"


def added_tokens() -> list[str]:
    """Qwen3's added tokens, in id order."""
    return [tok for tok, _ in SPECIAL_TOKENS]


def special_tokens() -> list[str]:
    """The added tokens marked special (skipped when decoding)."""
    return [tok for tok, special in SPECIAL_TOKENS if special]


def chat_template() -> str:
    """The official Qwen3 chat template (thinking on by default, as Qwen ships it)."""
    return (resources.files("dataset_export") / TEMPLATE_FILE).read_text(encoding="utf-8")
