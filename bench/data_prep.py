"""Data preparation of sweep jobs: the first job (cold token cache) vs a later one that reuses its tokenized base."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import compose_train_cfg
from bench.worker import prepare


@dataclass
class DataPrep:
    """One job's data preparation, in seconds: reading sources + mixing, then tokenizing + datamodule setup."""

    safety_n: int
    load_s: float
    tokenize_s: float
    model_load_s: float
    cache_hits: int
    examples: int

    @property
    def data_prep_s(self) -> float:
        return self.load_s + self.tokenize_s

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "data_prep_s": self.data_prep_s}


def prepare_job(overrides: list[str], safety_n: int, token_cache: str | Path, work_dir: str | Path) -> DataPrep:
    """What a sweep job does before training starts, timed: mixture, model + tokenizer, tokenized datamodule."""
    from safetuned.data.datamodule import SafetyDataModule
    from safetuned.data.prompts import get_prompt_style
    from safetuned.pipeline.build import build_model

    cfg = compose_train_cfg([*overrides, f"data.safety_n={safety_n}"], work_dir)
    t0 = time.perf_counter()
    plan = prepare(cfg)
    t1 = time.perf_counter()
    _, tokenizer = build_model(cfg)
    style = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer)
    t2 = time.perf_counter()
    dm = SafetyDataModule(
        plan.mixture.train, plan.mixture.val, tokenizer, style,
        cutoff_len=int(cfg.data.cutoff_len), train_on_inputs=bool(cfg.data.train_on_inputs),
        micro_batch_size=int(cfg.data.micro_batch_size), eval_batch_size=int(cfg.data.eval_batch_size),
        num_workers=int(cfg.data.num_workers), seed=int(cfg.seed), group_by_length=bool(cfg.data.group_by_length),
        cache_dir=str(token_cache),
    )
    dm.setup()
    t3 = time.perf_counter()
    return DataPrep(safety_n, t1 - t0, t3 - t2, t2 - t1, dm.cache_hits, len(dm.train_data) + len(dm.val_data))


def bench_data_prep(overrides: list[str], first_n: int, second_n: int, rounds: int,
                    work_dir: str | Path) -> list[tuple[DataPrep, DataPrep]]:
    """Per round, a fresh token cache: the sweep's first job (cold), then its second job (warm)."""
    pairs = []
    for r in range(rounds):
        cache = Path(work_dir) / f"tokenized-round{r}"
        first = prepare_job(overrides, first_n, cache, work_dir)
        second = prepare_job(overrides, second_n, cache, work_dir)
        pairs.append((first, second))
    return pairs
