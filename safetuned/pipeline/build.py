"""Building a planned job's parts: the model (with LoRA), the DataModule, loggers, callbacks and trainer plugins.

Loggers and callbacks are built by one generic `_target_` loop over their config groups; the training job, the
evaluation entry point and the benchmarks all build through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from safetuned.pipeline.plan import Plan
from safetuned.runtime.job import is_multirun


@dataclass(frozen=True)
class AdapterInit:
    """A trained adapter a job starts from: trained on (`continue`) or merged into the base under a new LoRA (`fresh`)."""

    path: Path
    mode: Literal["continue", "fresh"] = "continue"


def build_model(cfg: DictConfig, with_lora: bool = True, init: AdapterInit | None = None):
    """Base model + tokenizer (building the embedded one once), with LoRA adapters added unless told not to; `init`
    given, the LoRA starts from that trained adapter (or from new weights on the base merged with it)."""
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
    if init is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(init.path), is_trainable=init.mode == "continue")
        if init.mode == "continue":
            return model, tokenizer
        model = model.merge_and_unload()
    return (apply_lora(model, instantiate(cfg.lora), seed=int(cfg.seed)) if with_lora else model), tokenizer


def make_loggers(cfg: DictConfig, job_dir: Path, resuming: bool = False) -> list:
    """The configured loggers; W&B's run continues the job's own when it resumes from a checkpoint."""
    from hydra.utils import get_class, instantiate
    from lightning.pytorch.loggers import WandbLogger

    from safetuned.pipeline.layout import sweep_group_name
    from safetuned.runtime import wandb_job

    loggers = []
    for lcfg in (cfg.get("logger") or {}).values():
        if lcfg is None or "_target_" not in lcfg:
            continue
        if issubclass(get_class(lcfg._target_), WandbLogger):  # named and grouped by the sweep, resumed by id
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

    from safetuned.runtime.checkpointing import AtomicCheckpointIO

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
