"""`safetuned.evaluate` loads an adapter's base in the configured dtype and quantization (not always fp32)."""

from __future__ import annotations

import pytest
import torch
from peft import LoraConfig

from safetuned.data.prompts import get_prompt_style
from safetuned.errors import ConfigError
from safetuned.model.export import export_adapter, load_adapted
from safetuned.model.lora import apply_lora
from safetuned.model.tiny import random_tiny_llama, save_tiny, train_bpe_tokenizer
from tests.conftest import compose_cfg

TEXTS = ["How do I bake bread at home?", "Tell me a short story about a cat.", "List three prime numbers."] * 20


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny LLaMA saved in bf16, and an exported LoRA adapter (non-zero B, so it changes the output) for it."""
    root = tmp_path_factory.mktemp("bf16-base")
    tok = train_bpe_tokenizer(TEXTS, vocab_size=300)
    model = random_tiny_llama(tok, seed=0, hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64)
    base = save_tiny(model.to(torch.bfloat16), tok, root / "base")
    peft_model = apply_lora(model.float(), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                      task_type="CAUSAL_LM"), seed=0)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    lora_b = {n: p.detach().clone() for n, p in peft_model.named_parameters() if "lora_B" in n}
    adapter = export_adapter(peft_model, tok, get_prompt_style("alpaca"), root / "adapter", base=str(base))
    return base, adapter, tok, lora_b


def _adapter_changes_logits(model, tok) -> bool:
    ids = torch.tensor([tok("Tell me a story")["input_ids"]])
    with torch.no_grad():
        with_adapter = model(input_ids=ids).logits.float()
        with model.disable_adapter():
            without = model(input_ids=ids).logits.float()
    return not torch.allclose(with_adapter, without, atol=1e-3)


def _base_dtypes(model) -> set[torch.dtype]:
    return {p.dtype for n, p in model.named_parameters() if "lora_" not in n}


@pytest.mark.parametrize("dtype, expected", [("bfloat16", torch.bfloat16), ("float32", torch.float32)])
def test_load_adapted_honours_the_configured_dtype(saved, dtype, expected):
    base, adapter, tok, lora_b = saved
    model, _, style, base_used = load_adapted(adapter, dtype=dtype)
    assert base_used == str(base) and style.name == "alpaca"
    assert _base_dtypes(model) == {expected}  # the config decides, not the dtype the base was saved in
    loaded_b = {n: p for n, p in model.named_parameters() if "lora_B" in n}
    assert len(loaded_b) == len(lora_b) == 2
    for (_, want), got in zip(sorted(lora_b.items()), (p for _, p in sorted(loaded_b.items()))):
        assert torch.allclose(got.float(), want, atol=1e-6)
    assert _adapter_changes_logits(model, tok)


def _evaluate_cfg(tmp_path, cache_dir, adapter, base, *extra: str):
    return compose_cfg("evaluate", [f"adapter={adapter}", "model=local", f"model.pretrained={base}", "eval=none",
                                    "logger=none", "data.demo_seed=null", *extra], tmp_path / "eval", cache_dir)


def test_evaluate_loads_the_base_in_the_model_config_dtype(saved, tmp_path, cache_dir, monkeypatch):
    from safetuned.eval.runner import EvalPlan
    from safetuned.evaluate import evaluate

    base, adapter, tok, _ = saved
    seen = []
    original = EvalPlan.run

    def spy(self, model, *args, **kwargs):
        seen.append(model)
        return original(self, model, *args, **kwargs)

    monkeypatch.setattr(EvalPlan, "run", spy)
    cfg = _evaluate_cfg(tmp_path, cache_dir, adapter, base, "model.dtype=bfloat16")
    metrics = evaluate(cfg, tmp_path / "eval")
    assert "time/eval_s" in metrics and (tmp_path / "eval" / "metrics.json").exists()
    (model,) = seen
    assert _base_dtypes(model) == {torch.bfloat16}
    assert _adapter_changes_logits(model, tok)


def test_evaluate_passes_the_quantization_on(saved, tmp_path, cache_dir):
    from safetuned.evaluate import evaluate

    base, adapter, _, _ = saved
    cfg = _evaluate_cfg(tmp_path, cache_dir, adapter, base, "model.quantization=8bit")
    # No GPU (or no bitsandbytes) here: the loader refuses the 8-bit base instead of silently loading fp32.
    with pytest.raises(ConfigError, match="model.quantization"):
        evaluate(cfg, tmp_path / "eval")
