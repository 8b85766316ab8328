"""The speed choices of a training run, each taken from the hardware or a capability check, printed and recorded.

Why a module of its own: on an H200 the shipped path ran 8x below a bare PEFT loop (issue 20). The levers are
activation checkpointing (2.7x on its own), the attention path of packed rows (SDPA gets a dense block-diagonal
mask built from ``position_ids``), Liger's Triton kernels, and longer packed rows. Each is opt-in until measured
on a GPU: the defaults are the ones that ran (checkpointing on CUDA, SDPA, no Liger, rows of ``max_length``).
Every choice, and why it was taken, goes into ``train_summary.json`` under ``speed``.

TRL 1.16's ``SFTTrainer`` already computes the loss through its own fused, chunked LM head
(``trl.trainer.utils.add_fused_lm_head``: tiles of 4,096 tokens x 32,768 vocabulary entries with an online
log-sum-exp; on CUDA/XPU with Triton it scores only the positions that carry a label), so the 151,936-wide
logits are never materialised; it refuses Liger's own fused linear cross-entropy for that reason. What
``use_liger_kernel`` adds under TRL 1.16 is Liger's RMSNorm, SwiGLU and RoPE kernels.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from typing import Any

GIB = 2**30
AUTO = "auto"
ATTENTION_CHOICES = ("sdpa", "eager", "flex_attention", "flash_attention_2", "flash_attention_3", AUTO)
# Attention paths that keep the examples of a packed row apart from ``position_ids`` without a dense
# (rows x rows) mask: FlashAttention's varlen kernels (cu_seqlens) and FlexAttention's block-sparse mask.
MASK_FREE_ATTENTION = ("flash_attention_3", "flash_attention_2", "flex_attention")
# ``auto`` checkpoints when the estimate without it passes this share of the card's memory.
MEMORY_HEADROOM = 0.85
# Fitted on the issue's H200 figures (Qwen3-1.7B shape, bf16, LoRA on the seven modules, no checkpointing,
# SDPA, one packed row of 2,048 / 8,192 / 16,384 tokens: peak 11 / 35 / 77 GiB), see estimate_memory.
ACT_HIDDEN_PER_TOKEN, ACT_INTERMEDIATE_PER_TOKEN = 16, 4  # saved activations per token and layer, in elements
DENSE_MASK_BYTES_PER_TOKEN2 = 3.25  # per layer: SDPA's block-diagonal mask and what its kernel keeps of it
WORKSPACE_BYTES = 1 * GIB  # LM-head tiles, allocator slack
LORA_BYTES_PER_PARAM = 16  # fp32 weight, gradient and two AdamW moments


@dataclass(frozen=True)
class ModelShape:
    """What the memory and FLOP estimates need of a dense Qwen3."""

    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int

    @classmethod
    def of(cls, config: Any) -> ModelShape:
        """The shape of a transformers ``Qwen3Config``."""
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return cls(config.num_hidden_layers, config.hidden_size, config.intermediate_size, config.num_attention_heads,
                   config.num_key_value_heads, head_dim, config.vocab_size)  # fmt: skip

    def layer_params(self) -> int:
        """Weights of the seven projections of one decoder layer (norms are negligible)."""
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        return self.hidden * (2 * q + 2 * kv) + 3 * self.hidden * self.intermediate

    def params(self) -> int:
        """All weights, the (tied) embedding once."""
        return self.layers * self.layer_params() + self.vocab * self.hidden

    def lora_params(self, rank: int) -> int:
        """LoRA A and B matrices of rank ``rank`` on the seven modules of every layer."""
        q, kv, h, i = self.heads * self.head_dim, self.kv_heads * self.head_dim, self.hidden, self.intermediate
        per_layer = rank * ((h + q) + 2 * (h + kv) + (q + h) + 2 * (h + i) + (i + h))
        return self.layers * per_layer


def estimate_memory(shape: ModelShape, tokens: int, *, checkpointing: bool, dense_mask: bool, weight_bytes: int = 2, lora_rank: int = 16) -> int:
    """Peak training memory in bytes for a micro-batch of ``tokens`` token slots (a LoRA step, frozen base).

    Fixed part: the base weights, LoRA weights with their AdamW state, a workspace. Per token: the activations
    every layer keeps for backward (about ``16 x hidden + 4 x intermediate`` elements; with checkpointing only the
    layer input, plus one layer recomputed at a time). With a dense-mask attention (SDPA, eager) on a packed row a
    quadratic term follows the row length. Fitted on one card and one model; it decides ``auto`` checkpointing,
    it is not a promise.
    """
    fixed = shape.params() * weight_bytes + shape.lora_params(lora_rank) * LORA_BYTES_PER_PARAM + WORKSPACE_BYTES
    per_layer = (ACT_HIDDEN_PER_TOKEN * shape.hidden + ACT_INTERMEDIATE_PER_TOKEN * shape.intermediate) * weight_bytes * tokens
    mask_layers = 0.0
    if checkpointing:
        act = shape.layers * shape.hidden * weight_bytes * tokens + per_layer
        mask_layers = 1.0 if dense_mask else 0.0
    else:
        act = shape.layers * per_layer
        mask_layers = float(shape.layers) if dense_mask else 0.0
    return int(fixed + act + mask_layers * DENSE_MASK_BYTES_PER_TOKEN2 * tokens * tokens)


def card_memory() -> int | None:
    """Total memory of CUDA device 0 in bytes; None without a GPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    return int(torch.cuda.get_device_properties(0).total_memory)


