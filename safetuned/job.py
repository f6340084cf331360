"""One Hydra job's lifecycle: status file, skip-if-finished, failure isolation inside sweeps, W&B always closed."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from safetuned.errors import SafetunedError
from safetuned.utils.io import read_json, write_json_atomic

log = logging.getLogger(__name__)

STATUS_FILE = "status.json"


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def job_status(job_dir: str | Path) -> dict[str, Any] | None:
    """The job's status record, or None when it never started."""
    path = Path(job_dir) / STATUS_FILE
    try:
        return read_json(path)
    except (FileNotFoundError, ValueError):
        return None


def write_status(job_dir: Path, status: str, error: str | None = None, started_at: str | None = None) -> None:
    write_json_atomic(
        job_dir / STATUS_FILE,
        {"status": status, "error": error, "started_at": started_at or _now(),
         "ended_at": None if status == "running" else _now()},
    )


def is_multirun() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def is_rank_zero() -> bool:
    import os

    return int(os.environ.get("LOCAL_RANK", 0)) == 0 and int(os.environ.get("NODE_RANK", 0)) == 0


def run_job(cfg: DictConfig, fn: Callable[[DictConfig, Path], dict | None]) -> dict | None:
    """Run `fn(cfg, job_dir)` with a status file. In a sweep a failed job is recorded and the sweep goes on."""
    job_dir = Path(HydraConfig.get().runtime.output_dir)
    previous = job_status(job_dir)
    if (previous or {}).get("status") == "completed" and cfg.get("resume", "auto") != "never" and is_rank_zero():
        log.info("%s already completed: skipped (resume=never re-runs it)", job_dir)
        return read_json(job_dir / "metrics.json") if (job_dir / "metrics.json").exists() else None
    started = _now()
    if is_rank_zero():
        write_status(job_dir, "running", started_at=started)
    try:
        result = fn(cfg, job_dir)
    except SafetunedError as e:
        message = f"{type(e).__name__}: {e}"
        _record_failure(job_dir, message, started)
        if is_multirun():
            log.error("job failed: %s", message)
            return None
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # noqa: BLE001 - a sweep must survive one job's crash (OOM, scorer bug, ...)
        _record_failure(job_dir, f"{type(e).__name__}: {e}", started, traceback.format_exc())
        if is_multirun():
            log.exception("job failed")
            return None
        raise
    finally:
        _close_wandb()
    if is_rank_zero():
        write_status(job_dir, "completed", started_at=started)
    return result


def _record_failure(job_dir: Path, message: str, started: str, tb: str | None = None) -> None:
    if not is_rank_zero():
        return
    write_status(job_dir, "failed", error=message, started_at=started)
    if tb:
        (job_dir / "error.log").write_text(tb, encoding="utf-8")


def _close_wandb() -> None:
    """Close any W&B run so the next job of the same process starts its own."""
    if "wandb" in sys.modules:
        import wandb

        if wandb.run is not None:
            wandb.finish()
