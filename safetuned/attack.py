"""Fine-tuning attacks from trained jobs' adapters, a second-stage sweep (conf/attack.yaml has the commands):

    python -m safetuned.attack -m source=<sweep or job folder> attack.kind=harmful,benign attack.n=0,10,100

Each job takes its source job's model, prompt, LoRA, eval and data config, trains on n harmful or benign
demonstrations (n=0: none) and is evaluated, checkpointed, resumed and logged like a training job
(safetuned.pipeline.attack plans it; safetuned.pipeline.fit trains it).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import hydra
from omegaconf import DictConfig

from safetuned.errors import SafetunedError
from safetuned.pipeline.attack import attack_config, expand_source_args, run_attack
from safetuned.runtime.job import run_job


def _fail(error: SafetunedError, cfg: DictConfig, job_dir: Path) -> None:
    raise error


def launch(cfg: DictConfig) -> dict | None:
    """One attack job in the job lifecycle; a bad source fails that job alone (exit 2 in a single run)."""
    try:
        job_cfg, fn = attack_config(cfg), run_attack
    except SafetunedError as e:  # recorded in the job's status.json like any input error found by the job
        job_cfg, fn = cfg, partial(_fail, e)
    return run_job(job_cfg, fn)


@hydra.main(version_base="1.3", config_path="pkg://safetuned.conf", config_name="attack")
def run(cfg: DictConfig) -> float | None:
    return (launch(cfg) or {}).get("val/loss")


def main() -> None:
    """The command line: a sweep folder given as `source` becomes its finished jobs, then Hydra runs."""
    try:
        sys.argv = expand_source_args(sys.argv)
    except SafetunedError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    run()


if __name__ == "__main__":
    main()
