"""One isolated timed training run: `python -m bench.worker '<json spec>'` prints `BENCH_RESULT <json>`.

Each run gets a fresh process so runs cannot warm each other's allocator or thread pools, and so its peak RSS is
its own.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

MARKER = "BENCH_RESULT "


@dataclass
class TrainPlan:
    """The parts of a job's plan a timed run needs."""

    mixture: Any
    accumulate: int


def prepare(cfg: DictConfig) -> TrainPlan:
    """Demo world and mixture as `plan_job` builds them (suites and LoRA checks are not needed to time training)."""
    from safetuned.data.demo import ensure_demo_world
    from safetuned.train import batch_plan, load_data, world_size_of

    if cfg.data.get("demo_seed") is not None:
        ensure_demo_world(cfg.paths.demo_dir, seed=int(cfg.data.demo_seed))
    if not cfg.model.get("pretrained"):
        ensure_demo_world(cfg.model.embedded.world_dir, seed=int(cfg.model.embedded.world_seed))
    mixture, _ = load_data(cfg)
    return TrainPlan(mixture, batch_plan(cfg.data, world_size_of(cfg.trainer)))


def run_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Compose the config of `spec["overrides"]` and run `spec["impl"]` for `steps` timed after `warmup`."""
    from bench.common import compose_train_cfg
    from bench.train_speed import run_impl
    from safetuned.train import configure_threads

    cfg = compose_train_cfg(spec["overrides"], spec["work_dir"])
    configure_threads(cfg)
    plan = prepare(cfg)
    run = run_impl(spec["impl"], cfg, plan, int(spec["steps"]), int(spec["warmup"]), spec["work_dir"])
    return run.to_dict()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    result = run_spec(json.loads(argv[0]))
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
