import argparse
from dataclasses import fields

import pytest

from trainer.config import LORA_TARGET_MODULES, TrainConfig, add_config_flags, config_from_args, load_toml


def test_plan_defaults():
    cfg = TrainConfig()
    assert (cfg.max_length, cfg.per_device_train_batch_size, cfg.gradient_accumulation_steps) == (2048, 1, 8)
    assert (cfg.learning_rate, cfg.num_train_epochs, cfg.optim, cfg.packing) == (2e-4, 1.0, "adamw_torch", True)
    assert cfg.lora_target_modules == ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj") == LORA_TARGET_MODULES
    assert cfg.lora_bias == "none" and cfg.bf16 is None
    assert cfg.thresholds() == {
        "decision_accuracy": (">=", 0.95),
        "schema_compliance_rate": (">=", 1.0),
        "hallucinated_id_rate": ("<=", 0.0),
        "redundant_call_rate": ("<=", 0.01),
        "state_sensitivity_accuracy": (">=", 0.95),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    return parser


def test_every_field_has_a_flag():
    flags = {a.dest for a in _parser()._actions} - {"help", "config"}
    assert flags == {f.name for f in fields(TrainConfig)}


def test_toml_then_flags(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[train]\nlearning_rate = 1\nlora_target_modules = ["q_proj", "v_proj"]\nbf16 = false\nmax_length = 512\n')
    cfg = load_toml(toml)
    assert cfg.learning_rate == 1.0 and isinstance(cfg.learning_rate, float)
    assert cfg.lora_target_modules == ("q_proj", "v_proj") and cfg.bf16 is False
    args = _parser().parse_args(["--config", str(toml), "--max-length", "64", "--no-packing", "--bf16", "auto", "--lora-target-modules", "q_proj,k_proj"])
    cfg = config_from_args(args)
    assert (cfg.max_length, cfg.packing, cfg.bf16, cfg.learning_rate) == (64, False, None, 1.0)
    assert cfg.lora_target_modules == ("q_proj", "k_proj")


def test_unknown_toml_key(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text("lerning_rate = 1\n")
    with pytest.raises(ValueError, match="lerning_rate"):
        load_toml(toml)


@pytest.mark.parametrize("name", ["qwen3-1.7b.toml", "qwen3-4b.toml"])
def test_shipped_configs_keep_plan_defaults(name):
    from pathlib import Path

    import trainer

    cfg = load_toml(Path(trainer.__file__).parent / "configs" / name)
    plan = TrainConfig()
    assert cfg.base_model in ("Qwen/Qwen3-1.7B", "Qwen/Qwen3-4B") and cfg.tensorboard
    for key in ("max_length", "per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate", "num_train_epochs", "optim",
                "packing", "lora_target_modules", "lora_bias"):  # fmt: skip
        assert getattr(cfg, key) == getattr(plan, key), key


@pytest.mark.parametrize(("major", "bf16"), [(7, False), (8, True), (9, True)])
def test_bf16_only_where_the_gpu_has_it(monkeypatch, major, bf16):
    """A T4/V100 (compute 7.x) only emulates bf16: auto precision must not pick it there."""
    import torch

    from trainer.train import precision

    def is_bf16_supported(including_emulation: bool = True) -> bool:
        return major >= 8 or including_emulation  # what torch answers on such a GPU

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)
    assert precision(TrainConfig()) == (bf16, True)
    assert precision(TrainConfig(bf16=False)) == (False, True)
