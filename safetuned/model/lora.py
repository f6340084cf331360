"""Wrap a causal LM with peft LoRA, checking the target modules against the architecture first."""

from __future__ import annotations

from collections.abc import Iterable

from peft import LoraConfig, PeftModel, get_peft_model
from transformers import PreTrainedModel

from safetuned.errors import ConfigError


def check_lora_targets(targets: Iterable[str] | str, linear_names: set[str], model_name: str) -> None:
    """Fail with one line when a configured LoRA target names no Linear layer of the model."""
    if isinstance(targets, str):
        if targets == "all-linear":
            return
        targets = [targets]
    missing = [t for t in targets if t not in linear_names]
    if missing:
        raise ConfigError(
            f"lora.target_modules {missing} match no Linear layer of {model_name}; "
            f"its Linear layers are {sorted(linear_names)}"
        )


def apply_lora(model: PreTrainedModel, config: LoraConfig) -> PeftModel:
    """Freeze the base model and add trainable LoRA adapters."""
    if isinstance(config.target_modules, (list, tuple, set)):
        config.target_modules = list(config.target_modules)
    return get_peft_model(model, config)

