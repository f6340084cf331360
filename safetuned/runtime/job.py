"""One Hydra job's lifecycle: a lock, a status file, skip-if-finished, stale-config refusal, failure isolation.

`<job>/status.json` holds `status` (running | completed | failed | interrupted), a one-line `error`, the start and
end times and the pid/host of the run. Anything but `completed` is re-run (resuming from `checkpoints/last.ckpt`)
when the same command runs into the same folder; a job killed outright (SIGKILL, node failure) keeps `running`,
and its lock (safetuned.runtime.joblock) tells a live run from a dead one. A re-run whose config differs from the one the
job's results or checkpoint came from (safetuned.runtime.fingerprint) neither skips nor resumes: it says which keys differ.
Exit codes of a single run: 0 done or skipped, 2 input to fix, 3 job held by another live run, 1 a crash or a
checkpoint that cannot be written, 128+N stopped by signal N (resumable).
"""

from __future__ import annotations

import logging
import shutil
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from safetuned.errors import ConfigErrors, SafetunedError, StaleJobError
from safetuned.pipeline.layout import STATUS_FILE, job_status, now, write_status
from safetuned.runtime import wandb_job
from safetuned.runtime.checkpointing import JobInterrupted, PreemptionCheckpoint  # noqa: F401 - configs name it here too
from safetuned.runtime.ddp import destroy_process_group, is_rank_zero, reset_ddp_env
from safetuned.runtime.fingerprint import stale_keys
from safetuned.runtime.joblock import JobLock
from safetuned.utils.io import read_json, write_json_atomic, write_text_atomic

log = logging.getLogger(__name__)

ERROR_LOG = "error.log"
UNFINISHED = ("running", "interrupted")
# The .hydra files of the run that wrote the manifest: put back when a refused re-run has overwritten them.
KEPT_HYDRA = ("config.yaml", "overrides.yaml")

def is_multirun() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def error_line(e: BaseException) -> str:
    """`Type: first line of the message`; Hydra's instantiate wrapper is unwrapped to the error it carries."""
    from hydra.errors import InstantiationException

    while isinstance(e, InstantiationException) and e.__cause__ is not None:
        e = e.__cause__
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    name = "ConfigError" if isinstance(e, ConfigErrors) else type(e).__name__
    return f"{name}: {lines[0]}" if lines else name


def keep_run_config(job_dir: Path) -> None:
    """Keep this run's .hydra config beside the manifest it writes (restored if a refused re-run overwrites it)."""
    for name in KEPT_HYDRA:
        src = job_dir / ".hydra" / name
        if src.is_file():
            shutil.copyfile(src, src.with_name(f"manifest.{name}"))


def _restore_run_config(job_dir: Path) -> None:
    for name in KEPT_HYDRA:
        kept = job_dir / ".hydra" / f"manifest.{name}"
        if kept.is_file():
            shutil.copyfile(kept, kept.with_name(name))


def _has_checkpoint(job_dir: Path) -> bool:
    return any((job_dir / "checkpoints").glob("*.ckpt"))


def _user_error(e: SafetunedError, job_dir: Path) -> None:
    """Say a user error in one line per problem; a single run exits with the error's code, a sweep goes on."""
    lines = e.errors if isinstance(e, ConfigErrors) else [str(e)]
    if is_multirun():
        for line in lines:
            log.error("job %s: %s", job_dir.name, line)
        return
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    sys.exit(e.exit_code)


def run_job(cfg: DictConfig, fn: Callable[[DictConfig, Path], dict | None]) -> dict | None:
    """Run `fn(cfg, job_dir)` holding the job's lock, with a status file. In a sweep a failed job is recorded and the
    sweep goes on; a job another live process holds is left to it."""
    job_dir = Path(HydraConfig.get().runtime.output_dir)
    if is_multirun():
        reset_ddp_env()
    if not is_rank_zero():  # a DDP rank of a job whose rank zero holds the lock and writes the files
        return _run(cfg, fn, job_dir, owner=False)
    lock = JobLock(job_dir)
    try:
        lock.acquire()
    except SafetunedError as e:
        _user_error(e, job_dir)
        return None
    try:
        wandb_job.use_job_dirs(job_dir)
        return _run(cfg, fn, job_dir, owner=True, took_over=lock.taken_over is not None)
    finally:
        lock.release()


