"""Batched generation for evaluation: length-sorted, left-padded batches with a KV cache, returned in input order.

Greedy decoding runs a hand-written loop (`safetuned.eval.greedy`) over the model's forward; beam search and sampling go
through Hugging Face `model.generate`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from tqdm.auto import tqdm

from safetuned.data.collate import encode
from safetuned.errors import ConfigError, ModelError
from safetuned.eval import greedy
from safetuned.eval.greedy import left_pad

log = logging.getLogger(__name__)

# Values that make the sampling knobs inert: passed instead of the configured ones when sampling is off, so a
# model's own generation_config (e.g. LLaMA-2-chat's temperature=0.6) neither leaks in nor triggers HF warnings.
_NEUTRAL_SAMPLING = {"temperature": 1.0, "top_p": 1.0, "top_k": 50}

# generation_config keys the greedy loop may ignore: set by `generate_kwargs`, or sampling-only, or output-only.
# Any other non-default key (no_repeat_ngram_size, suppress_tokens, min_new_tokens, ...) changes what HF greedy
# writes, so the model then goes through `model.generate`.
_GREEDY_INERT_KEYS = frozenset({
    "max_length", "max_new_tokens", "num_beams", "do_sample", "temperature", "top_p", "top_k", "min_p", "typical_p",
    "epsilon_cutoff", "eta_cutoff", "repetition_penalty", "use_cache", "pad_token_id", "bos_token_id",
    "eos_token_id", "decoder_start_token_id", "output_attentions", "output_hidden_states", "output_scores",
    "output_logits", "return_dict_in_generate", "_from_model_config", "transformers_version",
})


def _greedy_defaults() -> dict[str, Any]:
    """conf/eval/generation/greedy.yaml, the one source of the decoding defaults."""
    from importlib.resources import files

    from omegaconf import OmegaConf

    text = (files("safetuned.conf") / "eval" / "generation" / "greedy.yaml").read_text(encoding="utf-8")
    return OmegaConf.to_container(OmegaConf.create(text))


_DEFAULTS = _greedy_defaults()


@dataclass
class GenerationConfig:
    """Decoding settings for every evaluation suite (greedy by default: conf/eval/generation/greedy.yaml)."""

    max_new_tokens: int = _DEFAULTS["max_new_tokens"]
    num_beams: int = _DEFAULTS["num_beams"]
    do_sample: bool = _DEFAULTS["do_sample"]
    temperature: float = _DEFAULTS["temperature"]
    top_p: float = _DEFAULTS["top_p"]
    top_k: int = _DEFAULTS["top_k"]
    repetition_penalty: float = _DEFAULTS["repetition_penalty"]
    batch_size: int = _DEFAULTS["batch_size"]

    def __post_init__(self) -> None:
        checks = {
            "max_new_tokens": self.max_new_tokens >= 1,
            "num_beams": self.num_beams >= 1,
            "batch_size": self.batch_size >= 1,
            "temperature": self.temperature > 0,
            "top_p": 0 < self.top_p <= 1,
            "top_k": self.top_k >= 0,
            "repetition_penalty": self.repetition_penalty > 0,
        }
        allowed = {
            "max_new_tokens": ">= 1", "num_beams": ">= 1", "batch_size": ">= 1", "temperature": "> 0",
            "top_p": "in (0, 1]", "top_k": ">= 0", "repetition_penalty": "> 0",
        }
        for key, ok in checks.items():
            if not ok:
                raise ConfigError(f"eval.generation.{key}={getattr(self, key)!r} is invalid; allowed: {allowed[key]}")

    @classmethod
    def paper(cls) -> GenerationConfig:
        """The paper's settings: alpaca-lora's generate defaults (4 beams, T=0.1, top-p 0.75, top-k 40), 256 tokens.

        alpaca-lora builds `GenerationConfig(temperature=0.1, top_p=0.75, top_k=40, num_beams=4)` without
        `do_sample`, so Hugging Face runs deterministic beam search and the sampling values have no effect. The
        preset keeps sampling off to match; the sampling values are recorded for fidelity only.
        """
        return cls(max_new_tokens=256, num_beams=4, do_sample=False, temperature=0.1, top_p=0.75, top_k=40,
                   repetition_penalty=1.0, batch_size=16)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> GenerationConfig:
        """Build from a config mapping, rejecting unknown keys with a one-line ConfigError."""
        d = dict(d or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ConfigError(f"eval.generation: unknown key(s) {unknown}; allowed: {known}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def generate_kwargs(self, model, tokenizer) -> dict[str, Any]:
        """The exact keyword arguments passed to `model.generate` (besides input_ids and attention_mask)."""
        eos = _eos_token_id(model, tokenizer)
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "num_beams": self.num_beams,
            "do_sample": self.do_sample,
            "repetition_penalty": self.repetition_penalty,
            "use_cache": True,
            "pad_token_id": _pad_token_id(tokenizer),
            "eos_token_id": eos,
        }
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k)
        else:
            kwargs.update(_NEUTRAL_SAMPLING)
        return kwargs


def _eos_token_id(model, tokenizer) -> int | list[int]:
    """The model's own EOS id(s) (some chat models stop at several), else the tokenizer's."""
    gen_cfg = getattr(model, "generation_config", None)
    eos = getattr(gen_cfg, "eos_token_id", None) if gen_cfg is not None else None
    if eos is None:
        eos = tokenizer.eos_token_id
    if eos is None:
        raise ModelError("the tokenizer has no eos_token and the model's generation_config names none; "
                         "generation could never stop early")
    return eos


def _pad_token_id(tokenizer) -> int:
    """The tokenizer's pad id, or EOS when it has none (the attention mask hides padding either way)."""
    pad = tokenizer.pad_token_id
    if pad is None:
        pad = tokenizer.eos_token_id
    if pad is None:
        raise ModelError("the tokenizer has neither a pad_token nor an eos_token; cannot pad batches")
    return int(pad)