def choose_checkpointing(need_without: int, card: int | None) -> tuple[bool, str]:
    """``auto`` activation checkpointing: on when the estimate without it passes ``MEMORY_HEADROOM`` of the card."""
    if card is None:
        return False, "auto: no GPU (checkpointing only saves memory, and costs a third more compute)"
    on = need_without > MEMORY_HEADROOM * card
    verdict = "more than" if on else "within"
    return on, f"auto: about {need_without / GIB:.1f} GiB without it, {verdict} {MEMORY_HEADROOM:.0%} of the card's {card / GIB:.1f} GiB"


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def cuda_capability() -> tuple[int, int] | None:
    """Compute capability of CUDA device 0; None without a GPU."""
    import torch

    return tuple(torch.cuda.get_device_capability(0)) if torch.cuda.is_available() else None  # type: ignore[return-value]


def flex_attention_available() -> bool:
    """Whether torch ships FlexAttention (``torch.nn.attention.flex_attention``, torch >= 2.5)."""
    from transformers.utils import is_torch_flex_attn_available

    return bool(is_torch_flex_attn_available())


def choose_attention(requested: str) -> tuple[str, str]:
    """The attention implementation to load the model with, and why.

    ``auto`` takes the first that applies: FlashAttention 3 (``flash_attn_interface`` installed, a Hopper GPU),
    FlashAttention 2 (``flash_attn`` installed, Ampere or newer), FlexAttention (a CUDA GPU and torch's
    flex_attention), else SDPA. Only packages installed from a registry count: transformers would otherwise fetch
    a kernel from the Hub at run time, which this project never does. A named implementation is taken as given.
    """
    if requested != AUTO:
        return requested, "as requested"
    capability = cuda_capability()
    if capability is None:
        return "sdpa", "auto: no GPU, SDPA (packed rows get a block-diagonal mask from position_ids)"
    if capability[0] == 9 and _installed("flash_attn_interface"):
        return "flash_attention_3", f"auto: Hopper GPU (sm_{capability[0]}{capability[1]}) and flash_attn_interface installed"
    if capability[0] >= 8 and _installed("flash_attn"):
        return "flash_attention_2", f"auto: sm_{capability[0]}{capability[1]} and flash_attn installed"
    if flex_attention_available():
        return "flex_attention", "auto: CUDA GPU and torch's FlexAttention (block-sparse mask of the packed examples)"
    return "sdpa", "auto: no mask-free attention installed, SDPA"


def liger_available() -> tuple[bool, str]:
    """Whether Liger's kernels can run here: the package, Triton and a CUDA GPU."""
    import torch

    if not torch.cuda.is_available():
        return False, "no CUDA GPU (Liger's kernels are Triton kernels)"
    if not _installed("triton"):
        return False, "Triton is not installed"
    if not _installed("liger_kernel"):
        return False, "liger-kernel is not installed (pip install 'statewise[gpu]')"
    return True, "liger-kernel, Triton and a CUDA GPU"


def choose_liger(requested: bool) -> tuple[bool, str]:
    """``use_liger_kernel``: taken only where it can run; otherwise the standard layers, and the reason."""
    if not requested:
        return False, "off (default)"
    ok, why = liger_available()
    return (True, f"on: {why}") if ok else (False, f"requested, falling back to the standard layers: {why}")


def accumulation_for(tokens_per_step: int, row_length: int, batch_size: int) -> int:
    """Gradient accumulation that puts about ``tokens_per_step`` token slots into each optimizer step."""
    return max(1, round(tokens_per_step / (row_length * batch_size)))


def lm_head_path() -> str:
    """How TRL computes the loss here (see the module docstring)."""
    import torch
    from transformers.utils import is_triton_available

    if torch.cuda.is_available() and is_triton_available():
        return "TRL fused LM head, Triton, labelled positions only (no full logits)"
    return "TRL fused LM head, torch tiles of 4096 tokens (no full logits)"


