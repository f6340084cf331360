"""Batched generation for evaluation: length-sorted, left-padded batches with a KV cache, returned in input order.

Greedy decoding runs a hand-written loop (`_greedy_batch`) over the model's forward; beam search and sampling go
through Hugging Face `model.generate`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

from safetuned.errors import ConfigError, ModelError

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


@dataclass
class GenerationConfig:
    """Decoding settings for every evaluation suite (greedy by default)."""

    max_new_tokens: int = 64
    num_beams: int = 1
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 50
    repetition_penalty: float = 1.0
    batch_size: int = 32

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


def _encode(tokenizer, text: str) -> list[int]:
    """Token ids exactly as training built them: special tokens added unless the text already starts with BOS."""
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and text.startswith(bos))
    return list(tokenizer(text, add_special_tokens=add_special)["input_ids"])


def _device(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


@contextmanager
def _eval_mode(model) -> Iterator[None]:
    """Eval mode inside, the caller's training mode restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _left_pad(batch: list[list[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-pad to the longest sequence: every prompt ends at the last column, where generation continues."""
    width = max(len(ids) for ids in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, ids in enumerate(batch):
        if ids:
            input_ids[i, width - len(ids):] = torch.as_tensor(ids, dtype=torch.long)
            mask[i, width - len(ids):] = 1
    return input_ids.to(device), mask.to(device)


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

    Greedy configs run `_greedy_batch`, others `model.generate`; both write what `generate_sequential` writes.
    `greedy_loop=False` sends even a greedy config through `model.generate` on the same batches (the benchmark's
    peer); True asks for the greedy loop and fails when the config is not one it can run. `fused=True` runs the
    greedy loop's fused decode step (see `_greedy_batch`).
    """
    prompts = _check_prompts(prompts)
    if not prompts:
        return []
    kwargs = config.generate_kwargs(model, tokenizer)
    greedy = uses_greedy_loop(model, config)
    if greedy_loop and not greedy:
        raise ConfigError("generate(greedy_loop=True): the config is not greedy (num_beams=1, do_sample=false, "
                          "repetition_penalty=1.0) or the model's generation_config changes greedy decoding")
    greedy = greedy if greedy_loop is None else greedy_loop
    log.debug("%s kwargs: %s", "greedy loop" if greedy else "model.generate", kwargs)
    encoded = [_encode(tokenizer, p) for p in prompts]
    # Longest first: the slowest batch runs (and any out-of-memory error shows) at once, and padding is minimal.
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
    batches = [order[k:k + config.batch_size] for k in range(0, len(order), config.batch_size)]
    device = _device(model)
    eos = torch.as_tensor(kwargs["eos_token_id"], dtype=torch.long, device=device).reshape(-1)
    out: list[str | None] = [None] * len(prompts)
    with _eval_mode(model), torch.inference_mode():
        for idx in tqdm(batches, desc=desc, disable=not progress, unit="batch"):
            batch = [encoded[i] for i in idx]
            if greedy:
                new = _greedy_batch(model, batch, kwargs["pad_token_id"], eos, config.max_new_tokens, device,
                                    fused=fused)
                texts = [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
            else:
                input_ids, mask = _left_pad(batch, kwargs["pad_token_id"], device)
                seqs = model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
                texts = _decode_new(tokenizer, seqs, input_ids.shape[1])
            for i, text in zip(idx, texts):
                out[i] = text
    return out  # type: ignore[return-value]


def uses_greedy_loop(model, config: GenerationConfig) -> bool:
    """Whether `generate` decodes with `_greedy_batch`: greedy, no penalty, and no model default that HF applies."""
    if config.num_beams != 1 or config.do_sample or config.repetition_penalty != 1.0:
        return False
    if getattr(getattr(model, "config", None), "is_encoder_decoder", False):
        return False
    gen_cfg = getattr(model, "generation_config", None)
    return gen_cfg is None or set(gen_cfg.to_diff_dict()) <= _GREEDY_INERT_KEYS


def _supports_logits_to_keep(model) -> bool:
    """Whether the HF model's forward takes `logits_to_keep` (HF generate then passes 1)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def _shared_prefix(model, batch: list[list[int]]) -> int:
    """Length of the token prefix all rows share, each row keeping at least one token of its own.

    0 for a single row, and for sliding-window models: their window counts cache slots, so padding placed after
    the prefix would shift it.
    """
    cfg = getattr(model, "config", None)
    sliding = getattr(cfg, "sliding_window", None) or "sliding_attention" in (getattr(cfg, "layer_types", None) or ())
    if len(batch) < 2 or sliding:
        return 0
    limit, first, n = min(len(ids) for ids in batch) - 1, batch[0], 0
    while n < limit and all(ids[n] == first[n] for ids in batch):
        n += 1
    return n


class _BufferedLayer(DynamicLayer):
    """A KV cache layer that writes each step into spare room of a buffer instead of concatenating the whole cache.

    `keys`/`values` are views of the filled part, so attention reads the same numbers as with `DynamicLayer`.
    """

    def __init__(self, room: int = 0):
        super().__init__()
        self.room = room

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
            self._k = self._v = None
            self._n = 0
        n, add = self._n, key_states.shape[-2]
        if self._k is None or n + add > self._k.shape[-2]:
            room = max(self.room, 2 * (n + add))
            k, v = key_states, value_states
            self._k = k.new_empty((*k.shape[:2], room, k.shape[-1]))
            self._v = v.new_empty((*v.shape[:2], room, v.shape[-1]))
            if n:
                self._k[..., :n, :], self._v[..., :n, :] = self.keys, self.values
        self._k[..., n:n + add, :] = key_states
        self._v[..., n:n + add, :] = value_states
        self._n = n + add
        self.keys, self.values = self._k[..., :self._n, :], self._v[..., :self._n, :]
        return self.keys, self.values

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self.get_seq_length() > 0:
            self._k, self._v = self._k.repeat_interleave(repeats, 0), self._v.repeat_interleave(repeats, 0)
            self.keys, self.values = self._k[..., :self._n, :], self._v[..., :self._n, :]

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.get_seq_length() > 0:
            self._k, self._v = self._k[indices], self._v[indices]
            self.keys, self.values = self._k[..., :self._n, :], self._v[..., :self._n, :]


def _new_cache(model, fused: bool, room: int) -> DynamicCache:
    """The decode loop's KV cache: buffered layers (`room` positions) for the fused step when every layer is a
    plain DynamicLayer."""
    cache = DynamicCache(config=model.config)
    if fused and cache.layers and all(type(layer) is DynamicLayer for layer in cache.layers):
        cache.layers = [_BufferedLayer(room) for _ in cache.layers]
    return cache


def _greedy_batch(
    model, batch: list[list[int]], pad_id: int, eos: torch.Tensor, max_new_tokens: int, device: torch.device,
    fused: bool = False,
) -> list[list[int]]:
    """Greedy decoding of one batch; returns each row's new tokens (its EOS included, as HF's sequences hold it).

    Hand-written because HF `generate` keeps computing rows that already emitted EOS until the whole batch is
    done, and its continuous batching (`generate_batch`) measured 10x slower on CPU. Here rows leave the batch and
    the KV cache as they finish, and the prefix all rows share (the prompt template) is run once and its cache
    copied to every row. Layout: [shared prefix][left padding][rest of prompt], with the 2D attention mask 0 on
    the padding and explicit position ids `cumsum(mask) - 1`, so every token sits at its unpadded position, as
    in HF's left-padded batches; the mask grows by one column and the positions by one per step.
    `fused`: the decode step writes K/V into a buffer sized for the whole batch (no copy of the cache per step),
    drops finished rows only once a quarter of them are done (each drop copies the cache), and calls the base
    model directly, past the peft wrapper (the LoRA layers are inside it); the numbers are the same.
    """
    extra = {"logits_to_keep": 1} if _supports_logits_to_keep(model) else {}
    cache = _new_cache(model, fused, max(len(ids) for ids in batch) + max_new_tokens)
    peft_config = getattr(model, "active_peft_config", None)
    if fused and peft_config is not None and not peft_config.is_prompt_learning:
        model = model.get_base_model()
    shared = _shared_prefix(model, batch)
    if shared:
        prefix = torch.as_tensor([batch[0][:shared]], dtype=torch.long, device=device)
        start = torch.arange(shared, device=device)[None]
        model(input_ids=prefix, attention_mask=torch.ones_like(prefix), position_ids=start, past_key_values=cache,
              use_cache=True, **extra)
        cache.batch_repeat_interleave(len(batch))
    input_ids, mask = _left_pad([ids[shared:] for ids in batch], pad_id, device)
    mask = torch.cat([mask.new_ones((len(batch), shared)), mask], dim=-1)
    positions = (mask.cumsum(-1) - 1).masked_fill_(mask == 0, 0)[:, shared:]
    rows = torch.arange(len(batch), device=device)  # the batch row of each row still in the tensors
    done = torch.zeros(len(batch), dtype=torch.bool, device=device)  # rows finished but not yet dropped
    steps: list[tuple[torch.Tensor, torch.Tensor]] = []  # (rows, tokens) of each step
    for step in range(max_new_tokens):
        logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                       use_cache=True, **extra).logits
        tokens = logits[:, -1, :].float().argmax(-1)
        finished = int(done.sum())
        steps.append((rows, tokens) if not finished else (rows[~done], tokens[~done]))
        done |= torch.isin(tokens, eos)
        finished = int(done.sum())
        if step + 1 == max_new_tokens or finished == len(done):
            break
        # Dropping rows copies the cache: the fused step waits until a quarter of the rows are done.
        if finished and (not fused or 4 * finished >= len(done)):
            keep = (~done).nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            rows, tokens, mask, positions, done = rows[keep], tokens[keep], mask[keep], positions[keep], done[keep]
        input_ids = tokens[:, None]
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=-1)
        positions = positions[:, -1:] + 1
    new: list[list[int]] = [[] for _ in batch]
    for step_rows, tokens in steps:
        for r, t in zip(step_rows.tolist(), tokens.tolist()):
            new[r].append(t)
    return new


def generate_sequential(
    model, tokenizer, prompts: Sequence[str], config: GenerationConfig, progress: bool = True,
    desc: str = "generate (sequential)",
) -> list[str]:
    """One prompt at a time with no padding: the paper's script's loop, kept as the batching baseline."""
    prompts = _check_prompts(prompts)
    kwargs = config.generate_kwargs(model, tokenizer)
    device = _device(model)
    out: list[str] = []
    with _eval_mode(model), torch.inference_mode():
        for p in tqdm(prompts, desc=desc, disable=not progress, unit="prompt"):
            input_ids = torch.as_tensor([_encode(tokenizer, p)], dtype=torch.long, device=device)
            seqs = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **kwargs)
            out.extend(_decode_new(tokenizer, seqs, input_ids.shape[1]))
    return out
