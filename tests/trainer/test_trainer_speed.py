"""Speed choices (issue 20): capability checks, the memory estimate, CPU fallbacks, and what a run prints and records."""

import json
import logging

import pytest
import torch
from transformers import Qwen3Config

from trainer import speed
from trainer.cli import main, parse
from trainer.speed import GIB, ModelShape, choose_attention, choose_checkpointing, choose_liger, estimate_memory
from trainer.train import build_trainer, train

QWEN3_1_7B = ModelShape.of(Qwen3Config(hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8,
                                       head_dim=128, vocab_size=151936))  # fmt: skip
QWEN3_4B = ModelShape.of(Qwen3Config(hidden_size=2560, intermediate_size=9728, num_hidden_layers=36, num_attention_heads=32, num_key_value_heads=8,
                                     head_dim=128, vocab_size=151936))  # fmt: skip


def test_shapes_have_the_published_parameter_counts():
    assert 1.6e9 < QWEN3_1_7B.params() < 1.8e9  # "Qwen3-1.7B": 1.7B with the tied embedding
    assert 3.9e9 < QWEN3_4B.params() < 4.1e9


@pytest.mark.parametrize(("row", "measured_gib"), [(2048, 11), (8192, 35), (16384, 77)])
def test_memory_estimate_reproduces_the_measured_h200_peaks(row, measured_gib):
    """Issue 20's H200 figures: packed rows, SDPA, no checkpointing, Qwen3-1.7B, bf16, LoRA r16."""
    estimate = estimate_memory(QWEN3_1_7B, row, checkpointing=False, dense_mask=True) / GIB
    assert abs(estimate - measured_gib) / measured_gib < 0.1, estimate
    with_ckpt = estimate_memory(QWEN3_1_7B, row, checkpointing=True, dense_mask=True) / GIB
    mask_free = estimate_memory(QWEN3_1_7B, row, checkpointing=False, dense_mask=False) / GIB
    assert with_ckpt < mask_free < estimate


def test_auto_checkpointing_follows_the_card():
    need = estimate_memory(QWEN3_1_7B, 2048, checkpointing=False, dense_mask=True)
    assert choose_checkpointing(need, None) == (False, choose_checkpointing(need, None)[1]) and "no GPU" in choose_checkpointing(need, None)[1]
    on, why = choose_checkpointing(need, 141 * GIB)
    assert not on and "within" in why  # the H200: 1.7B at 2,048 tokens fits many times over
    four_b = estimate_memory(QWEN3_4B, 16384, checkpointing=False, dense_mask=False)
    assert choose_checkpointing(four_b, 24 * GIB)[0]  # a 24 GiB card: 4B at 16k tokens needs it
    assert not choose_checkpointing(estimate_memory(QWEN3_4B, 2048, checkpointing=False, dense_mask=False), 80 * GIB)[0]


def _gpu(monkeypatch, major: int, minor: int = 0, installed: tuple[str, ...] = ()) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (major, minor))
    monkeypatch.setattr(speed, "_installed", lambda module: module in installed)


def test_attention_capability_check(monkeypatch):
    assert choose_attention("auto")[0] == "sdpa"  # this machine: no GPU
    assert choose_attention("eager") == ("eager", "as requested")
    _gpu(monkeypatch, 9, 0, ("flash_attn_interface", "flash_attn"))
    assert choose_attention("auto")[0] == "flash_attention_3"
    _gpu(monkeypatch, 8, 6, ("flash_attn_interface", "flash_attn"))
    assert choose_attention("auto")[0] == "flash_attention_2"  # FlashAttention 3 is Hopper only
    _gpu(monkeypatch, 8, 0)
    assert choose_attention("auto")[0] == ("flex_attention" if speed.flex_attention_available() else "sdpa")
    monkeypatch.setattr(speed, "flex_attention_available", lambda: False)
    assert choose_attention("auto")[0] == "sdpa"


def test_liger_falls_back_with_the_reason(monkeypatch):
    assert choose_liger(False) == (False, "off (default)")
    on, why = choose_liger(True)
    assert not on and "no CUDA GPU" in why  # this machine
    _gpu(monkeypatch, 9)
    assert "Triton is not installed" in choose_liger(True)[1]
    _gpu(monkeypatch, 9, installed=("triton",))
    assert "liger-kernel is not installed" in choose_liger(True)[1]
    _gpu(monkeypatch, 9, installed=("triton", "liger_kernel"))
    assert choose_liger(True)[0]


