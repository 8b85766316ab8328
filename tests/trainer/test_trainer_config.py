"""The trainer's arguments: TRL's parser and dataclasses with the plan's defaults, YAML configs, the plan's guards."""

from pathlib import Path

import pytest
import trl
import yaml

import trainer
from trainer.cli import COMMANDS, main, make_parser, parse
from trainer.config import LORA_TARGET_MODULES, EvalArguments, PlanViolation, StatewiseSFTConfig, make_config, native_bf16, resolve_max_length

CONFIGS = Path(trainer.__file__).parent / "configs"


def test_plan_defaults():
    cfg = make_config()
    t = cfg.training
    assert (t.max_length, t.per_device_train_batch_size, t.gradient_accumulation_steps) == ("auto", 1, 8)
    assert (t.learning_rate, t.num_train_epochs, t.optim, t.packing) == (2e-4, 1.0, "adamw_torch", True)
    assert t.padding_free and t.completion_only_loss and not t.assistant_only_loss and t.packing_strategy == "bfd"
    assert tuple(cfg.model.lora_target_modules) == ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj") == LORA_TARGET_MODULES
    assert cfg.model.lora_bias == "none" and cfg.model.use_peft and cfg.base_model == "Qwen/Qwen3-1.7B"
    assert cfg.evaluation.thresholds() == {
        "decision_accuracy": (">=", 0.95),
        "schema_compliance_rate": (">=", 1.0),
        "hallucinated_id_rate": ("<=", 0.0),
        "redundant_call_rate": ("<=", 0.01),
        "state_sensitivity_accuracy": (">=", 0.95),
    }


def test_the_parser_is_trls_over_trls_dataclasses():
    for name in ("run", "train"):
        parser = make_parser(name)
        assert isinstance(parser, trl.TrlParser)
        assert issubclass(StatewiseSFTConfig, trl.SFTConfig)
        dests = {a.dest for a in parser._actions}
        # every TrainingArguments flag is there, not a hand-picked mirror
        assert {"report_to", "lr_scheduler_type", "warmup_steps", "push_to_hub", "deepspeed", "fsdp", "resume_from_checkpoint"} <= dests
        assert {"model_name_or_path", "lora_r", "lora_alpha", "lora_target_modules", "export_dir", "dataset"} <= dests


