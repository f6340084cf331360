"""Safety-tune a causal LM with LoRA: `python -m safetuned.train [-m] [group=option key=value ...]`.

The job checks everything it can (config values, data files, N against the pool, eval suites, the model and its
LoRA targets) before building or loading any weights, then trains, keeps the best adapter on `val/loss`, exports
it to `<job>/adapter/`, evaluates it and writes `<job>/metrics.json`.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, read_write

from safetuned.job import is_multirun, is_rank_zero, run_job
from safetuned.plan import Plan, batch_plan, load_data, plan_job, world_size_of  # noqa: F401 - bench imports them here

log = logging.getLogger(__name__)


def build_model(cfg: DictConfig, with_lora: bool = True):
    """Base model + tokenizer (building the embedded one once), with LoRA adapters added unless told not to."""
    from hydra.utils import instantiate

    from safetuned.model.load import load_causal_lm, load_tokenizer, model_source
    from safetuned.model.lora import apply_lora
    from safetuned.model.tiny import ensure_tiny_base

    m = cfg.model
    if not m.get("pretrained"):
        e = m.embedded
        ensure_tiny_base(e.world_dir, model_source(cfg), vocab_size=e.vocab_size, hidden_size=e.hidden_size,
                         num_layers=e.num_layers, num_heads=e.num_heads, intermediate_size=e.intermediate_size,
                         steps=e.steps, batch_size=e.batch_size, lr=e.lr, seed=e.seed)
    source = model_source(cfg)
    tokenizer = load_tokenizer(source, trust_remote_code=bool(m.trust_remote_code))
    model = load_causal_lm(source, dtype=m.dtype, trust_remote_code=bool(m.trust_remote_code),
                           quantization=m.get("quantization"), gradient_checkpointing=bool(m.gradient_checkpointing),
                           attn_implementation=m.get("attn_implementation"))
    return (apply_lora(model, instantiate(cfg.lora), seed=int(cfg.seed)) if with_lora else model), tokenizer


def _ddp_relaunch_as_single_run(job_dir: Path) -> None:
    """Make Lightning's DDP launcher re-run *this job*, not the whole sweep.

    Lightning starts ranks 1..n-1 by re-running sys.argv plus `hydra.run.dir=<HydraConfig run.dir>`. Inside a
    `-m` sweep that re-launches the sweep in every rank (lightning-hydra-template #393, hydra #2070). So argv
    becomes this job's own overrides (no -m; config flags and config-shaping Hydra overrides kept) and run.dir
    this job's folder: each rank joins the same job.
    """
    from safetuned.job import single_run_argv

    if not HydraConfig.initialized():
        return
    hc = HydraConfig.get()
    with read_write(hc):
        hc.run.dir = str(job_dir)  # the resolved folder: `${now:...}` read again in a rank could differ
    if is_multirun():
        sys.argv = single_run_argv(sys.argv, list(hc.overrides.task), list(hc.overrides.hydra))


def make_loggers(cfg: DictConfig, job_dir: Path, resuming: bool = False) -> list:
    """The configured loggers; W&B's run continues the job's own when it resumes from a checkpoint."""
    from hydra.utils import instantiate

    from safetuned import wandb_job
    from safetuned.report import sweep_group_name

    loggers = []
    for name, lcfg in (cfg.get("logger") or {}).items():
        if lcfg is None or "_target_" not in lcfg:
            continue
        if name == "wandb":
            overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
            run_name = lcfg.name or (",".join(overrides) or job_dir.name)
            group = lcfg.group or (sweep_group_name(job_dir.parent) if is_multirun() else None)
            run_id = lcfg.get("id") or wandb_job.run_id(job_dir, resuming)
            logger = instantiate(lcfg, name=run_name, group=group, id=run_id, resume="allow")
            logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
        else:
            logger = instantiate(lcfg)
        loggers.append(logger)
    return loggers


def make_callbacks(cfg: DictConfig, loggers: list) -> list:
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import LearningRateMonitor

    callbacks = []
    for cb_cfg in (cfg.get("callbacks") or {}).values():
        if cb_cfg is None:
            continue
        cb = instantiate(cb_cfg)
        if isinstance(cb, LearningRateMonitor) and not loggers:
            continue  # it needs a logger to write to
        callbacks.append(cb)
    return callbacks


def make_datamodule(cfg: DictConfig, plan: Plan, tokenizer, style):
    """The job's DataModule over the planned mixture (shared with the benchmark so both measure the same thing)."""
    from safetuned.data.datamodule import SafetyDataModule

    d = cfg.data
    return SafetyDataModule(
        plan.mixture.train, plan.mixture.val, tokenizer, style,
        cutoff_len=int(d.cutoff_len), train_on_inputs=bool(d.train_on_inputs),
        micro_batch_size=int(d.micro_batch_size), eval_batch_size=int(d.eval_batch_size),
        num_workers=int(d.num_workers), seed=int(cfg.seed), group_by_length=bool(d.group_by_length),
        cache_dir=str(Path(cfg.paths.cache_dir) / "tokenized"),
    )


def checkpoint_plugins(cfg: DictConfig) -> list:
    """The trainer's plugins plus atomic checkpoint writes (DeepSpeed writes its own sharded checkpoints)."""
    from hydra.utils import instantiate

    from safetuned.checkpointing import AtomicCheckpointIO

    plugins = [instantiate(p) for p in (cfg.trainer.get("plugins") or [])]
    if "deepspeed" not in str(cfg.trainer.get("strategy") or "").lower():
        plugins.append(AtomicCheckpointIO())
    return plugins


def configure_threads(cfg: DictConfig) -> None:
    """Torch CPU threads: `num_threads` when set; under the joblib launcher, the cores shared among its jobs."""
    import os

    import torch

    n = cfg.get("num_threads")
    if not n and HydraConfig.initialized():
        launcher = HydraConfig.get().get("launcher") or {}
        if "Joblib" in str(launcher.get("_target_", "")):
            jobs = int(launcher.get("n_jobs", 1) or 1)
            n = max(1, (os.cpu_count() or 1) // (jobs if jobs > 0 else os.cpu_count() or 1))
    if n:
        torch.set_num_threads(int(n))


def train(cfg: DictConfig, job_dir: Path) -> dict[str, float]:
    """One training job: plan (checks, resume choice), build, fit, export the best adapter, evaluate, metrics.json."""
    import lightning as L
    from hydra.utils import instantiate

    from safetuned.data.prompts import get_prompt_style
    from safetuned.eval.callbacks import EvalCallback, restore_best
    from safetuned.model.export import export_adapter
    from safetuned.model.module import LoRACausalLM
    from safetuned.utils.io import write_json_atomic

    plan = plan_job(cfg, job_dir)
    configure_threads(cfg)
    rank_zero = is_rank_zero()
    if rank_zero:
        from safetuned.fingerprint import fingerprint
        from safetuned.job import keep_run_config

        write_json_atomic(job_dir / "manifest.json", {**plan.mixture.manifest, "sources": plan.sources,
                                                      "model": plan.model_source, "fingerprint": fingerprint(cfg)})
        keep_run_config(job_dir)
        log.info("%s", plan.resume.note)
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)

    model, tokenizer = build_model(cfg)
    style = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer)
    datamodule = make_datamodule(cfg, plan, tokenizer, style)
    module = LoRACausalLM(model, optimizer=instantiate(cfg.optim.optimizer),
                          scheduler=instantiate(cfg.optim.scheduler) if cfg.optim.get("scheduler") else None,
                          seed=int(cfg.seed), total_steps=plan.total_steps)
    loggers = make_loggers(cfg, job_dir, resuming=plan.resume.path is not None) if rank_zero else []
    callbacks = make_callbacks(cfg, loggers)
    eval_cb = EvalCallback(plan.eval_plan, tokenizer, style, job_dir) if plan.eval_plan.enabled else None
    if eval_cb:
        callbacks.append(eval_cb)
    _ddp_relaunch_as_single_run(job_dir)
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
    restore_best(trainer, module)
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
    if eval_cb:
        metrics.update(eval_cb.metrics)
    for logger in loggers:
        logger.log_metrics({k: v for k, v in metrics.items() if isinstance(v, float)}, step=trainer.global_step)
        if hasattr(logger, "experiment") and type(logger).__name__ == "WandbLogger":
            logger.experiment.summary.update({k: v for k, v in metrics.items() if k.startswith("eval/")})
    write_json_atomic(job_dir / "metrics.json", metrics)
    log.info("val/loss %.4f; metrics in %s", metrics["val/loss"], job_dir / "metrics.json")
    return metrics


@hydra.main(version_base="1.3", config_path="pkg://safetuned.conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = run_job(cfg, train)
    return (metrics or {}).get("val/loss")


if __name__ == "__main__":
    main()