def test_speed_flags_parse(tmp_path, capsys):
    def training(*flags: str):
        return parse("train", ["--output_dir", str(tmp_path), *flags])[0].training

    assert training().statewise_checkpointing == "hardware"
    auto = training("--activation_checkpointing", "auto")
    assert auto.statewise_checkpointing == "auto" and auto.activation_checkpointing is False  # the CPU default until the estimate
    assert training("--activation_checkpointing").activation_checkpointing is True  # a bare flag means true, as in transformers
    assert training("--activation_checkpointing", "false").statewise_checkpointing == "off"
    assert training("--packed_length", "8192", "--tokens_per_step", "16384").packed_length == 8192
    config = tmp_path / "fast.yaml"
    config.write_text("activation_checkpointing: auto\nattn_implementation: auto\nuse_liger_kernel: true\npacked_length: 16384\ntokens_per_step: 16384\n")
    cfg, _ = parse("train", ["--config", str(config), "--output_dir", str(tmp_path)])
    assert (cfg.training.statewise_checkpointing, cfg.model.attn_implementation, cfg.training.use_liger_kernel) == ("auto", "auto", True)
    assert (cfg.training.packed_length, cfg.training.tokens_per_step) == (16384, 16384)
    config.write_text("activation_checkpointing: true\n")  # YAML's boolean
    assert parse("train", ["--config", str(config), "--output_dir", str(tmp_path)])[0].training.statewise_checkpointing == "on"
    for flags in (["--activation_checkpointing", "sometimes"], ["--attn_implementation", "kernels-community/flash-attn3"], ["--eval_batch_size", "0"]):
        assert main(["run" if "--eval_batch_size" in flags else "train", "--output_dir", str(tmp_path), *flags]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and len(err.splitlines()) == 1, err


def test_packed_length_shorter_than_the_budget_is_refused(tiny_base, rows, small_config, tmp_path):
    with pytest.raises(ValueError, match="packed_length=512 is shorter than max_length=1024"):
        build_trainer(small_config(tiny_base, tmp_path, packed_length=512), rows)


def test_every_choice_is_printed_and_recorded(tiny_base, dataset_file, small_config, tmp_path, caplog):
    """The opt-in flags on a CPU: each falls back, says why, and the run trains with rows and steps as asked."""
    cfg = small_config(tiny_base, tmp_path, dataset=str(dataset_file), max_steps=1, activation_checkpointing="auto", attn_implementation="auto",
                       use_liger_kernel=True, packed_length=2048, tokens_per_step=4096)  # fmt: skip
    with caplog.at_level(logging.INFO, logger="trainer"):
        summary = train(cfg)
    s = summary["speed"]
    assert s["attention"] == {"implementation": "sdpa", "why": s["attention"]["why"], "mask_free": False} and "no GPU" in s["attention"]["why"]
    assert s["activation_checkpointing"]["on"] is False and s["activation_checkpointing"]["request"] == "auto"
    assert "no GPU" in s["activation_checkpointing"]["why"] and s["activation_checkpointing"]["estimate_gib"]["without"] > 0
    assert s["liger_kernel"] == {"on": False, "why": "requested, falling back to the standard layers: no CUDA GPU (Liger's kernels are Triton kernels)"}
    assert (s["row_length"], s["gradient_accumulation_steps"], s["tokens_per_step"]) == (2048, 2, 4096)
    assert "torch tiles" in s["lm_head"] and s["precision"] == "fp32"
    assert summary["max_length"] == 1024  # the example budget; rows are longer, examples are not
    assert summary["trained_tokens"] > 0 and summary["tokens_per_s"] > 0
    assert json.loads((tmp_path / "train_summary.json").read_text())["speed"] == s
    printed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("speed: ")]
    assert len(printed) == 5 and any("liger-kernel off (requested, falling back" in line for line in printed)
    assert any("packed rows of 2048 tokens, batch 1 x accumulation 2 = 4096 token slots" in line for line in printed)


def test_defaults_are_the_ones_that_ran(tiny_base, rows, small_config, tmp_path):
    """Without the flags: SDPA, checkpointing as the hardware default (off here), no Liger, rows of max_length."""
    trainer = build_trainer(small_config(tiny_base, tmp_path), rows)
    s = trainer.statewise_speed
    assert s["attention"]["implementation"] == "sdpa" and s["attention"]["why"] == "as requested"
    assert s["activation_checkpointing"]["request"] == "hardware" and not s["activation_checkpointing"]["on"]
    assert not s["liger_kernel"]["on"] and s["row_length"] == 1024 == trainer.args.max_length
    assert s["gradient_accumulation_steps"] == 1 and not trainer.args.use_liger_kernel


def test_eval_batch_from_memory(tiny_base, monkeypatch):
    from trainer.evaluate import EVAL_MAX_BATCH, choose_eval_batch
    from trainer.model import load_base_model

    model = load_base_model(str(tiny_base))
    assert choose_eval_batch(16, model, 900, 256) == (16, "as requested")
    assert choose_eval_batch("auto", model, 900, 256) == (8, "auto: no GPU, the fixed CPU batch")
    c = model.config
    per_row = c.num_hidden_layers * 2 * c.num_key_value_heads * c.head_dim * 4 * (900 + 256)  # fp32 KV cache of one row
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (per_row * 20, per_row * 40))
    batch, why = choose_eval_batch("auto", model, 900, 256)
    assert batch == 10 and "KV cache per row of 900+256 tokens" in why  # half the free memory
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (per_row * 10**6, per_row * 10**6))
    assert choose_eval_batch("auto", model, 900, 256)[0] == EVAL_MAX_BATCH