def model_device(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


@contextmanager
def eval_mode(model) -> Iterator[None]:
    """Eval mode inside, the caller's training mode restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _decode_new(tokenizer, sequences: torch.Tensor, prompt_width: int) -> list[str]:
    return [t.strip() for t in tokenizer.batch_decode(sequences[:, prompt_width:], skip_special_tokens=True)]


def _check_prompts(prompts: Sequence[str]) -> list[str]:
    if isinstance(prompts, str):
        raise ConfigError("generate() takes a sequence of prompt strings, not one string")
    bad = [i for i, p in enumerate(prompts) if not isinstance(p, str)]
    if bad:
        raise ConfigError(f"generate(): prompt #{bad[0]} is {type(prompts[bad[0]]).__name__}, not str")
    return list(prompts)


def generate(
    model, tokenizer, prompts: Sequence[str], config: GenerationConfig, progress: bool = True,
    desc: str = "generate", greedy_loop: bool | None = None, fused: bool = False,
) -> list[str]:
    """Generate a response to each rendered prompt; batches are sorted by length and results kept in input order.

    Greedy configs run `greedy.greedy_batch`, others `model.generate`; both write what `generate_sequential` writes.
    `greedy_loop=False` sends even a greedy config through `model.generate` on the same batches (the benchmark's
    peer); True asks for the greedy loop and fails when the config is not one it can run. `fused=True` runs the
    greedy loop's fused decode step (see `greedy.greedy_batch`).
    """
    prompts = _check_prompts(prompts)
    if not prompts:
        return []
    kwargs = config.generate_kwargs(model, tokenizer)
    use_greedy = uses_greedy_loop(model, config)
    if greedy_loop and not use_greedy:
        raise ConfigError("generate(greedy_loop=True): the config is not greedy (num_beams=1, do_sample=false, "
                          "repetition_penalty=1.0) or the model's generation_config changes greedy decoding")
    use_greedy = use_greedy if greedy_loop is None else greedy_loop
    log.debug("%s kwargs: %s", "greedy loop" if use_greedy else "model.generate", kwargs)
    encoded = [encode(tokenizer, p) for p in prompts]
    # Longest first: the slowest batch runs (and any out-of-memory error shows) at once, and padding is minimal.
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
    batches = [order[k:k + config.batch_size] for k in range(0, len(order), config.batch_size)]
    device = model_device(model)
    eos = torch.as_tensor(kwargs["eos_token_id"], dtype=torch.long, device=device).reshape(-1)
    out: list[str | None] = [None] * len(prompts)
    with eval_mode(model), torch.inference_mode():
        for idx in tqdm(batches, desc=desc, disable=not progress, unit="batch"):
            batch = [encoded[i] for i in idx]
            if use_greedy:
                new = greedy.greedy_batch(model, batch, kwargs["pad_token_id"], eos, config.max_new_tokens, device,
                                    fused=fused)
                texts = [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
            else:
                input_ids, mask = left_pad(batch, kwargs["pad_token_id"], device)
                seqs = model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
                texts = _decode_new(tokenizer, seqs, input_ids.shape[1])
            for i, text in zip(idx, texts):
                out[i] = text
    return out  # type: ignore[return-value]


def uses_greedy_loop(model, config: GenerationConfig) -> bool:
    """Whether `generate` decodes with `greedy.greedy_batch`: greedy, no penalty, and no model default that HF applies."""
    if config.num_beams != 1 or config.do_sample or config.repetition_penalty != 1.0:
        return False
    if getattr(getattr(model, "config", None), "is_encoder_decoder", False):
        return False
    gen_cfg = getattr(model, "generation_config", None)
    return gen_cfg is None or set(gen_cfg.to_diff_dict()) <= _GREEDY_INERT_KEYS


def generate_sequential(
    model, tokenizer, prompts: Sequence[str], config: GenerationConfig, progress: bool = True,
    desc: str = "generate (sequential)",
) -> list[str]:
    """One prompt at a time with no padding: the paper's script's loop, kept as the batching baseline."""
    prompts = _check_prompts(prompts)
    kwargs = config.generate_kwargs(model, tokenizer)
    device = model_device(model)
    out: list[str] = []
    with eval_mode(model), torch.inference_mode():
        for p in tqdm(prompts, desc=desc, disable=not progress, unit="prompt"):
            input_ids = torch.as_tensor([encode(tokenizer, p)], dtype=torch.long, device=device)
            seqs = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **kwargs)
            out.extend(_decode_new(tokenizer, seqs, input_ids.shape[1]))
    return out
