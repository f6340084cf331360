"""Everything a training job checks and decides before any weights load: `plan_job(cfg, job_dir) -> Plan`.

In order: the config against its schema (every error at once), the demo world, the data files and mixture, the
eval suites and scorers, the model's config and LoRA targets, the prompt style, the batch and step arithmetic and
the checkpoint to resume from (verified). A problem raises a one-line SafetunedError; nothing is written into the
job folder.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from safetuned.errors import ConfigError, DataError
from safetuned.pipeline.check import check_config
from safetuned.runtime.checkpointing import Resume, choose_resume


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
    resume: Resume | None = None


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
    from safetuned.data.sources import CONFIG_KEYS, load_records

    d = cfg.data
    cache = Path(cfg.paths.cache_dir)
    sources: dict[str, dict] = {}

    def load(name: str, source: str, **kw) -> list[dict]:
        loaded = load_records(source, cache_dir=cache, tag=name, **kw)
        sources[name] = {"source": loaded.source, "sha256": loaded.sha256, "origin": loaded.origin,
                         "records": len(loaded.records)}
        if not loaded.records and name in ("base", "premixed"):
            raise DataError(f"{CONFIG_KEYS[name]}={source!r}: the file holds no records (an empty list); give a "
                            "file of {instruction, input, output} records")
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


def check_prompt_style(cfg: DictConfig) -> None:
    """The prompt style exists for this model (a chat template needs the tokenizer's), read without any weights."""
    from safetuned.data.prompts import get_prompt_style

    name = str(cfg.prompt.name)
    if name != "chat":
        get_prompt_style(name)
        return
    from safetuned.model.load import load_tokenizer, model_source

    source = model_source(cfg)
    if not cfg.model.get("pretrained") and not (Path(source) / "tokenizer_config.json").exists():
        raise ConfigError("prompt.name=chat: the embedded tiny model's tokenizer has no chat template; "
                          "use prompt=alpaca (allowed: alpaca, chat)")
    get_prompt_style(name, tokenizer=load_tokenizer(source, trust_remote_code=bool(cfg.model.trust_remote_code)))


def step_plan(cfg: DictConfig, train_examples: int, world_size: int, accumulate: int) -> tuple[int, int]:
    """(val_check_interval in batches, total optimizer steps); max_epochs=-1 is bounded by trainer.max_steps."""
    batches_per_epoch = math.ceil(train_examples / (int(cfg.data.micro_batch_size) * world_size))
    max_epochs = int(cfg.trainer.max_epochs)
    max_steps = int(cfg.trainer.get("max_steps", -1) or -1)
    if max_epochs < 1 and max_steps < 1:
        raise ConfigError(f"trainer.max_epochs={max_epochs} would train until killed: use an int >= 1, or set "
                          "trainer.max_steps >= 1")
    if max_epochs >= 1:
        total_batches = batches_per_epoch * max_epochs
        total_steps = math.ceil(batches_per_epoch / accumulate) * max_epochs
    else:  # -1: epochs unbounded, the step limit ends training
        total_batches, total_steps = max_steps * accumulate, max_steps
    if max_steps > 0:
        total_batches = min(total_batches, max_steps * accumulate)
        total_steps = min(total_steps, max_steps)
    val_every = int(cfg.val_every_n_steps)
    val_check_interval = min(val_every * accumulate, max(accumulate, total_batches - total_batches % accumulate))
    return val_check_interval, total_steps


def ensure_demo_assets(cfg: DictConfig) -> None:
    """The demo world the config reads (`data.demo_seed`), and the demo's harm judge when a scorer names its
    folder (`paths.demo_harm_judge`): built once, shared by a sweep's jobs. Nothing for real data."""
    if cfg.data.get("demo_seed") is None:
        return
    from safetuned.data.demo import ensure_demo_world
    from safetuned.model.harm_judge import ensure_demo_harm_judge

    seed = int(cfg.data.demo_seed)
    ensure_demo_world(cfg.paths.demo_dir, seed=seed)
    judge = cfg.paths.get("demo_harm_judge")
    scorers = (cfg.get("eval") or {}).get("scorers") or {}
    if judge and any(isinstance(o, Mapping) and o.get("model") == judge for o in scorers.values()):
        ensure_demo_harm_judge(cfg.paths.demo_dir, judge, seed=seed)


def plan_job(cfg: DictConfig, job_dir: Path | None = None, *, data: tuple[Any, dict[str, dict]] | None = None
             ) -> Plan:
    """All validation, cheap and in order; `job_dir` given, also the verified checkpoint to resume from; `data`
    given, the (mixture, sources) to train on instead of the configured data (an attack's, safetuned.pipeline.attack)."""
    from safetuned.data.demo import ensure_demo_world
    from safetuned.eval.runner import EvalPlan
    from safetuned.model.load import linear_module_names, load_model_config, model_source
    from safetuned.model.lora import check_lora_targets
    from safetuned.runtime.job import is_rank_zero

    check_config(cfg, "attack" if "attack" in cfg else "train")
    ensure_demo_assets(cfg)
    mixture, sources = data if data is not None else load_data(cfg)
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
    check_prompt_style(cfg)

    world_size = world_size_of(cfg.trainer)
    accumulate = batch_plan(cfg.data, world_size)
    val_check_interval, total_steps = step_plan(cfg, len(mixture.train), world_size, accumulate)
    resume = choose_resume(cfg, Path(job_dir), owner=is_rank_zero()) if job_dir is not None else None
    return Plan(mixture, sources, model_source(cfg), world_size, accumulate, val_check_interval, total_steps,
                eval_plan, resume)