def _refuse_if_stale(cfg: DictConfig, job_dir: Path, previous: dict | None) -> None:
    """Raise StaleJobError when the job's results or checkpoint came from another config than `cfg`."""
    state = (previous or {}).get("status")
    if str(cfg.get("resume", "auto")) != "auto" or not (state == "completed" or _has_checkpoint(job_dir)):
        return
    changes = stale_keys(cfg, job_dir)
    if not changes:
        return
    shown = ", ".join(changes[:6]) + (f" and {len(changes) - 6} more" if len(changes) > 6 else "")
    what = "completed" if state == "completed" else "checkpointed"
    message = (f"job {job_dir} was {what} under another config ({shown}): not skipped, not resumed; resume=never "
               "re-runs it afresh here, a new hydra.sweep.dir (or hydra.run.dir) keeps both")
    _restore_run_config(job_dir)
    if previous:
        write_json_atomic(job_dir / STATUS_FILE, {**previous, "refused": message, "refused_at": now()})
    raise StaleJobError(message)


def _run(cfg: DictConfig, fn: Callable, job_dir: Path, owner: bool, took_over: bool = False) -> dict | None:
    previous = job_status(job_dir) if owner else None
    if owner:
        try:
            _refuse_if_stale(cfg, job_dir, previous)
        except SafetunedError as e:
            _user_error(e, job_dir)
            return None
    if (previous or {}).get("status") == "completed" and cfg.get("resume", "auto") != "never":
        if previous.get("refused"):
            write_json_atomic(job_dir / STATUS_FILE, {k: v for k, v in previous.items() if not k.startswith("refused")})
        log.info("%s already completed: skipped (resume=never re-runs it)", job_dir)
        return read_json(job_dir / "metrics.json") if (job_dir / "metrics.json").exists() else None
    if previous:
        gone = " by a process that is gone" if took_over and previous.get("status") == "running" else ""
        log.info("%s was %s%s: running it again (resume=%s)", job_dir, previous.get("status"), gone, cfg.get("resume"))
    started = now()
    if owner:
        write_status(job_dir, "running", started_at=started)
        (job_dir / ERROR_LOG).unlink(missing_ok=True)
    try:
        result = fn(cfg, job_dir)
    except SafetunedError as e:
        if owner:
            _record_failure(job_dir, error_line(e), started, traceback.format_exc())
        _user_error(e, job_dir)
        return None
    except Exception as e:  # a sweep must survive one job's crash (OOM, scorer bug, ...)
        if owner:
            _record_failure(job_dir, error_line(e), started, traceback.format_exc())
        if is_multirun():
            log.exception("job failed")
            return None
        raise
    except (KeyboardInterrupt, SystemExit) as e:
        # SIGTERM under Lightning (SIGTERMException), submitit's requeue exit on SIGUSR2, Ctrl-C: resumable.
        if owner:
            _record_interrupt(job_dir, e, started)
        code = getattr(e, "code", None)
        if isinstance(e, SystemExit) and not code:
            raise SystemExit(128 + signal.SIGTERM) from e  # Lightning exits 0 on SIGTERM: say it did not finish
        raise
    finally:
        wandb_job.close()
        if is_multirun():
            destroy_process_group()
    if owner:
        write_status(job_dir, "completed", started_at=started)
    return result


def _record_failure(job_dir: Path, message: str, started: str, tb: str) -> None:
    write_status(job_dir, "failed", error=message, started_at=started)
    write_text_atomic(job_dir / ERROR_LOG, tb)


def _record_interrupt(job_dir: Path, e: BaseException, started: str) -> None:
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    if isinstance(e, JobInterrupted):
        what = e.signame
    elif isinstance(e, SIGTERMException):
        what = "SIGTERM"
    elif isinstance(e, KeyboardInterrupt):
        what = "KeyboardInterrupt (SIGINT)"
    else:
        what = f"SystemExit (exit code {e.code})"
    last = job_dir / "checkpoints" / "last.ckpt"
    hint = f"resumes from {last}" if last.exists() else "starts afresh (no last.ckpt yet)"
    write_status(job_dir, "interrupted", error=f"interrupted by {what}; re-running the same command {hint}",
                 started_at=started)
    log.warning("job interrupted (%s): %s", what, job_dir)
