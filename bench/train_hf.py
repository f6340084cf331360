"""The training peer: `transformers.Trainer` + peft, set up like alpaca-lora (the paper's code) or length-grouped."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from omegaconf import DictConfig
from transformers import TrainerCallback

from bench.flops import FlopModel, row_lengths
from bench.train_speed import Counts, TrainRun, _check, fresh_model, nonpad, optimizer_and_scheduler

# alpaca-lora's collator (the paper's training code): pad to the longest in the batch, rounded up to a multiple of 8
BASELINE_PAD_MULTIPLE = 8


class CountingCollator:
    """Wraps a collator and records (non-pad tokens, cells, model FLOPs) of every batch it builds, in order."""

    def __init__(self, collator, fm: FlopModel | None = None):
        self.collator, self.fm = collator, fm
        self.counts: list[tuple[int, int, float]] = []

    def __call__(self, features):
        batch = self.collator(features)
        lengths = row_lengths(batch)
        self.counts.append((sum(lengths), batch["attention_mask"].numel(),
                            self.fm.batch(lengths) if self.fm else 0.0))
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


def run_hf(cfg: DictConfig, plan, steps: int, warmup: int, work_dir: str | Path, grouped: bool = False,
           levers: list[str] = (), impl: str | None = None) -> TrainRun:
    """`transformers.Trainer` + peft set up like alpaca-lora (random batches unless `grouped`); `bf16` turns on
    the Trainer's own bf16 autocast (on CPU too), `compile` compiles the model as for our loop."""
    from transformers import Trainer, TrainingArguments

    from safetuned.data.prompts import get_prompt_style

    _check(steps, warmup)
    model, tokenizer, fm = fresh_model(cfg, levers)
    style = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer)
    dataset = baseline_dataset(plan.mixture.train, tokenizer, style, int(cfg.data.cutoff_len),
                               bool(cfg.data.train_on_inputs))
    collator = CountingCollator(baseline_collator(tokenizer), fm)
    accumulate, total = int(plan.accumulate), warmup + steps
    precision = str(cfg.trainer.get("precision", "32-true"))
    on_cpu = cfg.trainer.get("accelerator") == "cpu" or not torch.cuda.is_available()
    bf16 = "bf16" in levers or (not on_cpu and "bf16" in precision)
    args = TrainingArguments(
        output_dir=str(Path(work_dir) / "hf"), per_device_train_batch_size=int(cfg.data.micro_batch_size),
        gradient_accumulation_steps=accumulate, max_steps=total, max_grad_norm=float(cfg.trainer.gradient_clip_val),
        train_sampling_strategy="group_by_length" if grouped else "random",  # v5's name for group_by_length
        logging_steps=int(cfg.trainer.get("log_every_n_steps", 10)), save_strategy="no", eval_strategy="no",
        report_to="none", disable_tqdm=True, seed=int(cfg.seed), use_cpu=on_cpu,
        dataloader_num_workers=int(cfg.data.num_workers), remove_unused_columns=False,
        bf16=bf16, fp16=not on_cpu and not bf16 and precision.startswith("16"),
    )
    timer = HFTimer(warmup)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=collator,
                      optimizers=optimizer_and_scheduler(cfg, model, total), callbacks=[timer])
    epoch_nonpad = nonpad(trainer.get_train_dataloader())
    collator.counts.clear()
    trainer.train()
    counts = Counts(fm)
    for tokens, cells, flops in collator.counts[warmup * accumulate: total * accumulate]:
        counts.tokens, counts.cells, counts.flops = counts.tokens + tokens, counts.cells + cells, counts.flops + flops
    name = impl or ("hf_grouped" if grouped else "hf")
    return counts.run(name, steps, warmup, timer.t1 - timer.t0, epoch_nonpad, int(trainer.state.global_step),
                      timer.losses)


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
