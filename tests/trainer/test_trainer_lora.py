"""The plan's Target Modules, strictly: LoRA on q/k/v/o/gate/up/down only, bias not trained, nothing else trainable."""

import re

import pytest

from trainer.config import LORA_TARGET_MODULES, StatewiseModelConfig, make_config
from trainer.train import build_trainer, lora_config


def test_only_lora_matrices_of_the_seven_modules_are_trainable(tiny_base, rows, small_config, tmp_path):
    trainer = build_trainer(small_config(tiny_base, tmp_path), rows)
    trainable = [name for name, p in trainer.model.named_parameters() if p.requires_grad]
    layers = trainer.model.get_base_model().config.num_hidden_layers
    assert len(trainable) == layers * len(LORA_TARGET_MODULES) * 2  # one lora_A and one lora_B per module and layer
    found = set()
    for name in trainable:
        m = re.search(r"\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])\.default\.weight$", name)
        assert m, name  # no bias, embedding, norm or lm_head
        found.add((int(m.group(1)), m.group(2), m.group(3)))
    assert found == {(i, mod, ab) for i in range(layers) for mod in LORA_TARGET_MODULES for ab in "AB"}


@pytest.mark.parametrize(
    "overrides",
    [{"lora_bias": "all"}, {"lora_bias": "lora_only"}, {"lora_target_modules": ("q_proj", "v_proj")},
     {"lora_target_modules": (*LORA_TARGET_MODULES, "lm_head")}],
)  # fmt: skip
def test_non_plan_lora_is_refused(overrides):
    with pytest.raises(ValueError, match="fine-tune plan"):
        lora_config(make_config(**overrides).model)


def test_plan_lora_config():
    cfg = lora_config(StatewiseModelConfig())
    assert set(cfg.target_modules) == set(LORA_TARGET_MODULES) and cfg.bias == "none" and not cfg.modules_to_save
