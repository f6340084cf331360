"""Training throughput in real (non-pad) tokens/s: our Lightning loop, a bare loop, and `transformers.Trainer` + peft.

Every run starts from the same base model, the same seeded LoRA init, the same mixture, LoRA config, optimizer,
schedule, gradient clipping, micro-batch and number of optimizer steps, with no logger, checkpointing or
validation; the first `warmup` optimizer steps are not timed. An implementation is a loop name plus levers:
`ours+bf16`, `hf_grouped+compile`, `ours+packed` (see LEVERS).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig

from bench.common import self_peak_rss_mb
from bench.flops import FlopModel, flop_model, row_lengths
from safetuned.errors import ConfigError

LOOPS = ("ours", "plain", "hf", "hf_grouped")
LEVERS = {  # lever: the loops it applies to
    "bf16": ("ours", "plain", "hf", "hf_grouped"),  # bf16 autocast (CPU too); Trainer: bf16=True
    "compile": ("ours", "plain", "hf", "hf_grouped"),  # torch.compile of the model, in place, dynamic shapes
    "packed": ("ours", "plain"),  # PackedCollator: examples packed into rows, positions restart, no padding mask
}


def parse_impl(impl: str) -> tuple[str, list[str]]:
    """`loop[+lever...]` -> (loop, levers); one-line ConfigError for unknown or inapplicable names."""
    loop, *levers = impl.split("+")
    if loop not in LOOPS:
        raise ConfigError(f"training implementation {impl!r}: loop {loop!r} is not one of {list(LOOPS)}")
    for lever in levers:
        if lever not in LEVERS or loop not in LEVERS[lever]:
            allowed = [k for k, loops in LEVERS.items() if loop in loops]
            raise ConfigError(f"training implementation {impl!r}: lever {lever!r} not allowed; for {loop}: {allowed}")
    return loop, levers


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
    flops: float = 0.0  # model FLOPs of the timed window (bench.flops)
    flops_per_s: float = 0.0
    threads: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Counts:
    """Non-pad tokens, cells and model FLOPs of the timed batches."""

    def __init__(self, fm: FlopModel):
        self.fm, self.tokens, self.cells, self.flops = fm, 0, 0, 0.0

    def add(self, batch: dict[str, torch.Tensor]) -> None:
        lengths = row_lengths(batch)
        self.tokens += sum(lengths)
        self.cells += batch["attention_mask"].numel()
        self.flops += self.fm.batch(lengths)

    def run(self, impl: str, steps: int, warmup: int, seconds: float, epoch_nonpad: float, global_step: int,
            losses: list[float]) -> TrainRun:
        seconds = max(seconds, 1e-9)
        return TrainRun(impl, steps, warmup, seconds, self.tokens, self.cells, self.tokens / seconds,
                        self.tokens / max(self.cells, 1), epoch_nonpad, global_step, losses, self_peak_rss_mb(),
                        self.flops, self.flops / seconds, torch.get_num_threads())


def _check(steps: int, warmup: int) -> None:
    if steps < 1:
        raise ConfigError(f"--steps={steps} must be >= 1 (timed optimizer steps)")
    if warmup < 1:
        raise ConfigError(f"--warmup={warmup} must be >= 1 (the first steps carry one-off costs and are not timed)")


def nonpad(batches) -> float:
    tokens = cells = 0
    for b in batches:
        tokens += int(b["attention_mask"].sum())
        cells += b["attention_mask"].numel()
    return tokens / cells if cells else 1.0


def fresh_model(cfg: DictConfig, levers: list[str] = ()):
    """The LoRA model exactly as a job builds it, seeded so every run starts from the same adapter init."""
    from safetuned.pipeline.build import build_model

    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    model, tokenizer = build_model(cfg)
    fm = flop_model(model)
    if "compile" in levers:
        model.compile(dynamic=True)  # in place: parameter names (and adapter checkpoints) stay as they are
    return model, tokenizer, fm


def optimizer_and_scheduler(cfg: DictConfig, model, total_steps: int):
    from hydra.utils import instantiate

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = instantiate(cfg.optim.optimizer)(params)
    scheduler = None
    if cfg.optim.get("scheduler"):
        scheduler = instantiate(cfg.optim.scheduler)(optimizer=optimizer, num_training_steps=total_steps)
    return optimizer, scheduler


def _datamodule(cfg: DictConfig, plan, tokenizer, levers: list[str]):
    from safetuned.data.collate import PackedCollator
    from safetuned.data.prompts import get_prompt_style
    from safetuned.pipeline.build import make_datamodule

    dm = make_datamodule(cfg, plan, tokenizer, get_prompt_style(cfg.prompt.name, tokenizer=tokenizer))
    if "packed" in levers:
        dm.collator = PackedCollator(dm.collator.pad_token_id)
    dm.setup()  # tokenizing is data preparation, timed elsewhere; the baseline gets its tokens ready too
    return dm


def run_ours(cfg: DictConfig, plan, steps: int, warmup: int, levers: list[str] = (), impl: str = "ours") -> TrainRun:
    """The LightningModule + SafetyDataModule (length-grouped batches), built as `safetuned.pipeline.fit.train` does."""
    from hydra.utils import instantiate

    from safetuned.model.module import LoRACausalLM

    _check(steps, warmup)
    model, tokenizer, fm = fresh_model(cfg, levers)
    dm = _datamodule(cfg, plan, tokenizer, levers)
    epoch_nonpad = nonpad(dm.collator([dm.train_data[i] for i in b]) for b in dm.make_sampler())
    module = LoRACausalLM(model, optimizer=instantiate(cfg.optim.optimizer),
                          scheduler=instantiate(cfg.optim.scheduler) if cfg.optim.get("scheduler") else None,
                          seed=int(cfg.seed))
    accumulate, total = int(plan.accumulate), warmup + steps
    timer = LightningTimer(skip_batches=warmup * accumulate, counts=Counts(fm))
    extra = {"precision": "bf16-mixed"} if "bf16" in levers else {}
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=[timer], logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, max_steps=total, max_epochs=-1, limit_val_batches=0,
        val_check_interval=total * accumulate, accumulate_grad_batches=accumulate, **extra,
    )
    trainer.fit(module, datamodule=dm)
    return timer.counts.run(impl, steps, warmup, timer.seconds, epoch_nonpad, int(trainer.global_step), timer.losses)


class LightningTimer(L.Callback):
    """Times the batches after the first `skip_batches` (their data loading included) and counts their tokens."""

    def __init__(self, skip_batches: int, counts: Counts):
        self.skip, self.batches, self.counts = skip_batches, 0, counts
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
            self.counts.add(batch)
            self.losses.append(float(outputs["loss"]))
            self.t1 = time.perf_counter()


def run_plain(cfg: DictConfig, plan, steps: int, warmup: int, levers: list[str] = (), impl: str = "plain") -> TrainRun:
    """A bare PyTorch loop over our batches: the same step as `ours` (dropout seeding, clipping, schedule) without
    Lightning, so the difference is the per-step overhead of the loop."""
    from safetuned.model.module import LoRACausalLM

    _check(steps, warmup)
    model, tokenizer, fm = fresh_model(cfg, levers)
    dm = _datamodule(cfg, plan, tokenizer, levers)
    epoch_nonpad = nonpad(dm.collator([dm.train_data[i] for i in b]) for b in dm.make_sampler())
    step_fn = LoRACausalLM(model, optimizer=None)  # its loss: the same model call as in the Lightning loop
    accumulate, total = int(plan.accumulate), warmup + steps
    optimizer, scheduler = optimizer_and_scheduler(cfg, model, total)
    params = [p for p in model.parameters() if p.requires_grad]
    clip = float(cfg.trainer.gradient_clip_val or 0)
    autocast = torch.autocast("cpu" if not torch.cuda.is_available() else "cuda", dtype=torch.bfloat16,
                              enabled="bf16" in levers)
    if torch.cuda.is_available():
        model.cuda()
    model.train()
    device = next(model.parameters()).device
    counts, losses, t0, step, batch_idx = Counts(fm), [], 0.0, 0, 0
    loader = dm.train_dataloader()
    while step < total:
        for batch in loader:
            torch.manual_seed((int(cfg.seed) * 1_000_003 + batch_idx * 101) % 2**63)  # as on_train_batch_start
            batch = {k: v.to(device) for k, v in batch.items()}
            with autocast:
                loss, _ = step_fn._loss_and_tokens(batch)
            (loss / accumulate).backward()
            if batch_idx >= warmup * accumulate:  # a micro-batch of a timed step
                counts.add(batch)
                losses.append(float(loss.detach()))
            batch_idx += 1
            if batch_idx % accumulate:
                continue
            if clip:
                torch.nn.utils.clip_grad_norm_(params, clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step == warmup:
                t0 = time.perf_counter()
            if step == total:
                break
    return counts.run(impl, steps, warmup, time.perf_counter() - t0, epoch_nonpad, step, losses)


def run_impl(impl: str, cfg: DictConfig, plan, steps: int, warmup: int, work_dir: str | Path) -> TrainRun:
    """Dispatch one timed run by name: `loop[+lever...]` (see LOOPS and LEVERS)."""
    loop, levers = parse_impl(impl)
    if loop == "ours":
        return run_ours(cfg, plan, steps, warmup, levers, impl)
    if loop == "plain":
        return run_plain(cfg, plan, steps, warmup, levers, impl)
    from bench.train_hf import run_hf

    return run_hf(cfg, plan, steps, warmup, work_dir, grouped=loop == "hf_grouped", levers=levers, impl=impl)
