"""Export and reload a trained adapter: peft's `save_pretrained` layout plus the prompt style and tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

from peft import PeftModel

from safetuned.errors import ModelError
from safetuned.utils.io import atomic_dir

INFO_FILE = "safetuned.json"


def export_adapter(model: PeftModel, tokenizer, style, out_dir: str | Path, base: str) -> Path:
    """Write `out_dir/` atomically: adapter weights + config, tokenizer, prompt.json and the base model source."""
    from safetuned.data.prompts import save_prompt_style

    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        save_prompt_style(style, tmp)
        (tmp / INFO_FILE).write_text(json.dumps({"base_model": base}, indent=2) + "\n", encoding="utf-8")
    return out_dir


def load_adapted(
    adapter_dir: str | Path,
    base: str | None = None,
    dtype: str = "float32",
    quantization: str | None = None,
    trust_remote_code: bool = False,
    attn_implementation: str | None = None,
):
    """Load base model (in `dtype`, 8/4-bit when `quantization`) + adapter + tokenizer + prompt style."""
    from safetuned.data.prompts import load_prompt_style
    from safetuned.model.load import load_causal_lm, load_tokenizer

    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_config.json").exists():
        raise ModelError(f"{adapter_dir} is not an adapter folder (no adapter_config.json)")
    info = json.loads((adapter_dir / INFO_FILE).read_text()) if (adapter_dir / INFO_FILE).exists() else {}
    base = base or info.get("base_model") or json.loads((adapter_dir / "adapter_config.json").read_text()).get(
        "base_model_name_or_path")
    if not base:
        raise ModelError(f"{adapter_dir}: the base model is unknown; pass model.pretrained=<base>")
    model = load_causal_lm(base, dtype=dtype, trust_remote_code=trust_remote_code, quantization=quantization or None,
                           attn_implementation=attn_implementation)
    if info.get("merged_adapter"):  # a fresh LoRA trained on the base merged with another adapter (an attack job)
        merged = Path(info["merged_adapter"])
        if not (merged / "adapter_config.json").exists():
            raise ModelError(f"{adapter_dir} was trained on {merged} merged into its base, and that adapter is gone")
        model = PeftModel.from_pretrained(model, merged).merge_and_unload()
    model = PeftModel.from_pretrained(model, adapter_dir)
    tokenizer = load_tokenizer(str(adapter_dir), trust_remote_code=trust_remote_code)
    return model, tokenizer, load_prompt_style(adapter_dir, tokenizer=tokenizer), base


def load_adapted_as_configured(adapter_dir: str | Path, model_cfg):
    """`load_adapted` with the job's `model` config: its base (else the adapter's), dtype and quantization."""
    m = model_cfg
    return load_adapted(adapter_dir, base=m.get("pretrained") or None, dtype=str(m.get("dtype", "float32")),
                        quantization=m.get("quantization") or None,
                        trust_remote_code=bool(m.get("trust_remote_code", False)),
                        attn_implementation=m.get("attn_implementation") or None)


def placed_by_loader(model) -> bool:
    """Whether the loader put the (peft-wrapped) model on its devices (8/4-bit, device_map): `.to()` must not move it."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return bool(getattr(base, "is_quantized", False) or getattr(base, "hf_device_map", None))
