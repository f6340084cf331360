"""Timed training runs in a process of their own: `python -m bench.worker '<json spec>'` prints
`BENCH_RESULT <json>`; `python -m bench.worker --serve` reads one spec a line from stdin and answers each.

One serving process per implementation keeps implementations from warming each other's allocator or thread pools
and keeps each one's peak RSS its own, while rounds pay the imports once. Each run builds a fresh, seeded model.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

MARKER = "BENCH_RESULT "
ERROR_MARKER = "BENCH_ERROR "


@dataclass
class TrainPlan:
    """The parts of a job's plan a timed run needs."""

    mixture: Any
    accumulate: int


def prepare(cfg: DictConfig) -> TrainPlan:
    """Demo world and mixture as `plan_job` builds them (suites and LoRA checks are not needed to time training)."""
    from safetuned.data.demo import ensure_demo_world
    from safetuned.pipeline.plan import batch_plan, load_data, world_size_of

    if cfg.data.get("demo_seed") is not None:
        ensure_demo_world(cfg.paths.demo_dir, seed=int(cfg.data.demo_seed))
    if not cfg.model.get("pretrained"):
        ensure_demo_world(cfg.model.embedded.world_dir, seed=int(cfg.model.embedded.world_seed))
    mixture, _ = load_data(cfg)
    return TrainPlan(mixture, batch_plan(cfg.data, world_size_of(cfg.trainer)))


_PLANS: dict[str, tuple[DictConfig, TrainPlan]] = {}


def reset_peak_rss() -> None:
    """Start this process's peak-RSS count afresh (Linux clear_refs; elsewhere the peak keeps its history)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def run_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Compose the config of `spec["overrides"]` and run `spec["impl"]` for `steps` timed after `warmup`."""
    from bench.common import compose_train_cfg
    from bench.train_speed import run_impl
    from safetuned.pipeline.build import configure_threads

    key = json.dumps([spec["overrides"], spec["work_dir"]])
    if key not in _PLANS:  # the mixture once per process: rounds differ only in the run
        cfg = compose_train_cfg(spec["overrides"], spec["work_dir"])
        configure_threads(cfg)
        _PLANS[key] = (cfg, prepare(cfg))
    cfg, plan = _PLANS[key]
    reset_peak_rss()
    run = run_impl(spec["impl"], cfg, plan, int(spec["steps"]), int(spec["warmup"]), spec["work_dir"])
    return run.to_dict()


def serve(lines) -> None:
    """Answer one spec a line until stdin closes; a failed run answers its error and the process goes on."""
    for line in lines:
        if not line.strip():
            continue
        try:
            print(MARKER + json.dumps(run_spec(json.loads(line))), flush=True)
        except Exception as e:  # noqa: BLE001 - reported to the bench, which stops with this message
            message = (str(e).strip().splitlines() or [type(e).__name__])[0]
            print(ERROR_MARKER + json.dumps(f"{type(e).__name__}: {message}"), flush=True)
            import traceback

            traceback.print_exc()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--serve":
        serve(sys.stdin)
        return
    result = run_spec(json.loads(argv[0]))
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
