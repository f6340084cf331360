"""Real jobs in subprocesses: a sweep's wall time and a training job's peak resident memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from safetuned.errors import SafetunedError
from safetuned.utils.io import read_json


@dataclass
class ProcessRun:
    """One finished subprocess: its command, wall time, peak RSS and log."""

    command: list[str]
    seconds: float
    peak_rss_mb: float
    returncode: int
    log: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SweepRun:
    """A `-m` sweep: the process and each job's own numbers from its metrics.json."""

    process: ProcessRun
    sweep_dir: str
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "process": self.process.to_dict()}


def run_measured(command: list[str], log_path: str | Path, env: dict[str, str] | None = None) -> ProcessRun:
    """Run `command` to completion with output to `log_path`: wall time and its own peak RSS (see bench.rusage)."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    usage = log_path.with_suffix(".rusage.json")
    usage.unlink(missing_ok=True)
    with open(log_path, "w") as log:
        started = time.perf_counter()
        code = subprocess.run([sys.executable, "-m", "bench.rusage", str(usage), "--", *command], stdout=log,
                              stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, check=False).returncode
        seconds = time.perf_counter() - started
    measured = json.loads(usage.read_text()) if usage.exists() else {"returncode": code, "maxrss_kib": float("nan")}
    return ProcessRun(command, seconds, measured["maxrss_kib"] / 1024, int(measured["returncode"]), str(log_path))


def _tail(path: str, lines: int = 5) -> str:
    try:
        return " | ".join(Path(path).read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def _check(run: ProcessRun, what: str) -> None:
    if run.returncode != 0:
        raise SafetunedError(f"{what} failed (exit {run.returncode}); log {run.log}: {_tail(run.log, 2)}")


def train_command(overrides: list[str], multirun: bool = False) -> list[str]:
    return [sys.executable, "-m", "safetuned.train", *(["-m"] if multirun else []), *overrides]


def dirname_excludes(overrides: list[str]) -> str:
    """Leave the bench's fixed overrides out of job folder names, which are then `data.safety_n=<N>` as in the demo.

    Hydra names a sweep job's folder after all its overrides; a dozen of them pass the 255-byte name limit.
    """
    from bench.common import compose_train_cfg

    cfg = compose_train_cfg(overrides, ".")
    keys = list(cfg.hydra.job.config.override_dirname.exclude_keys or [])
    keys += [k for k in (o.split("=", 1)[0].lstrip("+~") for o in overrides) if k not in keys]
    return f"hydra.job.config.override_dirname.exclude_keys=[{','.join(keys)}]"


def run_sweep(safety_ns: list[int], overrides: list[str], sweep_dir: str | Path) -> SweepRun:
    """`python -m safetuned.train -m data.safety_n=...` into its own folder; every job must complete."""
    sweep_dir = Path(sweep_dir)
    command = train_command([f"data.safety_n={','.join(map(str, safety_ns))}", *overrides,
                             f"hydra.sweep.dir={sweep_dir}", dirname_excludes(overrides)], multirun=True)
    run = run_measured(command, sweep_dir.parent / f"{sweep_dir.name}.log")
    _check(run, "the sweep")
    jobs: dict[str, dict[str, Any]] = {}
    for n in safety_ns:
        matches = sorted(p for p in sweep_dir.glob("*") if p.is_dir() and f"data.safety_n={n}" in p.name.split(","))
        if not matches:
            raise SafetunedError(f"the sweep wrote no job folder for data.safety_n={n} under {sweep_dir}")
        job = matches[0]
        status = (read_json(job / "status.json") if (job / "status.json").exists() else {}).get("status")
        if status != "completed":
            raise SafetunedError(f"sweep job {job} ended {status!r}; see {job / 'status.json'} and {run.log}")
        metrics = read_json(job / "metrics.json")
        jobs[str(n)] = {"dir": str(job), "train_s": metrics.get("time/train_s"),
                        "eval_s": metrics.get("time/eval_s"), "steps": metrics.get("train/steps"),
                        "tokenize_cache_hits": metrics.get("data/tokenize_cache_hits"),
                        "nonpad_fraction": metrics.get("data/nonpad_fraction")}
    return SweepRun(run, str(sweep_dir), jobs)


def run_single_job(overrides: list[str], job_dir: str | Path) -> ProcessRun:
    """One `python -m safetuned.train` job (train + evaluate) into `job_dir`."""
    job_dir = Path(job_dir)
    run = run_measured(train_command([*overrides, f"hydra.run.dir={job_dir}"]), job_dir.parent / f"{job_dir.name}.log")
    _check(run, "the training job")
    if not (job_dir / "metrics.json").exists():
        raise SafetunedError(f"the training job wrote no metrics.json in {job_dir}; log {run.log}")
    return run
