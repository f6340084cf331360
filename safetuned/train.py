"""Safety-tune a causal LM with LoRA: `python -m safetuned.train [-m] [group=option key=value ...]`.

The job checks everything it can (config values, data files, N against the pool, eval suites, the model and its
LoRA targets) before building or loading any weights, then trains, keeps the best adapter on `val/loss`, exports
it to `<job>/adapter/`, evaluates it and writes `<job>/metrics.json`.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, read_write

from safetuned.errors import ConfigError
from safetuned.job import is_multirun, run_job

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """Everything checked and decided before any heavy work."""

    mixture: Any
    sources: dict[str, dict]
    model_source: str
    world_size: int
    accumulate: int
    val_check_interval: int
    total_steps: int
    eval_plan: Any


def world_size_of(trainer_cfg: DictConfig) -> int:
    """Processes the trainer will run: devices x nodes, as Lightning reads `devices` (an int, "auto"/-1, "0,1" ids
    or a list; several devices make it pick DDP), unless the strategy is a single-device one."""
    strategy = trainer_cfg.get("strategy")
    name = strategy if isinstance(strategy, str) else str((strategy or {}).get("_target_", ""))
    if name.replace("_", "").lower().endswith("singledevice") or "SingleDeviceStrategy" in name:
        return 1
    devices = trainer_cfg.get("devices", "auto")
    if isinstance(devices, str) and "," in devices:
        devices = [d for d in devices.split(",") if d.strip()]
    elif isinstance(devices, str) and devices.strip() != "auto":
        try:
            devices = int(devices)
        except ValueError as e:
            raise ConfigError(f"trainer.devices={devices!r}: use an int, -1, auto, or ids like 0,1") from e
    if devices == "auto" or devices == -1:
        import os

        import torch

        accelerator = str(trainer_cfg.get("accelerator", "auto"))
        if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
            devices = max(torch.cuda.device_count(), 1)
        else:
            devices = (os.cpu_count() or 1) if devices == -1 else 1  # Lightning: CPU "auto" is one process
    elif isinstance(devices, int) and devices < 1:
        raise ConfigError(f"trainer.devices={devices}: must be >= 1, -1 or auto")
    count = devices if isinstance(devices, int) else len(list(devices))
    return count * int(trainer_cfg.get("num_nodes", 1) or 1)


def batch_plan(data_cfg: DictConfig, world_size: int) -> int:
    """Gradient accumulation that keeps the effective batch at `data.batch_size` on any number of processes."""
    micro, total = int(data_cfg.micro_batch_size), int(data_cfg.batch_size)
    if micro < 1 or total < 1:
        raise ConfigError(f"data.micro_batch_size={micro} and data.batch_size={total} must be >= 1")
    per_step = micro * world_size
    if total % per_step:
        raise ConfigError(
            f"data.batch_size={total} is not a multiple of data.micro_batch_size x processes = {micro} x {world_size}"
        )
    return total // per_step


def load_data(cfg: DictConfig) -> tuple[Any, dict[str, dict]]:
    """Read the configured sources and build the seeded mixture (raises on bad files or N)."""
    from safetuned.data.mixture import build_mixture
    from safetuned.data.sources import load_records

    d = cfg.data
    cache = Path(cfg.paths.cache_dir)
    sources: dict[str, dict] = {}

    def load(name: str, source: str, **kw) -> list[dict]:
        loaded = load_records(source, cache_dir=cache, tag=name, **kw)
        sources[name] = {"source": loaded.source, "sha256": loaded.sha256, "origin": loaded.origin,
                         "records": len(loaded.records)}
        return loaded.records

    if d.get("premixed"):
        premixed = load("premixed", d.premixed)
        return build_mixture(premixed, {}, safety_n=0, safety_format=d.safety_format, val_size=d.val_size,
                             seed=cfg.seed), sources
    if not d.get("base") or not d.base.get("source"):
        raise ConfigError("data.base.source is not set (and no data.premixed file is given)")
    base = load("base", d.base.source, split=d.base.get("split", "train"))
    safety = {
        kind: load(f"safety_{kind}", path)
        for kind, path in (d.get("safety") or {}).items()
        if path
    }
    mixture = build_mixture(base, safety, safety_n=int(d.safety_n), safety_format=d.safety_format,
                            val_size=d.val_size, seed=cfg.seed, base_n=d.base.get("n"))
    return mixture, sources


def plan_job(cfg: DictConfig) -> Plan:
    """All validation, cheap and in order: demo world, data, eval suites, model, LoRA targets, batch arithmetic."""
    from safetuned.data.demo import ensure_demo_world
    from safetuned.eval.runner import EvalPlan
    from safetuned.model.load import linear_module_names, load_model_config, model_source
    from safetuned.model.lora import check_lora_targets

    if cfg.data.get("demo_seed") is not None:
        ensure_demo_world(cfg.paths.demo_dir, seed=int(cfg.data.demo_seed))
    mixture, sources = load_data(cfg)
    eval_plan = EvalPlan.from_config(cfg.eval)  # checks suite files, scorers, harness tasks before training

    m = cfg.model
    if m.get("pretrained"):
        config = load_model_config(str(m.pretrained), trust_remote_code=bool(m.trust_remote_code))
        check_lora_targets(cfg.lora.target_modules, linear_module_names(config, bool(m.trust_remote_code)),
                           str(m.pretrained))
    else:
        check_lora_targets(cfg.lora.target_modules, {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                     "up_proj", "down_proj", "lm_head"}, "the embedded tiny LLaMA")
        ensure_demo_world(m.embedded.world_dir, seed=int(m.embedded.world_seed))

    world_size = world_size_of(cfg.trainer)
    accumulate = batch_plan(cfg.data, world_size)
    batches_per_epoch = math.ceil(len(mixture.train) / (int(cfg.data.micro_batch_size) * world_size))
    total_batches = batches_per_epoch * int(cfg.trainer.max_epochs)
    if int(cfg.trainer.get("max_steps", -1) or -1) > 0:
        total_batches = min(total_batches, int(cfg.trainer.max_steps) * accumulate)
    val_every = int(cfg.val_every_n_steps)
    if val_every < 1:
        raise ConfigError(f"val_every_n_steps={val_every} must be >= 1")
    val_check_interval = min(val_every * accumulate, max(accumulate, total_batches - total_batches % accumulate))
    total_steps = math.ceil(batches_per_epoch / accumulate) * int(cfg.trainer.max_epochs)
    if int(cfg.trainer.get("max_steps", -1) or -1) > 0:
        total_steps = min(total_steps, int(cfg.trainer.max_steps))
    return Plan(mixture, sources, model_source(cfg), world_size, accumulate, val_check_interval, total_steps,
                eval_plan)


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


def make_loggers(cfg: DictConfig, job_dir: Path) -> list:
    from hydra.utils import instantiate

    from safetuned.report import sweep_group_name

    loggers = []
    for name, lcfg in (cfg.get("logger") or {}).items():
        if lcfg is None or "_target_" not in lcfg:
            continue
        if name == "wandb":
            overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
            run_name = lcfg.name or (",".join(overrides) or job_dir.name)
            group = lcfg.group or (sweep_group_name(job_dir.parent) if is_multirun() else None)
            logger = instantiate(lcfg, name=run_name, group=group)
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


def resume_checkpoint(cfg: DictConfig, job_dir: Path) -> str | None:
    """The checkpoint to continue from: `last.ckpt` of this job when resume=auto, an explicit path, or none."""
    resume = str(cfg.get("resume", "auto"))
    if resume == "never":
        return None
    if resume == "auto":
        last = job_dir / "checkpoints" / "last.ckpt"
        return str(last) if last.exists() else None
    if not Path(resume).is_file():
        raise ConfigError(f"resume={resume!r}: no such checkpoint file (use auto, never or a .ckpt path)")
    return resume


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
    """One training job: plan, build, fit, export the best adapter, evaluate, write metrics.json."""
    import lightning as L
    from hydra.utils import instantiate

    from safetuned.data.prompts import get_prompt_style
    from safetuned.eval.callbacks import EvalCallback, restore_best
    from safetuned.model.export import export_adapter
    from safetuned.model.module import LoRACausalLM
    from safetuned.utils.io import write_json_atomic

    configure_threads(cfg)
    plan = plan_job(cfg)
    rank_zero = int(__import__("os").environ.get("LOCAL_RANK", 0)) == 0
    if rank_zero:
        write_json_atomic(job_dir / "manifest.json", {**plan.mixture.manifest, "sources": plan.sources,
                                                      "model": plan.model_source})
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)

    model, tokenizer = build_model(cfg)
    style = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer)
    datamodule = make_datamodule(cfg, plan, tokenizer, style)
    module = LoRACausalLM(model, optimizer=instantiate(cfg.optim.optimizer),
                          scheduler=instantiate(cfg.optim.scheduler) if cfg.optim.get("scheduler") else None,
                          seed=int(cfg.seed), total_steps=plan.total_steps)
    loggers = make_loggers(cfg, job_dir) if rank_zero else []
    callbacks = make_callbacks(cfg, loggers)
    eval_cb = EvalCallback(plan.eval_plan, tokenizer, style, job_dir) if plan.eval_plan.enabled else None
    if eval_cb:
        callbacks.append(eval_cb)
    _ddp_relaunch_as_single_run(job_dir)
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers or False,
        accumulate_grad_batches=plan.accumulate, val_check_interval=plan.val_check_interval,
    )
    started = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=resume_checkpoint(cfg, job_dir))
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