def test_help_lists_training_arguments(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "--lr_scheduler_type" in out and "--report_to" in out and "--base_model" in out and "--per_device_train_batch_size" in out


def test_flags_reach_the_trainer(tmp_path):
    from trainer.train import build_trainer

    cfg, _ = parse("train", ["--report_to", "tensorboard", "--lr_scheduler_type", "cosine", "--warmup_steps", "0.1", "--output_dir", str(tmp_path),
                             "--base-model", "x/y"])  # fmt: skip
    assert cfg.training.report_to == ["tensorboard"] and cfg.training.lr_scheduler_type.value == "cosine" and cfg.base_model == "x/y"
    cfg, _ = parse("train", ["--report_to", "none", "--lr_scheduler_type", "cosine", "--output_dir", str(tmp_path)])
    assert cfg.training.report_to == []
    # the parsed SFTConfig is the trainer's own arguments object
    from trainer.fixtures import demo_rows
    from trainer.tiny import save_tiny_base

    rows = demo_rows()
    base = save_tiny_base(rows, tmp_path / "base", vocab_size=300)
    cfg, _ = parse("train", ["--report_to", "none", "--lr_scheduler_type", "cosine", "--output_dir", str(tmp_path / "o"), "--base_model", str(base),
                             "--max_length", "1024"])  # fmt: skip
    trainer = build_trainer(cfg, rows)
    assert trainer.args is cfg.training and trainer.args.lr_scheduler_type.value == "cosine" and trainer.args.report_to == []


def test_yaml_then_flags(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("learning_rate: 1\nmax_length: 512\nbf16: false\nlr_scheduler_type: cosine\n")
    cfg, _ = parse("train", ["--config", str(config), "--max_length", "64", "--packing", "false", "--output_dir", str(tmp_path)])
    assert (cfg.training.max_length, cfg.training.packing, cfg.training.bf16, cfg.training.learning_rate) == (64, False, False, 1.0)
    assert not cfg.training.padding_free


def test_unknown_config_key_is_one_line_exit_2(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("lerning_rate: 1\n")
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "lerning_rate" in err and len(err.splitlines()) == 1


def test_max_length_is_auto_or_a_number(tmp_path):
    assert parse("train", ["--output_dir", str(tmp_path)])[0].training.max_length == "auto"
    assert parse("train", ["--max_length", "3072", "--output_dir", str(tmp_path)])[0].training.max_length == 3072
    assert parse("train", ["--max-length", "auto", "--output_dir", str(tmp_path)])[0].training.max_length == "auto"
    with pytest.raises(PlanViolation, match="max_length='big': use auto or a number"):
        make_config(max_length="big")


def test_auto_max_length_reads_the_datasets_choice_else_measures(tmp_path):
    dataset = tmp_path / "train.jsonl"
    assert resolve_max_length(1024, str(dataset), 900) == 1024
    assert resolve_max_length("auto", str(dataset), 1500) == 2048  # no stats.json: the plan's budget holds it
    assert resolve_max_length("auto", str(dataset), 2049) == 3072
    (tmp_path / "stats.json").write_text('{"max_length": 4096}')
    assert resolve_max_length("auto", str(dataset), 2049) == 4096  # the builder chose 4096 (its held-out set needed it)
    assert resolve_max_length("auto", str(dataset), 5000) == 6144  # a dataset edited since: its rows decide
    with pytest.raises(PlanViolation, match="8192"):
        resolve_max_length("auto", str(dataset), 9000)


@pytest.mark.parametrize("name", ["qwen3-1.7b.yaml", "qwen3-4b.yaml"])
def test_shipped_configs_keep_plan_defaults(name, tmp_path):
    data = yaml.safe_load((CONFIGS / name).read_text())
    cfg, _ = parse("train", ["--config", str(CONFIGS / name), "--output_dir", str(tmp_path)])
    plan = make_config()
    assert cfg.base_model in ("Qwen/Qwen3-1.7B", "Qwen/Qwen3-4B") and "tensorboard" in cfg.training.report_to
    for key in ("max_length", "per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate", "num_train_epochs", "optim", "packing"):
        assert getattr(cfg.training, key) == getattr(plan.training, key), key
        assert key in data
    assert tuple(cfg.model.lora_target_modules) == LORA_TARGET_MODULES and cfg.model.lora_bias == "none"


@pytest.mark.parametrize(
    "flags",
    [["--lora_target_modules", "q_proj", "v_proj"], ["--lora_bias", "all"], ["--use_peft", "false"], ["--lora_modules_to_save", "lm_head"]],
)
def test_plan_guards_refuse_in_one_line(flags, capsys, tmp_path):
    assert main(["train", "--dataset", "x.jsonl", "--output_dir", str(tmp_path), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "plan" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(("major", "bf16"), [(7, False), (8, True), (9, True)])
def test_bf16_only_where_the_gpu_has_it(monkeypatch, major, bf16):
    """A T4/V100 (compute 7.x) only emulates bf16: auto precision must not pick it there."""
    import torch

    def is_bf16_supported(including_emulation: bool = True) -> bool:
        return major >= 8 or including_emulation  # what torch answers on such a GPU

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)
    assert native_bf16() is bf16


def test_cpu_defaults_are_explicit(tmp_path, monkeypatch):
    """On a CPU TRL would turn bf16 and activation checkpointing on: the plan's config resolves both off."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = StatewiseSFTConfig(output_dir=str(tmp_path))
    assert args.bf16 is False and args.activation_checkpointing is False and args.use_cpu
    with pytest.raises(PlanViolation, match="bf16"):
        StatewiseSFTConfig(output_dir=str(tmp_path), bf16=True)


def test_every_command_has_a_parser():
    for name in COMMANDS:
        assert make_parser(name).prog == f"python -m trainer {name}"
    assert EvalArguments().max_new_tokens == 256
