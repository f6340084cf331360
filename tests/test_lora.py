"""LoRA wrapping: the adapter's initial weights are a function of the seed alone."""

from __future__ import annotations

import torch
from peft import LoraConfig, get_peft_model_state_dict
from transformers import LlamaConfig, LlamaForCausalLM

from safetuned.model.lora import apply_lora


def adapter_init(seed: int, draws_before: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(123)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                         intermediate_size=32))
    torch.rand(draws_before)  # e.g. the first job of a sweep pre-training the embedded base model
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    return get_peft_model_state_dict(apply_lora(model, cfg, seed=seed))


def test_adapter_init_ignores_earlier_random_draws():
    a, b = adapter_init(0, draws_before=0), adapter_init(0, draws_before=1000)
    assert a.keys() == b.keys() and any("lora_A" in k for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_adapter_init_follows_the_seed():
    a, b = adapter_init(0, 0), adapter_init(1, 0)
    assert any(not torch.equal(a[k], b[k]) for k in a if "lora_A" in k)
