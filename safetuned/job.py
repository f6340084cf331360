"""One Hydra job's lifecycle: a lock, a status file, skip-if-finished, stale-config refusal, failure isolation.

`<job>/status.json` holds `status` (running | completed | failed | interrupted), a one-line `error`, the start and
end times and the pid/host of the run. Anything but `completed` is re-run (resuming from `checkpoints/last.ckpt`)
when the same command runs into the same folder; a job killed outright (SIGKILL, node failure) keeps `running`,
and its lock (safetuned.joblock) tells a live run from a dead one. A re-run whose config differs from the one the
job's results or checkpoint came from (safetuned.fingerprint) neither skips nor resumes: it says which keys differ.
Exit codes of a single run: 0 done or skipped, 2 input to fix, 3 job held by another live run, 1 a crash or a
checkpoint that cannot be written, 128+N stopped by signal N (resumable).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import signal
import socket
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from safetuned import wandb_job
from safetuned.checkpointing import JobInterrupted, PreemptionCheckpoint  # noqa: F401 - configs name it here too
from safetuned.errors import ConfigErrors, SafetunedError, StaleJobError
from safetuned.fingerprint import stale_keys
from safetuned.joblock import JobLock
from safetuned.utils.io import read_json, write_json_atomic, write_text_atomic

log = logging.getLogger(__name__)

STATUS_FILE = "status.json"
ERROR_LOG = "error.log"
UNFINISHED = ("running", "interrupted")
# The .hydra files of the run that wrote the manifest: put back when a refused re-run has overwritten them.
KEPT_HYDRA = ("config.yaml", "overrides.yaml")

# Variables Lightning's DDP launcher exports into the launching process. A sweep process launches one DDP job
# after another, and a second job that still sees LOCAL_RANK thinks an outside launcher made its processes and
# waits for ranks that never come. Values present at start-up (torchrun, SLURM) are the real ones and stay.
DDP_ENV = ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_ENV_AT_START = {k: os.environ.get(k) for k in DDP_ENV}


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
    """Write status.json atomically (a reader never sees half a record)."""
    write_json_atomic(
        job_dir / STATUS_FILE,
        {"status": status, "error": error, "started_at": started_at or _now(),
         "ended_at": None if status == "running" else _now(), "pid": os.getpid(), "host": socket.gethostname()},
    )


def is_multirun() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _env_int(name: str) -> int | None:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return None


def is_rank_zero() -> bool:
    """True in the one process that writes a job's files: global rank 0 under Lightning's DDP launcher (LOCAL_RANK
    and NODE_RANK), torchrun (RANK) or a multi-task SLURM step (SLURM_PROCID)."""
    rank = _env_int("RANK")
    if rank is None and (_env_int("SLURM_NTASKS") or 1) > 1:
        rank = _env_int("SLURM_PROCID")
    if rank is not None:
        return rank == 0
    return (_env_int("LOCAL_RANK") or 0) == 0 and (_env_int("NODE_RANK") or _env_int("GROUP_RANK") or 0) == 0


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
        write_json_atomic(job_dir / STATUS_FILE, {**previous, "refused": message, "refused_at": _now()})
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
    started = _now()
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
            _destroy_process_group()
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


def reset_ddp_env() -> None:
    """Undo the DDP variables a previous job of this process exported (values from start-up are kept)."""
    for key, value in _ENV_AT_START.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _destroy_process_group() -> None:
    """End this job's process group so the next job of a sweep creates its own (Lightning only does so at exit)."""
    try:
        import torch.distributed as dist
    except ImportError:
        return
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# ---------------------------------------------------------------- DDP ranks of a sweep job

# Hydra overrides that belong to the sweep (or are set again by Lightning) and must not reach a rank's command.
_SWEEP_ONLY = ("hydra.mode", "hydra.sweep", "hydra.sweeper", "hydra/sweeper", "hydra.launcher", "hydra/launcher",
               "hydra.run", "hydra.output_subdir", "hydra.job.name")
_FLAGS_WITH_VALUE = ("--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd")


def _override_key(text: str) -> str:
    return text.lstrip("+~").split("=", 1)[0]


def single_run_argv(argv: Sequence[str], task: Sequence[str], hydra: Sequence[str]) -> list[str]:
    """The command line that runs one job of a sweep on its own: the config flags of `argv` (-cp/-cn/-cd), the
    Hydra overrides that shape the config (search path, chdir, logging) and the job's task overrides; no -m."""
    out, args = [argv[0]], list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _FLAGS_WITH_VALUE and i + 1 < len(args):
            out += [arg, args[i + 1]]
            i += 2
            continue
        if arg.split("=", 1)[0] in _FLAGS_WITH_VALUE:
            out.append(arg)
        i += 1
    kept = [o for o in hydra if not any(_override_key(o) == p or _override_key(o).startswith(p + ".")
                                        for p in _SWEEP_ONLY)]
    return [*out, *kept, *task]
