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
import socket
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
    status: str  # completed | failed | stale | running | interrupted | unfinished
    detail: str = ""


NOT_DONE = ("running", "interrupted", "unfinished")  # counted as unfinished


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


def _holder_gone(job_dir: Path, status: dict) -> bool | None:
    """Whether the process a `running` status names is gone: its lock is free, or (no lock file) its pid is dead
    on this host. None when it cannot be told."""
    from safetuned.joblock import lock_is_held

    held = lock_is_held(job_dir)
    if held is not None:
        return not held
    pid, host = status.get("pid"), status.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def job_state(sweep_dir: Path, job_dir: Path) -> JobState:
    """completed, failed (with its error line), stale (a re-run refused: its config differs), running (a live
    holder), interrupted (stopped by a signal, or its process is gone) or unfinished (no status)."""
    from safetuned.job import job_status

    name = job_dir.relative_to(sweep_dir).as_posix()
    status = job_status(job_dir)
    if status is None:
        return JobState(name, "unfinished", "no status.json (never started, or killed before it began)")
    state = status.get("status")
    if status.get("refused"):
        return JobState(name, "stale", str(status["refused"]).splitlines()[0])
    if state == "completed":
        return JobState(name, "completed")
    if state == "failed":
        return JobState(name, "failed", str(status.get("error") or "no error recorded").splitlines()[0])
    if state == "interrupted":
        return JobState(name, "interrupted", str(status.get("error") or "interrupted").splitlines()[0])
    who = f"pid {status.get('pid')} on {status.get('host')}"
    gone = _holder_gone(job_dir, status) if state == "running" else None
    if gone:
        return JobState(name, "interrupted", f"its process ({who}) is gone since {status.get('started_at')} "
                                             "(killed); re-running the same command resumes it")
    if gone is False:
        return JobState(name, "running", f"running in {who} since {status.get('started_at')}")
    detail = status.get("error") or f"status {state!r} since {status.get('started_at')} (killed or still running)"
    return JobState(name, "unfinished", str(detail).splitlines()[0])


def sweep_states(sweep_dir: str | Path) -> list[JobState]:
    sweep_dir = Path(sweep_dir)
    return [job_state(sweep_dir, d) for d in find_job_dirs(sweep_dir)] if sweep_dir.is_dir() else []


def summary_lines(sweep_dir: str | Path, states: list[JobState]) -> list[str]:
    """One line per job that did not complete, then the counts."""
    lines = [f"{s.status.upper()} {s.name}: {s.detail}" for s in states if s.status != "completed"]
    counts = {"completed": sum(s.status == "completed" for s in states),
              "failed": sum(s.status == "failed" for s in states),
              "unfinished": sum(s.status in NOT_DONE for s in states)}
    tail = ", ".join(f"{n} {k}" for k, n in counts.items())
    stale = sum(s.status == "stale" for s in states)
    if stale:
        tail += f", {stale} stale (results of another config; resume=never re-runs them)"
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
