import pytest
from transformers import LlamaConfig, LlamaForCausalLM, Qwen3MoeConfig, Qwen3MoeForCausalLM

from trainer.model import UnsupportedModelError, check_architecture, load_base_model

SMALL = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1, head_dim=16)


def test_refuses_qwen3_moe(tmp_path):
    cfg = Qwen3MoeConfig(**SMALL, moe_intermediate_size=32, num_experts=2, num_experts_per_tok=1)
    Qwen3MoeForCausalLM(cfg).save_pretrained(tmp_path)
    with pytest.raises(UnsupportedModelError, match="MoE variants are explicitly excluded"):
        load_base_model(str(tmp_path))


def test_refuses_llama(tmp_path):
    LlamaForCausalLM(LlamaConfig(**SMALL)).save_pretrained(tmp_path)
    with pytest.raises(UnsupportedModelError, match="dense Qwen3 only"):
        load_base_model(str(tmp_path))


def test_accepts_dense_qwen3(tiny_base):
    model = load_base_model(str(tiny_base))
    assert type(model).__name__ == "Qwen3ForCausalLM"
    check_architecture(model.config)
