"""Dataset rows (docs/CONTRACTS.md) -> TRL prompt/completion examples, measured, never truncated."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from statewise_protocol import CHAT_TEMPLATE_KWARGS, ONTOLOGY_PREFIX

from .template import render_prompt, render_training_text


class InputError(ValueError):
    """A file or folder given to the trainer is missing or not what it should be (one line, names the path)."""


class OverLongError(InputError):
    """Some examples do not fit ``max_length``; they are refused, not truncated."""


ROLES = ("system", "user", "assistant")


def _row_problem(row: Any) -> str | None:
    """Why a parsed line is not a dataset row of the builder's format (``None`` when it is)."""
    if not isinstance(row, dict):
        return f"a row is a JSON object, not {type(row).__name__}"
    messages = row.get("messages")
    if not isinstance(messages, list) or len(messages) != len(ROLES):
        return "a row needs messages [system, user, assistant]"
    for message, role in zip(messages, ROLES, strict=True):
        if not isinstance(message, dict) or message.get("role") != role or not isinstance(message.get("content"), str):
            return f"messages must be {list(ROLES)} with text content"
    if not messages[0]["content"].startswith(ONTOLOGY_PREFIX):
        return f"the system message must start with {ONTOLOGY_PREFIX!r} (not a Statewise dataset)"
    for key in ("id", "output_class"):
        if not isinstance(row.get(key), str):
            return f"missing field {key!r} (not a `python -m dataset_export build` file)"
    return None


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a ``train.jsonl`` / ``heldout.jsonl`` file; :class:`InputError` names the file and line of the first bad one."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: dataset file not found")
    rows = []
    try:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise InputError(f"{path}:{lineno}: not a JSON line ({err.msg})") from None
                if problem := _row_problem(row):
                    raise InputError(f"{path}:{lineno}: {problem}")
                rows.append(row)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    if not rows:
        raise InputError(f"{path}: the dataset has no rows")
    return rows


def write_rows(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write rows as JSONL (used by tests and the pipeline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def file_hash(*paths: str | Path) -> str:
    """``sha256:`` over the bytes of the given files (in order), read in chunks (a base model's weights are gigabytes)."""
    digest = hashlib.sha256()
    for p in paths:
        with Path(p).open("rb") as f:
            while chunk := f.read(1 << 24):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def to_prompt_completion(row: dict[str, Any]) -> dict[str, Any]:
    """TRL conversational prompt/completion example (loss on the completion only)."""
    return {"prompt": row["messages"][:2], "completion": row["messages"][2:], "chat_template_kwargs": dict(CHAT_TEMPLATE_KWARGS)}


def measure(rows: list[dict[str, Any]], tokenizer: Any, max_length: int) -> list[int]:
    """Token length of each row's training text; raises :class:`OverLongError` listing offenders.

    Also checks the rendered and tokenized prompt is a prefix of the training
    text, so the completion mask falls exactly on the answer.
    """
    if not rows:
        raise ValueError("the dataset has no rows")
    texts = [render_training_text(tokenizer, row["messages"]) for row in rows]
    prompts = [render_prompt(tokenizer, row["messages"][:2]) for row in rows]
    all_ids = tokenizer(texts, add_special_tokens=False)["input_ids"]  # batched: the fast tokenizer runs in parallel
    all_prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    lengths, over = [], []
    for row, text, prompt, ids, prompt_ids in zip(rows, texts, prompts, all_ids, all_prompt_ids, strict=True):
        if not text.startswith(prompt) or ids[: len(prompt_ids)] != prompt_ids:
            raise ValueError(f"row {row.get('id')}: the prompt does not render/tokenize as a prefix of the training text")
        lengths.append(len(ids))
        if len(ids) > max_length:
            over.append((row.get("id"), len(ids)))
    if over:
        shown = ", ".join(f"{i} ({n} tokens)" for i, n in over[:10])
        raise OverLongError(
            f"{len(over)} of {len(rows)} examples exceed max_length={max_length}: {shown}. "
            "They are refused, not truncated: rebuild the dataset with a smaller ontology or raise --max-length."
        )
    return lengths


def build_dataset(rows: list[dict[str, Any]]) -> Any:
    """A ``datasets.Dataset`` of prompt/completion examples (metadata dropped)."""
    from datasets import Dataset

    return Dataset.from_list([to_prompt_completion(r) for r in rows])