def mfu(tokens_per_s: float, flops_per_token: float, peak_flops: float) -> float:
    """Model FLOPs utilisation: achieved model FLOP/s over the card's peak."""
    return tokens_per_s * flops_per_token / peak_flops if peak_flops > 0 else math.nan


def train_flops_per_token(shape: ModelShape, context: float) -> float:
    """FLOPs of one LoRA training token (model FLOPs: recomputation by checkpointing is not counted).

    Forward 2N plus the input gradients 2N of the frozen projections and the LM head; attention scores over
    ``context`` earlier tokens of the same example, forward and twice that backward.
    """
    linear = shape.layers * shape.layer_params() + shape.vocab * shape.hidden
    attention = shape.layers * 2 * 2 * context * shape.heads * shape.head_dim  # QK^T and AV, forward
    return 4 * linear + 3 * attention


def plan(args: Any, config: Any, *, attention: tuple[str, str], budget: int, lora_rank: int) -> dict[str, Any]:
    """Settle the speed choices on ``args`` (an ``SFTConfig``) before ``SFTTrainer`` reads it; return them with reasons.

    Sets the packed row length (``args.max_length``, TRL's bin size: ``packed_length`` or the example budget),
    ``gradient_accumulation_steps`` from ``tokens_per_step``, activation checkpointing (``auto``: from
    :func:`estimate_memory` against the card) and ``use_liger_kernel`` (off where it cannot run).
    """
    if args.packed_length and args.packed_length < budget:
        raise ValueError(f"packed_length={args.packed_length} is shorter than max_length={budget}: an example would not fit a row")
    row = (args.packed_length or budget) if args.packing else budget
    args.max_length = row
    batch = args.per_device_train_batch_size
    if args.tokens_per_step:
        args.gradient_accumulation_steps = accumulation_for(args.tokens_per_step, row, batch)
        steps_why = f"tokens_per_step={args.tokens_per_step}"
    else:
        steps_why = "batch x accumulation as given"
    shape = ModelShape.of(config)
    weight_bytes = 2 if (args.bf16 or args.fp16) else 4
    dense = attention[0] not in MASK_FREE_ATTENTION
    need = {on: estimate_memory(shape, batch * row, checkpointing=on, dense_mask=dense, weight_bytes=weight_bytes, lora_rank=lora_rank)
            for on in (False, True)}  # fmt: skip
    card = card_memory()
    request = getattr(args, "statewise_checkpointing", "hardware")
    if request == AUTO:
        checkpointing, ckpt_why = choose_checkpointing(need[False], card)
    elif request == "hardware":
        checkpointing, ckpt_why = bool(args.activation_checkpointing), "default: on for CUDA, off on CPU"
    else:
        checkpointing, ckpt_why = request == "on", "as requested"
    args.activation_checkpointing = args.gradient_checkpointing = checkpointing
    liger, liger_why = choose_liger(bool(args.use_liger_kernel))
    args.use_liger_kernel = liger
    return {
        "attention": {"implementation": attention[0], "why": attention[1], "mask_free": not dense},
        "activation_checkpointing": {"on": checkpointing, "why": ckpt_why, "request": request,
                                     "estimate_gib": {"without": round(need[False] / GIB, 1), "with": round(need[True] / GIB, 1)},
                                     "card_gib": round(card / GIB, 1) if card else None},
        "liger_kernel": {"on": liger, "why": liger_why},
        "lm_head": lm_head_path(),
        "packing": bool(args.packing),
        "row_length": row,
        "batch_size": batch,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "tokens_per_step": row * batch * args.gradient_accumulation_steps,
        "tokens_per_step_why": steps_why,
        "precision": "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32",
    }  # fmt: skip


def describe(choices: dict[str, Any]) -> list[str]:
    """One printable line per choice (what the trainer logs at start)."""
    ckpt, attn, liger = choices["activation_checkpointing"], choices["attention"], choices["liger_kernel"]
    return [
        f"speed: attention {attn['implementation']} ({attn['why']})",
        f"speed: activation checkpointing {'on' if ckpt['on'] else 'off'} ({ckpt['why']}; estimate "
        f"{ckpt['estimate_gib']['without']} GiB without, {ckpt['estimate_gib']['with']} GiB with)",
        f"speed: liger-kernel {'on' if liger['on'] else 'off'} ({liger['why']})",
        f"speed: loss through {choices['lm_head']}",
        f"speed: {'packed rows' if choices['packing'] else 'padded batches'} of {choices['row_length']} tokens, batch {choices['batch_size']} x "
        f"accumulation {choices['gradient_accumulation_steps']} = {choices['tokens_per_step']} token slots per step ({choices['tokens_per_step_why']}), "
        f"{choices['precision']}",
    ]
