"""Load the base causal LM and tokenizer: the embedded tiny model, a local folder or a hub id."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PretrainedConfig, PreTrainedModel

from safetuned.errors import ConfigError, ModelError, first_line

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
          "float16": torch.float16, "fp16": torch.float16, "auto": "auto"}


def resolve_dtype(name: str) -> torch.dtype | str:
    """Map a config dtype string to torch (the choice is the user's: bf16 on a CPU runs, slowly)."""
    if name not in DTYPES:
        raise ConfigError(f"model.dtype={name!r} is not one of {sorted(DTYPES)}")
    return DTYPES[name]


def _offline_hint(name: str) -> str:
    return (
        f"cannot load model {name!r}: it is not a local folder and the Hugging Face Hub is unreachable here; "
        f"download it first (`huggingface-cli download {name} --local-dir <dir>`) and set model.pretrained=<dir>"
    )


def _check_local_config(name: str, path: Path) -> None:
    """A local folder's config.json must be a non-empty JSON object: say what is wrong before transformers does."""
    import json

    file = path / "config.json"
    if not file.exists():
        raise ModelError(f"model.pretrained={name!r} is a folder without config.json: not a transformers model")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"model.pretrained={name!r}: {file} is not valid JSON ({first_line(e)})") from None
    if not isinstance(data, dict) or not data:
        raise ModelError(f"model.pretrained={name!r}: {file} holds {json.dumps(data)[:40]}, not a model config "
                         "(no model_type, no architecture); save the model with save_pretrained()")


def load_model_config(name: str, trust_remote_code: bool = False) -> PretrainedConfig:
    """Fetch only the config (cheap): the early check that a model exists, run before any data or weights."""
    path = Path(name).expanduser()
    if path.exists():
        _check_local_config(name, path)
    elif name.startswith((".", "/", "~")) or len(Path(name).parts) > 2:
        raise ModelError(f"model.pretrained={name!r}: no such folder")
    try:
        return AutoConfig.from_pretrained(str(path) if path.exists() else name, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        if "trust_remote_code" in str(e):
            raise ModelError(f"model {name!r} needs custom code: set model.trust_remote_code=true if you trust it")
        if path.exists():
            raise ModelError(f"model.pretrained={name!r}: cannot read its config ({first_line(e)})") from None
        raise ModelError(_offline_hint(name)) from None


def linear_module_names(config: PretrainedConfig, trust_remote_code: bool = False) -> set[str]:
    """Leaf names of the model's Linear layers, found on the meta device without allocating weights."""
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=trust_remote_code)
    return {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}


def load_tokenizer(name: str, trust_remote_code: bool = False, padding_side: str = "right"):
    """Load the tokenizer and give it a pad token when it has none (unk, else eos: never a trained token)."""
    try:
        tok = AutoTokenizer.from_pretrained(name, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        if Path(name).expanduser().exists():
            raise ModelError(f"cannot load a tokenizer from the folder {name}: {first_line(e)}") from None
        raise ModelError(_offline_hint(name)) from None
    if tok.pad_token is None:
        # Padding positions carry label -100 and attention 0, so the token chosen never trains.
        tok.pad_token = tok.unk_token if tok.unk_token is not None else tok.eos_token
        log.info("tokenizer has no pad token: using %r", tok.pad_token)
    tok.padding_side = padding_side
    return tok


def load_causal_lm(
    name: str,
    dtype: str = "float32",
    trust_remote_code: bool = False,
    quantization: str | None = None,
    gradient_checkpointing: bool = False,
    attn_implementation: str | None = None,
) -> PreTrainedModel:
    """Load a causal LM by hub id or path, optionally 8/4-bit through bitsandbytes."""
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code, "dtype": resolve_dtype(dtype)}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if quantization:
        kwargs["quantization_config"] = _bnb_config(quantization, kwargs["dtype"])
    try:
        model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
    except OSError as e:
        if Path(name).expanduser().exists():
            raise ModelError(f"cannot load the model weights from the folder {name}: {first_line(e)}") from None
        raise ModelError(_offline_hint(name)) from None
    if quantization:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    elif gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()  # LoRA freezes the embeddings; checkpointed blocks need a grad input
    model.config.use_cache = not gradient_checkpointing
    return model


def _bnb_config(quantization: str, dtype):
    if quantization not in ("8bit", "4bit"):
        raise ConfigError(f"model.quantization={quantization!r} is not one of [null, 8bit, 4bit]")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise ConfigError("model.quantization needs bitsandbytes: pip install 'safetuned[quant]' (CUDA only)") from None
    if not torch.cuda.is_available():
        raise ConfigError("model.quantization (bitsandbytes) needs a CUDA GPU; set model.quantization=null on CPU")
    from transformers import BitsAndBytesConfig

    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16 if dtype == "auto" else dtype)


def embedded_model_dir(embedded: DictConfig, cache_dir: str | Path) -> Path:
    """Cache folder of the embedded model: keyed by every setting that shapes it, so a change never reuses it."""
    import hashlib
    import json

    from omegaconf import OmegaConf

    if embedded.get("path"):
        return Path(embedded.path)
    from safetuned.data.demo import VERSION as WORLD_VERSION

    settings = {k: v for k, v in OmegaConf.to_container(embedded, resolve=True).items() if k not in ("path", "world_dir")}
    settings["world_version"] = WORLD_VERSION  # a regenerated demo world means a new tokenizer and base model
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache_dir) / "models" / f"tiny-llama-{digest}"


def model_source(cfg: DictConfig) -> str:
    """The hub id or folder the job loads: the embedded model's cache folder when `model.pretrained` is null."""
    m = cfg.model
    return str(m.pretrained) if m.get("pretrained") else str(embedded_model_dir(m.embedded, cfg.paths.cache_dir))
