"""Evaluate a saved adapter or a base model: `python -m safetuned.evaluate adapter=<folder> [overrides]`."""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from safetuned.errors import ModelError
from safetuned.runtime.job import is_multirun, run_job

log = logging.getLogger(__name__)


def adapter_folder(path: str) -> Path:
    """Accept an adapter folder or a training job folder holding `adapter/`."""
    p = Path(path).expanduser()
    if (p / "adapter" / "adapter_config.json").exists():
        return p / "adapter"
    if (p / "adapter_config.json").exists():
        return p
    raise ModelError(f"adapter={path!r} is neither an adapter folder nor a job folder with adapter/")


def evaluate(cfg: DictConfig, out_dir: Path) -> dict[str, float]:
    """Check the config and suites, load the model (+ adapter), run the evaluation, write metrics.json."""
    from safetuned.data.prompts import get_prompt_style
    from safetuned.eval.runner import EvalPlan
    from safetuned.eval.suite_metrics import summary_line
    from safetuned.model.export import load_adapted_as_configured, placed_by_loader
    from safetuned.pipeline.build import build_model
    from safetuned.pipeline.check import check_config
    from safetuned.pipeline.plan import ensure_demo_assets
    from safetuned.utils.io import write_json_atomic

    check_config(cfg, "evaluate")  # every bad key and value at once, before any file or weight is read
    ensure_demo_assets(cfg)
    plan = EvalPlan.from_config(cfg.eval)  # bad suites or scorers fail here, before any model is loaded
    adapter = adapter_folder(cfg.adapter) if cfg.get("adapter") else None
    if adapter is not None:
        # the configured dtype and quantization, as training loaded the base (not fp32 always)
        model, tokenizer, style, base = load_adapted_as_configured(adapter, cfg.model)
    else:
        model, tokenizer = build_model(cfg, with_lora=False)
        style, base = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer), None
    import torch

    if torch.cuda.is_available() and not placed_by_loader(model):
        model.to("cuda")
    metrics, _ = plan.run(model, tokenizer, style, out_dir)
    write_json_atomic(out_dir / "metrics.json", metrics)
    log.info("eval: %s", summary_line(metrics))
    loggers = cfg.get("logger") or {}
    if "wandb" in loggers and loggers.wandb is not None:
        import wandb

        from safetuned.pipeline.layout import sweep_group_name

        w = loggers.wandb
        run = wandb.init(project=w.project, entity=w.entity, mode="offline" if w.offline else "online",
                         dir=str(out_dir), job_type="eval", name=",".join(HydraConfig.get().overrides.task) or None,
                         group=w.group or (sweep_group_name(out_dir.parent) if is_multirun() else None),
                         config={**OmegaConf.to_container(cfg, resolve=True), "adapter": str(adapter or ""),
                                 "base_model": base})
        run.summary.update(metrics)
        run.finish()
    return metrics


@hydra.main(version_base="1.3", config_path="pkg://safetuned.conf", config_name="evaluate")
def main(cfg: DictConfig) -> None:
    run_job(cfg, evaluate)


if __name__ == "__main__":
    main()
