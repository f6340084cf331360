"""Safety-tune a causal LM with LoRA: `python -m safetuned.train [-m] [group=option key=value ...]`.

The job checks everything it can (config values, data files, N against the pool, eval suites, the model and its
LoRA targets) before building or loading any weights, then trains, keeps the best adapter on `val/loss`, exports
it to `<job>/adapter/`, evaluates it and writes `<job>/metrics.json` (safetuned.pipeline.fit).
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from safetuned.pipeline.fit import train
from safetuned.runtime.job import run_job


@hydra.main(version_base="1.3", config_path="pkg://safetuned.conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    metrics = run_job(cfg, train)
    return (metrics or {}).get("val/loss")


if __name__ == "__main__":
    main()
