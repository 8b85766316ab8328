"""A tiny local Qwen3 and a small-vocabulary tokenizer, for tests and the CPU fallback.

The tokenizer is a byte-level BPE (Qwen2/3 pre-tokenizer pattern) trained on the
dataset's own rendered text, with Qwen3's special tokens and the official Qwen3
chat template (made non-thinking by default, see :mod:`trainer.template`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dataset_export.qwen3 import EOS_TOKEN, PAD_TOKEN, PATTERN, SPECIAL_TOKENS, chat_template, special_tokens

from .template import statewise_template


def tiny_tokenizer(texts: Iterable[str], vocab_size: int = 512) -> Any:
    """Train a small byte-level BPE on ``texts``; returns a ``PreTrainedTokenizerFast`` with Qwen3's template."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(PATTERN), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(texts), trainer=trainer)
    tok.add_tokens([AddedToken(t, special=special, normalized=False) for t, special in SPECIAL_TOKENS])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        chat_template=statewise_template(chat_template()),
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
    )
    fast.add_special_tokens({"additional_special_tokens": special_tokens()})
    return fast


def tiny_qwen3_config(tokenizer: Any, *, hidden: int = 64, layers: int = 2, max_positions: int = 4096, init_range: float = 0.2) -> Any:
    """A small dense ``Qwen3Config`` sized to ``tokenizer``.

    ``init_range`` is larger than Qwen3's 0.02 so the tied embedding can give
    confident logits: LoRA leaves embeddings and norms frozen, and a near-zero
    random embedding would cap how far the loss can fall.
    """
    from transformers import Qwen3Config

    return Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=hidden // 4,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.convert_tokens_to_ids(EOS_TOKEN),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        architectures=["Qwen3ForCausalLM"],
        initializer_range=init_range,
    )


def tiny_qwen3(tokenizer: Any, *, seed: int = 0, **kwargs: Any) -> Any:
    """Random-weight tiny ``Qwen3ForCausalLM`` (seeded)."""
    import torch
    from transformers import Qwen3ForCausalLM

    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(tiny_qwen3_config(tokenizer, **kwargs))
    model.generation_config.eos_token_id = [tokenizer.convert_tokens_to_ids(EOS_TOKEN), tokenizer.pad_token_id]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def save_tiny_base(rows: list[dict[str, Any]], out_dir: str | Path, *, vocab_size: int = 512, seed: int = 0, **kwargs: Any) -> Path:
    """Write a tiny Qwen3 base model + tokenizer trained on ``rows``' text to ``out_dir``; returns it."""
    from .template import render_training_text

    out = Path(out_dir)
    seed_tok = tiny_tokenizer(["x"], vocab_size=300)  # only for its chat template rendering
    texts = [render_training_text(seed_tok, r["messages"]) for r in rows]
    for row in rows:
        texts += [row.get("followup") or ""]
    tok = tiny_tokenizer(texts, vocab_size=vocab_size)
    model = tiny_qwen3(tok, seed=seed, **kwargs)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
