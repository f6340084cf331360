"""Training throughput in real (non-pad) tokens/s: our Lightning loop vs a plain `transformers.Trainer` + peft.

Both runs start from the same base model, the same seeded LoRA init, the same mixture, LoRA config, optimizer,
schedule, gradient clipping, micro-batch and number of optimizer steps, with no logger, checkpointing or
validation. Only the timed window differs from a job: the first `warmup` optimizer steps are excluded.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig
from transformers import TrainerCallback

from bench.common import self_peak_rss_mb
from safetuned.errors import ConfigError

IMPLS = ("ours", "hf", "hf_grouped")
# alpaca-lora's collator (the paper's training code): pad to the longest in the batch, rounded up to a multiple of 8
BASELINE_PAD_MULTIPLE = 8


@dataclass
class TrainRun:
    """What one timed training run measured."""

    impl: str
    steps: int
    warmup: int
    seconds: float
    tokens: int  # non-pad tokens in the timed window
    cells: int  # batch cells (tokens + padding) in the timed window
    tokens_per_s: float
    nonpad_fraction_timed: float
    nonpad_fraction_epoch: float  # over one full epoch of this implementation's batches
    global_step: int
    losses: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(steps: int, warmup: int) -> None:
    if steps < 1:
        raise ConfigError(f"--steps={steps} must be >= 1 (timed optimizer steps)")
    if warmup < 1:
        raise ConfigError(f"--warmup={warmup} must be >= 1 (the first steps carry one-off costs and are not timed)")


def _nonpad(batches) -> float:
    tokens = cells = 0
    for b in batches:
        tokens += int(b["attention_mask"].sum())
        cells += b["attention_mask"].numel()
    return tokens / cells if cells else 1.0


def _fresh_model(cfg: DictConfig):
    """The LoRA model exactly as a job builds it, seeded so every run starts from the same adapter init."""
    from safetuned.train import build_model

    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    return build_model(cfg)


def _optimizer_and_scheduler(cfg: DictConfig, model, total_steps: int):
    from hydra.utils import instantiate

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = instantiate(cfg.optim.optimizer)(params)
    scheduler = None
    if cfg.optim.get("scheduler"):
        scheduler = instantiate(cfg.optim.scheduler)(optimizer=optimizer, num_training_steps=total_steps)
    return optimizer, scheduler


def run_ours(cfg: DictConfig, plan, steps: int, warmup: int) -> TrainRun:
    """The LightningModule + SafetyDataModule (length-grouped batches), built as `safetuned.train.train` does."""
    from hydra.utils import instantiate

    from safetuned.data.prompts import get_prompt_style
    from safetuned.model.module import LoRACausalLM
    from safetuned.train import make_datamodule

    _check(steps, warmup)
    model, tokenizer = _fresh_model(cfg)
    style = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer)
    dm = make_datamodule(cfg, plan, tokenizer, style)
    dm.setup()  # tokenizing is data preparation, timed elsewhere; the baseline gets its tokens ready too
    epoch_nonpad = _nonpad(dm.collator([dm.train_data[i] for i in b]) for b in dm.make_sampler())
    module = LoRACausalLM(model, optimizer=instantiate(cfg.optim.optimizer),
                          scheduler=instantiate(cfg.optim.scheduler) if cfg.optim.get("scheduler") else None)
    accumulate = int(plan.accumulate)
    timer = LightningTimer(skip_batches=warmup * accumulate)
    total = warmup + steps
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=[timer], logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, max_steps=total, max_epochs=-1, limit_val_batches=0,
        val_check_interval=total * accumulate, accumulate_grad_batches=accumulate,
    )
    trainer.fit(module, datamodule=dm)
    return TrainRun("ours", steps, warmup, timer.seconds, timer.tokens, timer.cells,
                    timer.tokens / timer.seconds, timer.tokens / max(timer.cells, 1), epoch_nonpad,
                    int(trainer.global_step), timer.losses, self_peak_rss_mb())


class LightningTimer(L.Callback):
    """Times the batches after the first `skip_batches` (their data loading included) and counts their tokens."""

    def __init__(self, skip_batches: int):
        self.skip, self.batches, self.tokens, self.cells = skip_batches, 0, 0, 0
        self.t0 = self.t1 = 0.0
        self.losses: list[float] = []

    @property
    def seconds(self) -> float:
        return self.t1 - self.t0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.batches += 1
        now = time.perf_counter()
        if self.batches == self.skip:
            self.t0 = now
        elif self.batches > self.skip:
            self.tokens += int(batch["attention_mask"].sum())
            self.cells += batch["attention_mask"].numel()
            self.losses.append(float(outputs["loss"]))
            self.t1 = now


class CountingCollator:
    """Wraps a collator and records (non-pad tokens, cells) of every batch it builds, in order."""

    def __init__(self, collator):
        self.collator = collator
        self.counts: list[tuple[int, int]] = []

    def __call__(self, features):
        batch = self.collator(features)
        mask = batch["attention_mask"]
        self.counts.append((int(mask.sum()), mask.numel()))
        return batch


def baseline_collator(tokenizer):
    """alpaca-lora's `DataCollatorForSeq2Seq(tokenizer, pad_to_multiple_of=8, return_tensors="pt", padding=True)`."""
    from transformers import DataCollatorForSeq2Seq

    return DataCollatorForSeq2Seq(tokenizer, pad_to_multiple_of=BASELINE_PAD_MULTIPLE, return_tensors="pt",
                                  padding=True)


