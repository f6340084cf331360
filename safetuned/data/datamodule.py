"""Lightning DataModule: tokenized (and disk-cached) train/val records, length-grouped batches, DDP sharding."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
from torch.utils.data import DataLoader

from safetuned.data.collate import IGNORE_INDEX, Collator, LengthGroupedBatchSampler, tokenize_record
from safetuned.data.prompts import PromptStyle
from safetuned.data.sources import canonical_sha256
from safetuned.utils.io import write_text_atomic

CACHE_VERSION = 1


def tokenizer_fingerprint(tokenizer) -> str:
    """sha256 over the tokenizer's vocabulary, merges, pipeline and special tokens."""
    h = hashlib.sha256(type(tokenizer).__name__.encode())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        h.update(backend.to_str().encode())  # vocab + merges + normalizer/pre-tokenizer/post-processor
    else:
        h.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
    specials = {k: str(v) for k, v in tokenizer.special_tokens_map.items()}
    h.update(json.dumps(specials, sort_keys=True).encode())
    h.update(json.dumps([tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id]).encode())
    return h.hexdigest()


def record_sha(record: dict) -> str:
    """What tokenization depends on in a record: its instruction, input and output."""
    return canonical_sha256([record["instruction"], record.get("input") or "", record["output"]])


class TokenCache:
    """Per-record tokenization cache: shard files `{record_sha: [input_ids, n_masked]}` under one settings folder.

    Labels are `input_ids` with the first `n_masked` set to -100, so a shard stores ids once. A later job that
    shares records (the base set of a sweep over N) finds them in the shards of earlier jobs.
    """

    def __init__(self, root: str | Path | None, settings: dict[str, Any]):
        self.folder = Path(root) / canonical_sha256({"v": CACHE_VERSION, **settings})[:20] if root else None
        self.settings = settings

    def load(self) -> dict[str, tuple[list[int], int]]:
        found: dict[str, tuple[list[int], int]] = {}
        if self.folder is None or not self.folder.is_dir():
            return found
        for shard in sorted(self.folder.glob("shard-*.json")):
            try:
                found.update({k: (v[0], v[1]) for k, v in json.loads(shard.read_text()).items()})
            except (OSError, ValueError, TypeError, IndexError):
                continue  # a damaged shard only costs re-tokenizing its records
        return found

    def save(self, entries: dict[str, tuple[list[int], int]], name: str) -> None:
        if self.folder is None or not entries:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        settings = self.folder / "settings.json"
        if not settings.exists():
            write_text_atomic(settings, json.dumps(self.settings, sort_keys=True, indent=2))
        shard = self.folder / f"shard-{name}-{canonical_sha256(sorted(entries))[:16]}.json"
        write_text_atomic(shard, json.dumps({k: [v[0], v[1]] for k, v in entries.items()}, separators=(",", ":")))


def _n_masked(labels: list[int]) -> int:
    n = 0
    while n < len(labels) and labels[n] == IGNORE_INDEX:
        n += 1
    return n


