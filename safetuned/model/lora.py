"""Wrap a causal LM with peft LoRA, checking the target modules against the architecture first."""

from __future__ import annotations

from collections.abc import Iterable

import torch
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


def apply_lora(model: PreTrainedModel, config: LoraConfig, seed: int | None = None) -> PeftModel:
    """Freeze the base model and add trainable LoRA adapters, initialised from `seed` when given.

    Seeding here makes the adapter's initial weights a function of the seed alone: otherwise they depend on
    whatever drew random numbers before (e.g. the first job of a sweep building the embedded base model), and a
    resumed or repeated job would not start where the original did.
    """
    if isinstance(config.target_modules, (list, tuple, set)):
        config.target_modules = list(config.target_modules)
    if seed is not None:
        torch.manual_seed(int(seed))
    return get_peft_model(model, config)