def baseline_dataset(records: list[dict], tokenizer, style, cutoff_len: int, train_on_inputs: bool):
    """The same token ids our loop trains on, as alpaca-lora hands them to the Trainer (with attention_mask)."""
    from datasets import Dataset

    from safetuned.data.collate import tokenize_record

    rows = []
    for r in records:
        ex = tokenize_record(r, tokenizer, style, cutoff_len, train_on_inputs)
        rows.append({"input_ids": ex["input_ids"], "attention_mask": [1] * len(ex["input_ids"]),
                     "labels": ex["labels"]})
    return Dataset.from_list(rows)


def run_hf(cfg: DictConfig, plan, steps: int, warmup: int, work_dir: str | Path, grouped: bool = False) -> TrainRun:
    """`transformers.Trainer` + peft set up like alpaca-lora (random batches unless `grouped`)."""
    from transformers import Trainer, TrainingArguments

    from safetuned.data.prompts import get_prompt_style

    _check(steps, warmup)
    model, tokenizer = _fresh_model(cfg)
    style = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer)
    dataset = baseline_dataset(plan.mixture.train, tokenizer, style, int(cfg.data.cutoff_len),
                               bool(cfg.data.train_on_inputs))
    collator = CountingCollator(baseline_collator(tokenizer))
    accumulate, total = int(plan.accumulate), warmup + steps
    precision = str(cfg.trainer.get("precision", "32-true"))
    on_cpu = cfg.trainer.get("accelerator") == "cpu" or not torch.cuda.is_available()
    args = TrainingArguments(
        output_dir=str(Path(work_dir) / "hf"), per_device_train_batch_size=int(cfg.data.micro_batch_size),
        gradient_accumulation_steps=accumulate, max_steps=total, max_grad_norm=float(cfg.trainer.gradient_clip_val),
        train_sampling_strategy="group_by_length" if grouped else "random",  # v5's name for group_by_length
        logging_steps=int(cfg.trainer.get("log_every_n_steps", 10)), save_strategy="no", eval_strategy="no",
        report_to="none", disable_tqdm=True, seed=int(cfg.seed), use_cpu=on_cpu,
        dataloader_num_workers=int(cfg.data.num_workers), remove_unused_columns=False,
        bf16=not on_cpu and "bf16" in precision, fp16=not on_cpu and precision.startswith("16"),
    )
    timer = HFTimer(warmup)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=collator,
                      optimizers=_optimizer_and_scheduler(cfg, model, total), callbacks=[timer])
    epoch_nonpad = _nonpad(trainer.get_train_dataloader())
    collator.counts.clear()
    trainer.train()
    timed = collator.counts[warmup * accumulate: total * accumulate]
    tokens, cells = sum(t for t, _ in timed), sum(c for _, c in timed)
    seconds = timer.t1 - timer.t0
    return TrainRun("hf_grouped" if grouped else "hf", steps, warmup, seconds, tokens, cells, tokens / seconds,
                    tokens / max(cells, 1), epoch_nonpad, int(trainer.state.global_step), timer.losses,
                    self_peak_rss_mb())


class HFTimer(TrainerCallback):
    """Times the optimizer steps after the first `warmup`; keeps the logged training losses."""

    def __init__(self, warmup: int):
        self.warmup, self.t0, self.t1 = warmup, 0.0, 0.0
        self.losses: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):
        now = time.perf_counter()
        if state.global_step == self.warmup:
            self.t0 = now
        elif state.global_step > self.warmup:
            self.t1 = now

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(float(logs["loss"]))


def run_impl(impl: str, cfg: DictConfig, plan, steps: int, warmup: int, work_dir: str | Path) -> TrainRun:
    """Dispatch one timed run by name: ours, hf (the paper's set-up) or hf_grouped (HF with length grouping)."""
    if impl == "ours":
        return run_ours(cfg, plan, steps, warmup)
    if impl in ("hf", "hf_grouped"):
        return run_hf(cfg, plan, steps, warmup, work_dir, grouped=impl == "hf_grouped")
    raise ConfigError(f"training implementation {impl!r} is not one of {list(IMPLS)}")
