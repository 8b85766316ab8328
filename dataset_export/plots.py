"""PNG plots: class ratios against the plan's bands, token lengths against the budget, coverage."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

LABELS = {"text": "no tool call", "one": "exactly one call", "multi": "multi-step"}


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def class_ratios(stats: dict[str, Any]) -> bytes:
    """Bars per split and class, with the plan's band shaded."""
    fig, ax = plt.subplots(figsize=(7, 4))
    splits = [s for s in ("train", "heldout") if stats.get(s)]
    width = 0.8 / max(1, len(splits))
    for i, cls in enumerate(LABELS):
        low, high = stats["train"]["classes"][cls]["band"]
        ax.fill_between([i - 0.45, i + 0.45], low, high, color="tab:green", alpha=0.15, label="plan band" if i == 0 else None)
        for j, split in enumerate(splits):
            share = stats[split]["classes"][cls]["share"]
            ax.bar(i - 0.4 + width * (j + 0.5), share, width, color=("tab:blue", "tab:orange")[j], label=split if i == 0 else None)
    ax.set_xticks(range(len(LABELS)), list(LABELS.values()))
    ax.set_ylabel("share of examples")
    ax.set_ylim(0, 1)
    ax.set_title("Output classes against the plan's bands")
    ax.legend()
    return _png(fig)


def token_histogram(train_tokens: list[int], held_tokens: list[int], max_length: int) -> bytes:
    """Histogram of rendered-chat token counts with the budget marked."""
    fig, ax = plt.subplots(figsize=(7, 4))
    values = train_tokens + held_tokens
    low, high = (min(values), max(values)) if values else (0, 1)
    bins = [low + (high - low + 1) * i / 40 for i in range(41)]
    ax.hist(train_tokens, bins=bins, alpha=0.7, label="train")
    if held_tokens:
        ax.hist(held_tokens, bins=bins, alpha=0.7, label="heldout")
    ax.axvline(max_length, color="red", linestyle="--", label=f"budget {max_length}")
    ax.set_xlabel("tokens per example (Qwen3 vocabulary, chat template)")
    ax.set_ylabel("examples")
    ax.set_title("Token lengths against the budget")
    ax.legend()
    return _png(fig)


def coverage_counts(stats: dict[str, Any]) -> bytes:
    """Horizontal bars of coverage and other tag counts in train."""
    tags = stats["train"]["tags"]
    names = sorted(tags)
    fig, ax = plt.subplots(figsize=(7, max(3, 0.3 * len(names) + 1)))
    ax.barh(names, [tags[n] for n in names], color=["tab:green" if n in stats["train"]["coverage"] else "tab:gray" for n in names])
    ax.set_xlabel("train examples with the tag (green: required coverage)")
    ax.set_title("Coverage")
    fig.tight_layout()
    return _png(fig)
