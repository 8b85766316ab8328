"""Loss mask, packing isolation, the golden template test and over-long refusal."""

import itertools

import pytest
import torch
from transformers import AutoTokenizer

from trainer.data import OverLongError, measure
from trainer.model import load_tokenizer
from trainer.template import render_prompt, render_training_text
from trainer.train import build_trainer

END = "<|im_end|>\n"


@pytest.fixture(scope="module")
def unpacked(tiny_base, rows, small_config, tmp_path_factory):
    return build_trainer(small_config(tiny_base, tmp_path_factory.mktemp("u"), packing=False), rows)


def test_cpu_precision_is_explicit(unpacked):
    args = unpacked.args
    assert (args.bf16, args.fp16, args.gradient_checkpointing, args.activation_checkpointing) == (False, False, False, False)
    assert args.completion_only_loss and not args.assistant_only_loss and args.seed == 42


def test_loss_mask_covers_answer_and_end_token_only(unpacked, rows):
    tok = unpacked.processing_class
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    for example, row in zip(unpacked.train_dataset, rows, strict=True):
        ids, labels = example["input_ids"], example["labels"]
        prompt = tok(render_prompt(tok, row["messages"][:2]), add_special_tokens=False)["input_ids"]
        assert ids[: len(prompt)] == prompt
        assert set(labels[: len(prompt)]) == {-100}
        assert labels[len(prompt) :] == ids[len(prompt) :]
        assert im_end in labels[len(prompt) :]
        assert tok.decode(labels[len(prompt) :]) == row["messages"][2]["content"] + END


def test_packing_keeps_examples_isolated(tiny_base, rows, small_config, tmp_path):
    trainer = build_trainer(small_config(tiny_base, tmp_path, packing=True), rows)
    batch = next(iter(trainer.get_train_dataloader()))
    assert "attention_mask" not in batch and batch["input_ids"].shape[0] == 1
    model = trainer.model.eval()
    ids, pos = batch["input_ids"].to(model.device), batch["position_ids"].to(model.device)
    starts = [*(pos[0] == 0).nonzero().flatten().tolist(), ids.shape[1]]
    assert len(starts) >= 3, "expected at least two examples in one packed row"
    with torch.no_grad():
        packed = model(input_ids=ids, position_ids=pos).logits[0]
        for a, b in itertools.pairwise(starts):
            alone = model(input_ids=ids[:, a:b]).logits[0]
            torch.testing.assert_close(packed[a:b], alone, atol=1e-4, rtol=1e-4)
        # control: without the position_ids reset the second example attends to the first, and the logits differ
        a, b = starts[1], starts[2]
        leaky = model(input_ids=ids).logits[0]
        assert not torch.allclose(leaky[a:b], model(input_ids=ids[:, a:b]).logits[0], atol=1e-3)


def test_golden_training_text_equals_exported_template(trained_run, unpacked, rows):
    """Training text == exported chat template's prompt (no kwargs: non-thinking by default) + answer + <|im_end|>."""
    for folder in ("merged", "adapter"):
        exported = AutoTokenizer.from_pretrained(trained_run["export"] / folder)
        for example, row in zip(unpacked.train_dataset, rows, strict=True):
            served = exported.apply_chat_template(row["messages"][:2], tokenize=False, add_generation_prompt=True)
            expected = served + row["messages"][2]["content"] + END
            assert unpacked.processing_class.decode(example["input_ids"]) == expected
            assert exported(expected, add_special_tokens=False)["input_ids"] == example["input_ids"]
            assert "<think>\n\n</think>\n\n" in served
            assert served == exported.apply_chat_template(row["messages"][:2], tokenize=False, add_generation_prompt=True, enable_thinking=False)


def test_golden_with_real_qwen3_vocabulary(rows):
    tokens = pytest.importorskip("dataset_export.tokens")
    from trainer.template import apply_statewise_template

    tok = apply_statewise_template(tokens.qwen3_tokenizer())
    for row in rows:
        served = tok.apply_chat_template(row["messages"][:2], tokenize=False, add_generation_prompt=True)
        assert render_training_text(tok, row["messages"]) == served + row["messages"][2]["content"] + END
        full, prompt = (tok(t, add_special_tokens=False)["input_ids"] for t in (served + row["messages"][2]["content"] + END, served))
        assert full[: len(prompt)] == prompt


def test_over_long_examples_are_refused(tiny_base, rows, small_config, tmp_path):
    tok = load_tokenizer(str(tiny_base))
    lengths = measure(rows, tok, 4096)
    limit = sorted(lengths)[-2]
    with pytest.raises(OverLongError, match=r"1 of 9 examples exceed max_length") as err:
        measure(rows, tok, limit)
    assert rows[lengths.index(max(lengths))]["id"] in str(err.value)
    with pytest.raises(OverLongError):
        build_trainer(small_config(tiny_base, tmp_path, max_length=limit), rows)


def test_vendored_qwen3_template_is_trls_copy_of_the_official_one():
    """dataset_export ships Qwen3's official chat template verbatim: byte for byte the copy TRL bundles."""
    from importlib import resources

    from dataset_export.qwen3 import chat_template

    assert chat_template() == (resources.files("trl") / "chat_templates" / "qwen3.jinja").read_text(encoding="utf-8")


def test_flex_attention_keeps_packed_examples_apart_without_a_dense_mask():
    """`--attn_implementation flex_attention` (what `auto` picks on a CUDA GPU without FlashAttention): transformers turns
    packed position_ids into a block-sparse BlockMask, the same block-diagonal causal pattern SDPA gets as a dense tensor.
    (Running FlexAttention itself on a CPU compiles for minutes; the mask is what keeps the examples apart.)"""
    from torch.nn.attention.flex_attention import BlockMask
    from transformers import Qwen3Config
    from transformers.masking_utils import create_causal_mask

    cfg = Qwen3Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1, head_dim=16)
    lengths = [5, 7, 4]
    pos = torch.tensor([[p for n in lengths for p in range(n)]])
    embeds = torch.zeros(1, pos.shape[1], 32)
    masks = {}
    for impl in ("sdpa", "flex_attention"):
        cfg._attn_implementation = impl
        masks[impl] = create_causal_mask(config=cfg, inputs_embeds=embeds, attention_mask=None, cache=None, position_ids=pos)
    assert isinstance(masks["sdpa"], torch.Tensor) and masks["sdpa"].shape == (1, 1, 16, 16)  # dense: rows x rows
    flex = masks["flex_attention"]
    assert isinstance(flex, BlockMask)
    q, k = torch.arange(16)[:, None].expand(16, 16), torch.arange(16)[None, :].expand(16, 16)
    allowed = flex.mask_mod(torch.zeros_like(q), torch.zeros_like(q), q, k)
    seq = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
    expected = (seq[:, None] == seq[None, :]) & (k <= q)
    assert torch.equal(allowed, expected) and torch.equal(masks["sdpa"][0, 0], expected)
