"""Tokenize records into (input_ids, labels), pad them into batches, and batch by length."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from safetuned.data.prompts import PromptStyle

IGNORE_INDEX = -100


def encode(tokenizer, text: str) -> list[int]:
    """Token ids of `text` as training and generation build them: special tokens added unless the text already
    starts with BOS (a chat template may write it; adding it again would double it)."""
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and text.startswith(bos))
    return list(tokenizer(text, add_special_tokens=add_special)["input_ids"])


def tokenize_record(
    record: dict,
    tokenizer,
    style: PromptStyle,
    cutoff_len: int,
    train_on_inputs: bool,
    add_eos: bool = True,
) -> dict[str, list[int]]:
    """`input_ids` of prompt + output (cut at `cutoff_len`, EOS appended when it fits) and their `labels`."""
    prompt = style.render(record["instruction"], record.get("input") or "")
    ids = encode(tokenizer, prompt + record["output"])[:cutoff_len]
    eos = tokenizer.eos_token_id
    if add_eos and eos is not None and len(ids) < cutoff_len and (not ids or ids[-1] != eos):
        ids.append(eos)
    labels = list(ids)
    if not train_on_inputs:
        prompt_ids = encode(tokenizer, prompt)
        # BPE can merge across the prompt/response boundary: mask only the tokens the full text shares with
        # the prompt, so a merged boundary token (which holds response text) stays trained.
        n = 0
        for a, b in zip(prompt_ids, ids):
            if a != b:
                break
            n += 1
        labels[:n] = [IGNORE_INDEX] * n
    return {"input_ids": ids, "labels": labels}


class Collator:
    """Right-pads a list of tokenized examples to the longest one into `input_ids`, `attention_mask`, `labels`."""

    def __init__(self, pad_token_id: int | None, pad_to_multiple_of: int | None = None):
        self.pad_token_id = 0 if pad_token_id is None else int(pad_token_id)
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, examples: Sequence[dict[str, Sequence[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(e["input_ids"]) for e in examples)
        if self.pad_to_multiple_of:
            width = math.ceil(width / self.pad_to_multiple_of) * self.pad_to_multiple_of
        n = len(examples)
        input_ids = torch.full((n, width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((n, width), dtype=torch.long)
        labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
        for i, e in enumerate(examples):
            k = len(e["input_ids"])
            input_ids[i, :k] = torch.as_tensor(e["input_ids"], dtype=torch.long)
            attention[i, :k] = 1
            labels[i, :k] = torch.as_tensor(e["labels"], dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


class PackedCollator:
    """Packs a batch's examples, longest first, first-fit into rows no wider than its longest example.

    `position_ids` restart at 0 for each example, so a model given them without an attention mask (and with
    `use_cache=False`) attends only within each example; each example's first label is -100, so no token is
    predicted from the previous example: the loss has the same targets as the padded batch. A row's unused tail
    is padding of its own (positions from 0, labels -100). `attention_mask` marks real tokens, for counting only.
    """

    def __init__(self, pad_token_id: int | None):
        self.pad_token_id = 0 if pad_token_id is None else int(pad_token_id)

    def __call__(self, examples: Sequence[dict[str, Sequence[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(e["input_ids"]) for e in examples)
        rows: list[list[int]] = []  # example indices of each row
        free: list[int] = []
        for i in sorted(range(len(examples)), key=lambda k: -len(examples[k]["input_ids"])):
            n = len(examples[i]["input_ids"])
            row = next((r for r, room in enumerate(free) if room >= n), None)
            if row is None:
                rows.append([])
                free.append(width)
                row = len(rows) - 1
            rows[row].append(i)
            free[row] -= n
        shape = (len(rows), width)
        input_ids = torch.full(shape, self.pad_token_id, dtype=torch.long)
        positions = torch.zeros(shape, dtype=torch.long)
        attention = torch.zeros(shape, dtype=torch.long)
        labels = torch.full(shape, IGNORE_INDEX, dtype=torch.long)
        for r, members in enumerate(rows):
            start = 0
            for i in members:
                e, n = examples[i], len(examples[i]["input_ids"])
                input_ids[r, start:start + n] = torch.as_tensor(e["input_ids"], dtype=torch.long)
                positions[r, start:start + n] = torch.arange(n)
                attention[r, start:start + n] = 1
                labels[r, start + 1:start + n] = torch.as_tensor(e["labels"][1:], dtype=torch.long)
                start += n
            positions[r, start:] = torch.arange(width - start)
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels, "position_ids": positions}


class LengthGroupedBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Batches of similar length: shuffle, cut into mega-batches of ~50 batches, sort each by length, chunk,
    then shuffle the batch order. Deterministic per (seed, epoch); each of `num_replicas` ranks gets every
    `num_replicas`-th batch (the list is padded by repeating early batches so all ranks take the same number of
    steps). `state_dict()` records how far the current epoch went, so a resumed run yields the rest.
    `group=False` gives plain random batches (the baseline grouping is compared against).
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        seed: int,
        shuffle: bool = True,
        drop_last: bool = False,
        num_replicas: int = 1,
        rank: int = 0,
        mega_batch_mult: int = 50,
        group: bool = True,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} must be >= 1")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank={rank} must be in [0, num_replicas={num_replicas})")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.num_replicas = num_replicas
        self.rank = rank
        self.mega_batch_mult = mega_batch_mult
        self.group = group
        self.epoch = 0
        self._skip = 0  # batches of `self.epoch` already consumed before a resume
        self.yielded = 0

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self._skip = 0
        self.epoch = epoch

    def _all_batches(self) -> list[list[int]]:
        n = len(self.lengths)
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        if self.group:
            mega = self.batch_size * self.mega_batch_mult * self.num_replicas
            chunks = [order[i : i + mega] for i in range(0, n, mega)]
            # stable sort, longest first, so the order is a pure function of (seed, epoch)
            order = np.concatenate([c[np.argsort(-self.lengths[c], kind="stable")] for c in chunks]) if n else order
        batches = [order[i : i + self.batch_size].tolist() for i in range(0, n, self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if self.shuffle and batches:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def _rank_batches(self) -> list[list[int]]:
        batches = self._all_batches()
        r = self.num_replicas
        if r > 1 and batches:
            if self.drop_last:
                batches = batches[: len(batches) - len(batches) % r]
            else:
                batches = batches + batches[: (-len(batches)) % r]
        return batches[self.rank :: r]

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._rank_batches()
        start, self._skip = self._skip, 0
        self.yielded = start
        for b in batches[start:]:
            self.yielded += 1
            yield b

    @property
    def pending_skip(self) -> int:
        """Batches the next iteration skips (a restored epoch's consumed batches), else 0."""
        return self._skip

    def __len__(self) -> int:
        """Batches this rank takes in a full epoch (a resumed epoch yields only the rest of them)."""
        n = len(self.lengths)
        full, rest = divmod(n, self.batch_size)
        total = full + (1 if rest and not self.drop_last else 0)
        r = self.num_replicas
        total = total // r if self.drop_last else math.ceil(total / r)
        return total

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "yielded": self.yielded, "seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self._skip = int(state["yielded"])
        self.yielded = self._skip
