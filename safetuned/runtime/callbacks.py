"""Lightning callbacks of a training job: restore the best adapter when fit ends (`BestAdapter`, the one place
that does), and evaluate it and log the evaluation (`EvalCallback`, the one place that logs eval metrics)."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L

from safetuned.eval.runner import EvalPlan
from safetuned.eval.suite_metrics import summary_line

log = logging.getLogger(__name__)


class BestAdapter(L.Callback):
    """When fit ends, load the best `val/loss` adapter into the module (on every rank), before anything reads it."""

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        ckpt = trainer.checkpoint_callback
        best = getattr(ckpt, "best_model_path", "") if ckpt else ""
        if best:
            pl_module.load_adapter_checkpoint(best)
            log.info("restored best adapter from %s (val/loss %.4f)", best, float(ckpt.best_model_score))


def is_wandb(logger) -> bool:
    from lightning.pytorch.loggers import WandbLogger

    return isinstance(logger, WandbLogger)


class EvalCallback(L.Callback):
    """Evaluate on rank zero: the best adapter after fit (always), a cheap subset every k validations (optional)."""

    def __init__(self, plan: EvalPlan, tokenizer, style, job_dir: str | Path) -> None:
        self.plan = plan
        self.tokenizer = tokenizer
        self.style = style
        self.job_dir = Path(job_dir)
        self.metrics: dict[str, float] = {}
        self._validations = 0

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        k = self.plan.every_n_validations
        if not k or trainer.sanity_checking:
            return
        self._validations += 1
        if self._validations % k or not trainer.is_global_zero:
            return
        metrics, _ = self.plan.run(pl_module.model, self.tokenizer, self.style, None,
                                   limit=self.plan.during_training_limit, with_harness=False, progress=False)
        pl_module.train()
        for logger in trainer.loggers:
            logger.log_metrics({f"{k}_during": v for k, v in metrics.items() if k.startswith("eval/")},
                               step=trainer.global_step)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            # Lightning's teardown (which runs before on_fit_end) moves the module to the CPU: bring it back.
            pl_module.to(trainer.strategy.root_device)
            self.metrics, rows = self.plan.run(pl_module.model, self.tokenizer, self.style, self.job_dir)
            log.info("eval: %s", summary_line(self.metrics))
            for logger in trainer.loggers:
                logger.log_metrics(self.metrics, step=trainer.global_step)
                if is_wandb(logger):
                    logger.experiment.summary.update({k: v for k, v in self.metrics.items() if k.startswith("eval/")})
                    self._log_samples(logger, rows)
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.barrier()  # other ranks wait for rank zero's evaluation

    def _log_samples(self, logger, rows: dict[str, list[dict]]) -> None:
        """A W&B table of sample generations per suite."""
        import wandb

        for suite, items in rows.items():
            cols = ["id", "instruction", "input", "response", "outcome"]
            table = wandb.Table(columns=cols, data=[[r[c] for c in cols] for r in items[: self.plan.log_samples]])
            logger.experiment.log({f"samples/{suite}": table})
