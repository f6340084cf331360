"""The training job: plan (every check, the resume choice), build, fit, keep the best adapter, evaluate it, write
`<job>/metrics.json`. `python -m safetuned.train` runs it inside the job lifecycle (safetuned.runtime.job)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from omegaconf import DictConfig

from safetuned.pipeline.build import (
    AdapterInit,
    build_model,
    checkpoint_plugins,
    configure_threads,
    make_callbacks,
    make_datamodule,
    make_loggers,
)
from safetuned.pipeline.plan import plan_job
from safetuned.runtime.ddp import is_rank_zero, relaunch_as_single_run

log = logging.getLogger(__name__)


def train(cfg: DictConfig, job_dir: Path, *, data: tuple | None = None, init_adapter: AdapterInit | None = None
          ) -> dict[str, float]:
    """One training job: plan (checks, resume choice), build, fit, export the best adapter, evaluate, metrics.json.

    An attack job (safetuned.pipeline.attack) gives its own `data` (mixture, sources) and the adapter it starts from.
    """
    import lightning as L
    from hydra.utils import instantiate

    from safetuned.data.prompts import get_prompt_style
    from safetuned.model.export import export_adapter
    from safetuned.model.module import LoRACausalLM
    from safetuned.runtime.callbacks import BestAdapter, EvalCallback
    from safetuned.utils.io import write_json_atomic

    plan = plan_job(cfg, job_dir, data=data)
    configure_threads(cfg)
    rank_zero = is_rank_zero()
    if rank_zero:
        from safetuned.runtime.fingerprint import fingerprint
        from safetuned.runtime.job import keep_run_config

        write_json_atomic(job_dir / "manifest.json", {**plan.mixture.manifest, "sources": plan.sources,
                                                      "model": plan.model_source, "fingerprint": fingerprint(cfg)})
        keep_run_config(job_dir)
        log.info("%s", plan.resume.note)
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)

    model, tokenizer = build_model(cfg, init=init_adapter)
    style = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer)
    datamodule = make_datamodule(cfg, plan, tokenizer, style)
    module = LoRACausalLM(model, optimizer=instantiate(cfg.optim.optimizer),
                          scheduler=instantiate(cfg.optim.scheduler) if cfg.optim.get("scheduler") else None,
                          seed=int(cfg.seed), total_steps=plan.total_steps)
    loggers = make_loggers(cfg, job_dir, resuming=plan.resume.path is not None) if rank_zero else []
    eval_cb = EvalCallback(plan.eval_plan, tokenizer, style, job_dir) if plan.eval_plan.enabled else None
    callbacks = [*make_callbacks(cfg, loggers), BestAdapter(), *([eval_cb] if eval_cb else [])]
    relaunch_as_single_run(job_dir)
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers or False, plugins=checkpoint_plugins(cfg),
        accumulate_grad_batches=plan.accumulate, val_check_interval=plan.val_check_interval,
    )
    started = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=plan.resume.path)
    train_s = time.perf_counter() - started
    tokens = float(module.tokens_seen)
    if trainer.world_size > 1:  # each rank counted its own share
        import torch

        tokens = float(trainer.strategy.reduce(torch.tensor(tokens, device=trainer.strategy.root_device),
                                               reduce_op="sum"))
    if not trainer.is_global_zero:
        return {}
    export_adapter(module.model, tokenizer, style, job_dir / "adapter", base=plan.model_source)
    ckpt = trainer.checkpoint_callback
    metrics: dict[str, float] = {
        "val/loss": float(ckpt.best_model_score) if ckpt and ckpt.best_model_score is not None else float("nan"),
        "train/loss": float(trainer.callback_metrics.get("train/loss", float("nan"))),
        "train/steps": float(trainer.global_step),
        "train/tokens": tokens,
        "train/examples": float(len(plan.mixture.train)),
        "train/effective_batch": float(cfg.data.batch_size),
        "time/train_s": train_s,
        **datamodule.stats(prefix="data/"),
    }
    for logger in loggers:  # the evaluation's metrics were logged by EvalCallback
        logger.log_metrics({k: v for k, v in metrics.items() if isinstance(v, float)}, step=trainer.global_step)
    if eval_cb:
        metrics.update(eval_cb.metrics)
    write_json_atomic(job_dir / "metrics.json", metrics)
    log.info("val/loss %.4f; metrics in %s", metrics["val/loss"], job_dir / "metrics.json")
    return metrics
