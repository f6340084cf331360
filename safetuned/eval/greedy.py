"""The greedy decoding loop of `safetuned.eval.generate`: finished rows leave the batch, the shared prompt prefix
runs once, and an optional fused decode step writes K/V into a preallocated buffer."""

from __future__ import annotations

import inspect

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


def left_pad(batch: list[list[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-pad to the longest sequence: every prompt ends at the last column, where generation continues."""
    width = max(len(ids) for ids in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, ids in enumerate(batch):
        if ids:
            input_ids[i, width - len(ids):] = torch.as_tensor(ids, dtype=torch.long)
            mask[i, width - len(ids):] = 1
    return input_ids.to(device), mask.to(device)



def supports_logits_to_keep(model) -> bool:
    """Whether the HF model's forward takes `logits_to_keep` (HF generate then passes 1)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def shared_prefix(model, batch: list[list[int]]) -> int:
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


class BufferedLayer(DynamicLayer):
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


def new_cache(model, fused: bool, room: int) -> DynamicCache:
    """The decode loop's KV cache: buffered layers (`room` positions) for the fused step when every layer is a
    plain DynamicLayer."""
    cache = DynamicCache(config=model.config)
    if fused and cache.layers and all(type(layer) is DynamicLayer for layer in cache.layers):
        cache.layers = [BufferedLayer(room) for _ in cache.layers]
    return cache


def greedy_batch(
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
    extra = {"logits_to_keep": 1} if supports_logits_to_keep(model) else {}
    cache = new_cache(model, fused, max(len(ids) for ids in batch) + max_new_tokens)
    peft_config = getattr(model, "active_peft_config", None)
    if fused and peft_config is not None and not peft_config.is_prompt_learning:
        model = model.get_base_model()
    shared = shared_prefix(model, batch)
    if shared:
        prefix = torch.as_tensor([batch[0][:shared]], dtype=torch.long, device=device)
        start = torch.arange(shared, device=device)[None]
        model(input_ids=prefix, attention_mask=torch.ones_like(prefix), position_ids=start, past_key_values=cache,
              use_cache=True, **extra)
        cache.batch_repeat_interleave(len(batch))
    input_ids, mask = left_pad([ids[shared:] for ids in batch], pad_id, device)
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
