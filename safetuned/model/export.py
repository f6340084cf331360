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


def load_adapted(adapter_dir: str | Path, base: str | None = None, dtype: str = "float32"):
    """Load base model + adapter + tokenizer + prompt style from an exported adapter folder."""
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
    model = PeftModel.from_pretrained(load_causal_lm(base, dtype=dtype), adapter_dir)
    tokenizer = load_tokenizer(str(adapter_dir))
    return model, tokenizer, load_prompt_style(adapter_dir, tokenizer=tokenizer), base
