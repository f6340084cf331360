"""Hydra callback: a `-m` sweep with failed or unfinished jobs ends with a non-zero exit code.

Each job records its own failure and the sweep goes on (safetuned.job.run_job), so Hydra itself would exit 0.
This callback reads every job folder's status.json when the sweep ends, prints one line per job that did not
complete and raises SystemExit. Hydra's callback loop and `run_and_report` catch only `Exception`, so SystemExit
reaches the interpreter and becomes the exit code. Hydra calls `on_multirun_end` in *reverse* registration order:
registered first (conf/hydra/default.yaml), this callback runs last, after the sweep report is written.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


@dataclass
class JobState:
    """One job folder of a sweep and how it ended."""

    name: str
    status: str  # completed | failed | unfinished
    detail: str = ""


def find_job_dirs(sweep_dir: Path) -> list[Path]:
    """Folders holding Hydra's `.hydra/overrides.yaml` (nested sweep subdirs included)."""
    found = []
    for dirpath, dirnames, _ in os.walk(sweep_dir):
        if (Path(dirpath) / ".hydra" / "overrides.yaml").is_file():
            found.append(Path(dirpath))
            dirnames.clear()
        else:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("wandb", "plots"))
    return sorted(found)


def job_state(sweep_dir: Path, job_dir: Path) -> JobState:
    """completed (status completed), failed (with its error line) or unfinished (running, interrupted, none)."""
    from safetuned.job import job_status

    name = job_dir.relative_to(sweep_dir).as_posix()
    status = job_status(job_dir)
    if status is None:
        return JobState(name, "unfinished", "no status.json (never started, or killed before it began)")
    state = status.get("status")
    if state == "completed":
        return JobState(name, "completed")
    if state == "failed":
        return JobState(name, "failed", str(status.get("error") or "no error recorded").splitlines()[0])
    detail = status.get("error") or f"status {state!r} since {status.get('started_at')} (killed or still running)"
    return JobState(name, "unfinished", str(detail).splitlines()[0])


def sweep_states(sweep_dir: str | Path) -> list[JobState]:
    sweep_dir = Path(sweep_dir)
    return [job_state(sweep_dir, d) for d in find_job_dirs(sweep_dir)] if sweep_dir.is_dir() else []


def summary_lines(sweep_dir: str | Path, states: list[JobState]) -> list[str]:
    """One line per job that did not complete, then the counts."""
    lines = [f"{s.status.upper()} {s.name}: {s.detail}" for s in states if s.status != "completed"]
    counts = {k: sum(s.status == k for s in states) for k in ("completed", "failed", "unfinished")}
    tail = ", ".join(f"{n} {k}" for k, n in counts.items())
    if counts["failed"] or counts["unfinished"]:
        tail += f"; re-run the same command with hydra.sweep.dir={sweep_dir} to retry only those"
    lines.append(f"sweep {sweep_dir}: {tail}")
    return lines


class SweepExitCode(Callback):
    """Exit with `exit_code` when any job folder of the sweep failed or is unfinished (after the report)."""

    def __init__(self, exit_code: int = 1) -> None:
        self.exit_code = int(exit_code)
        self.sweep_dir: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.sweep_dir = str(config.hydra.sweep.dir)  # `${now:...}` resolved once, as the jobs see it
        names = list(OmegaConf.select(config, "hydra.callbacks", default={}) or {})
        mine = [n for n in names if "SweepExitCode" in str(config.hydra.callbacks[n].get("_target_", ""))]
        if mine and names[0] != mine[0]:
            log.warning("hydra.callbacks.%s should be registered first: on_multirun_end runs callbacks in reverse "
                        "order, so %s would be skipped by its exit", mine[0], ", ".join(names[: names.index(mine[0])]))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = self.sweep_dir or str(config.hydra.sweep.dir)
        states = sweep_states(sweep_dir)
        lines = summary_lines(sweep_dir, states)
        for line in lines:
            print(line, file=sys.stderr, flush=True)
        if any(s.status != "completed" for s in states):
            raise SystemExit(self.exit_code)
