"""The job and sweep folder contract: what a job folder holds, its status record, and how a sweep's jobs are found.

    multirun/<date>/<time>/            a sweep (Hydra's multirun.yaml)
      <overrides>/                     a job (Hydra's .hydra/overrides.yaml)
        status.json                    running | completed | failed | interrupted, error line, times, pid, host
        manifest.json                  data mixture, model source, config and data fingerprints
        checkpoints/ adapter/ generations/ eval.json metrics.json wandb/ job.lock

Training, evaluation, the report and the sweep's exit code all read job folders through this module.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetuned.errors import ConfigError
from safetuned.utils.io import read_json, write_json_atomic

STATUS_FILE = "status.json"


def now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def job_status(job_dir: str | Path) -> dict[str, Any] | None:
    """The job's status record, or None when it never started."""
    path = Path(job_dir) / STATUS_FILE
    try:
        return read_json(path)
    except (FileNotFoundError, ValueError):
        return None


def write_status(job_dir: Path, status: str, error: str | None = None, started_at: str | None = None) -> None:
    """Write status.json atomically (a reader never sees half a record)."""
    write_json_atomic(
        job_dir / STATUS_FILE,
        {"status": status, "error": error, "started_at": started_at or now(),
         "ended_at": None if status == "running" else now(), "pid": os.getpid(), "host": socket.gethostname()},
    )


def sweep_root(path: str | Path) -> Path:
    """The sweep folder holding `path`: the nearest folder (itself included) with Hydra's multirun.yaml."""
    path = Path(path).resolve()
    for p in (path, *path.parents):
        if (p / "multirun.yaml").is_file():
            return p
    return path


def sweep_group_name(sweep_dir: str | Path) -> str:
    """The sweep's id, used as the W&B group of its jobs and report: `<date>/<time>` for `multirun/<date>/<time>`.

    It is the path below the last `multirun` folder, or else the last two path parts; a job folder inside the
    sweep gives the same id as the sweep folder.
    """
    parts = sweep_root(sweep_dir).parts
    if "multirun" in parts[:-1]:
        cut = len(parts) - 1 - parts[::-1].index("multirun")
        name = "/".join(parts[cut + 1:])
    else:
        name = "/".join(parts[-2:])
    return name[-128:]  # W&B caps group names at 128 characters


def newest_sweep(root: str | Path = "multirun") -> Path:
    """The most recently launched sweep under `root` (by the time Hydra last wrote its multirun.yaml)."""
    root = Path(root)
    patterns = ("*/multirun.yaml", "*/*/multirun.yaml", "*/*/*/multirun.yaml")  # not into job folders
    found = [p.parent for pattern in patterns for p in root.glob(pattern)] if root.is_dir() else []
    if not found:
        raise ConfigError(f"no sweep folders (with multirun.yaml) under {root}/; pass a sweep folder, "
                          "e.g. python -m safetuned.report multirun/<date>/<time>")
    return max(found, key=lambda p: ((p / "multirun.yaml").stat().st_mtime, str(p)))


def find_job_dirs(sweep_dir: Path) -> list[Path]:
    """Every job folder (one with Hydra's `.hydra/overrides.yaml`) under the sweep, nested ones included."""
    jobs = []
    for dirpath, dirnames, _ in os.walk(sweep_dir):
        if (Path(dirpath) / ".hydra" / "overrides.yaml").is_file():
            jobs.append(Path(dirpath))
            dirnames.clear()  # a job's own folders (checkpoints, adapter, wandb) hold no jobs
        else:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("wandb", "plots"))
    return sorted(jobs)


@dataclass
class JobState:
    """One job folder of a sweep and how it ended."""

    name: str
    status: str  # completed | failed | stale | running | interrupted | unfinished
    detail: str = ""


NOT_DONE = ("running", "interrupted", "unfinished")  # counted as unfinished


def _holder_gone(job_dir: Path, status: dict) -> bool | None:
    """Whether the process a `running` status names is gone: its lock is free, or (no lock file) its pid is dead
    on this host. None when it cannot be told."""
    from safetuned.runtime.joblock import lock_is_held

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