class ResumableLoader(DataLoader):
    """A DataLoader that counts the batches it hands out, so Lightning checkpoints can resume mid-epoch.

    Lightning saves `state_dict()` of loaders that have one and calls `load_state_dict()` on resume; the count is
    taken here, after any worker prefetching, so it is exactly the number of batches training consumed.
    """

    def __init__(self, *args, epoch_fn: Callable[[], int | None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.epoch_fn = epoch_fn
        self._served = 0

    def __iter__(self):
        # Lightning's set_epoch reaches `batch_sampler.sampler`, not a custom batch sampler: set it here.
        epoch = self.epoch_fn() if self.epoch_fn else None
        if epoch is not None:
            self.batch_sampler.set_epoch(epoch)
        self._served = self.batch_sampler.pending_skip
        for batch in super().__iter__():
            self._served += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.batch_sampler.epoch, "yielded": self._served, "seed": self.batch_sampler.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state:
            self.batch_sampler.load_state_dict(state)
            self._served = int(state["yielded"])


class SafetyDataModule(L.LightningDataModule):
    """Tokenizes the mixture once (cached on disk per record) and serves length-grouped training batches."""

    def __init__(
        self,
        train_records: list[dict],
        val_records: list[dict],
        tokenizer,
        style: PromptStyle,
        cutoff_len: int,
        train_on_inputs: bool,
        micro_batch_size: int,
        eval_batch_size: int,
        num_workers: int = 0,
        seed: int = 0,
        group_by_length: bool = True,
        cache_dir: str | None = None,
    ):
        super().__init__()
        self.train_records, self.val_records = train_records, val_records
        self.tokenizer, self.style = tokenizer, style
        self.cutoff_len, self.train_on_inputs = int(cutoff_len), bool(train_on_inputs)
        self.micro_batch_size, self.eval_batch_size = int(micro_batch_size), int(eval_batch_size)
        self.num_workers, self.seed, self.group_by_length = int(num_workers), int(seed), bool(group_by_length)
        self.cache_dir = cache_dir
        self.collator = Collator(tokenizer.pad_token_id if tokenizer.pad_token_id is not None
                                 else tokenizer.eos_token_id)
        self.train_data: list[dict[str, list[int]]] | None = None
        self.val_data: list[dict[str, list[int]]] | None = None
        self.cache_hits = 0
        self.sampler: LengthGroupedBatchSampler | None = None

    # --- tokenization -------------------------------------------------------------------------------------
    def _cache(self) -> TokenCache:
        settings = {
            "tokenizer": tokenizer_fingerprint(self.tokenizer),
            "style": self.style.to_dict(),
            "cutoff_len": self.cutoff_len,
            "train_on_inputs": self.train_on_inputs,
        }
        return TokenCache(self.cache_dir, settings)

    def _tokenize(self, records: list[dict], known: dict, cache: TokenCache, split: str) -> list[dict]:
        out, new = [], {}
        for rec in records:
            key = record_sha(rec)
            hit = known.get(key)
            if hit is not None:
                self.cache_hits += 1
            else:
                hit = new.get(key)
            if hit is None:
                ex = tokenize_record(rec, self.tokenizer, self.style, self.cutoff_len, self.train_on_inputs)
                hit = new[key] = (ex["input_ids"], _n_masked(ex["labels"]))
            ids, n = hit
            out.append({"input_ids": ids, "labels": [IGNORE_INDEX] * n + ids[n:]})
        # one shard per source group of records (base, safety_instructions, ...) so a sweep's jobs share them
        by_group: dict[str, dict] = {}
        for rec in records:
            key = record_sha(rec)
            if key in new:
                group = str(rec.get("id", split)).split(":", 1)[0] or split
                by_group.setdefault(group, {})[key] = new[key]
        for group, entries in by_group.items():
            cache.save(entries, "".join(c if c.isalnum() or c in "-_" else "_" for c in group))
        return out

    def setup(self, stage: str | None = None) -> None:
        if self.train_data is not None:
            return
        cache = self._cache()
        known = cache.load()
        self.cache_hits = 0
        self.train_data = self._tokenize(self.train_records, known, cache, "train")
        self.val_data = self._tokenize(self.val_records, known, cache, "val")

    # --- loaders --------------------------------------------------------------------------------------------
    def _world(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            return 1, 0
        return int(trainer.world_size), int(trainer.global_rank)

    def make_sampler(self) -> LengthGroupedBatchSampler:
        self.setup()
        replicas, rank = self._world()
        return LengthGroupedBatchSampler(
            [len(e["input_ids"]) for e in self.train_data], self.micro_batch_size, self.seed,
            shuffle=True, num_replicas=replicas, rank=rank, group=self.group_by_length,
        )

    def train_dataloader(self) -> DataLoader:
        """Length-grouped (or random) batches, reshuffled every epoch (seeded by seed and epoch).

        Under DDP the sampler shards batches itself, so the Trainer needs `use_distributed_sampler=False`.
        The loader is resumable: a mid-epoch checkpoint continues with the batches that epoch had left.
        """
        self.sampler = self.make_sampler()
        return ResumableLoader(self.train_data, batch_sampler=self.sampler, collate_fn=self.collator,
                               num_workers=self.num_workers, epoch_fn=self._trainer_epoch)

    def _trainer_epoch(self) -> int | None:
        trainer = getattr(self, "trainer", None)
        return None if trainer is None else int(trainer.current_epoch)

    def val_dataloader(self) -> DataLoader:
        self.setup()
        return DataLoader(self.val_data, batch_size=self.eval_batch_size, shuffle=False,
                          collate_fn=self.collator, num_workers=self.num_workers)

    # --- numbers --------------------------------------------------------------------------------------------
    def stats(self, prefix: str = "") -> dict[str, float]:
        """Training tokens, examples, cut examples and the non-pad fraction of one epoch's batches."""
        self.setup()
        lengths = [len(e["input_ids"]) for e in self.train_data]
        sampler = LengthGroupedBatchSampler(lengths, self.micro_batch_size, self.seed, group=self.group_by_length)
        padded = sum(max(lengths[i] for i in b) * len(b) for b in sampler)
        return {
            f"{prefix}train_examples": len(self.train_data),
            f"{prefix}val_examples": len(self.val_data),
            f"{prefix}train_tokens": sum(lengths),
            f"{prefix}truncated": sum(n >= self.cutoff_len for n in lengths),
            f"{prefix}nonpad_fraction": sum(lengths) / padded if padded else 1.0,
            f"{prefix}tokenize_cache_hits": self.cache_hits,
        }
