r"""The chat template the model trains with and ships with: Qwen3's, non-thinking by default.

Qwen3's official template emits the empty ``<think>\n\n</think>\n\n`` block
after ``<|im_start|>assistant\n`` only when ``enable_thinking=False`` is passed.
The exported template flips that default, so a server that passes no
``chat_template_kwargs`` renders exactly the training prompt. Passing
``enable_thinking=True`` explicitly still gives Qwen3's thinking prompt.
"""

from __future__ import annotations

from typing import Any

from statewise_protocol import CHAT_TEMPLATE_KWARGS

OFFICIAL_SWITCH = "{%- if enable_thinking is defined and enable_thinking is false %}"
STATEWISE_SWITCH = "{%- if enable_thinking is not defined or enable_thinking is false %}"
MARKER = "{#- statewise: non-thinking by default (see trainer/template.py) -#}\n"


def statewise_template(template: str) -> str:
    """Make a Qwen3 template non-thinking by default; idempotent, refuses unknown templates."""
    if template.startswith(MARKER):
        return template
    if template.count(OFFICIAL_SWITCH) != 1:
        raise ValueError(
            "chat template is not Qwen3's official one (no single enable_thinking switch found); "
            "statewise trains only dense Qwen3 models with their own template"
        )
    return MARKER + template.replace(OFFICIAL_SWITCH, STATEWISE_SWITCH)


def apply_statewise_template(tokenizer: Any) -> Any:
    """Install the statewise template on ``tokenizer`` (in place) and return it."""
    tokenizer.chat_template = statewise_template(tokenizer.chat_template or "")
    return tokenizer


def render_prompt(tokenizer: Any, messages: list[dict[str, str]], **kwargs: Any) -> str:
    """Generation prompt text for ``[system, user]`` exactly as training saw it."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **{**CHAT_TEMPLATE_KWARGS, **kwargs})


def render_training_text(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    """Full training text of ``[system, user, assistant]``."""
    return tokenizer.apply_chat_template(messages, tokenize=False, **CHAT_TEMPLATE_KWARGS)
