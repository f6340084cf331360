"""One Hydra job's lifecycle: status file, skip-if-finished, failure isolation inside sweeps, resumable interrupts.

`<job>/status.json` holds `status` (running | completed | failed | interrupted), a one-line `error`, the start and
end times and the pid/host of the run. Anything but `completed` is re-run (resuming from `checkpoints/last.ckpt`)
when the same command runs into the same folder; a job killed outright (SIGKILL, node failure) keeps `running`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from safetuned.errors import SafetunedError
from safetuned.utils.io import read_json, write_json_atomic, write_text_atomic

log = logging.getLogger(__name__)

STATUS_FILE = "status.json"
ERROR_LOG = "error.log"
UNFINISHED = ("running", "interrupted")

# Variables Lightning's DDP launcher exports into the launching process. A sweep process launches one DDP job
# after another, and a second job that still sees LOCAL_RANK thinks an outside launcher made its processes and
# waits for ranks that never come. Values present at start-up (torchrun, SLURM) are the real ones and stay.
DDP_ENV = ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_ENV_AT_START = {k: os.environ.get(k) for k in DDP_ENV}


class JobInterrupted(SystemExit):
    """Training stopped on a signal after saving `last.ckpt`; the exit code is 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signame = signal.Signals(signum).name


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


def is_rank_zero() -> bool:
    return int(os.environ.get("LOCAL_RANK", "0")) == 0 and int(os.environ.get("NODE_RANK", "0")) == 0


def error_line(e: BaseException) -> str:
    """`Type: first line of the message`; Hydra's instantiate wrapper is unwrapped to the error it carries."""
    from hydra.errors import InstantiationException

    while isinstance(e, InstantiationException) and e.__cause__ is not None:
        e = e.__cause__
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    return f"{type(e).__name__}: {lines[0]}" if lines else type(e).__name__


def run_job(cfg: DictConfig, fn: Callable[[DictConfig, Path], dict | None]) -> dict | None:
    """Run `fn(cfg, job_dir)` with a status file. In a sweep a failed job is recorded and the sweep goes on."""
    job_dir = Path(HydraConfig.get().runtime.output_dir)
    previous = job_status(job_dir)
    if (previous or {}).get("status") == "completed" and cfg.get("resume", "auto") != "never" and is_rank_zero():
        log.info("%s already completed: skipped (resume=never re-runs it)", job_dir)
        return read_json(job_dir / "metrics.json") if (job_dir / "metrics.json").exists() else None
    if previous and is_rank_zero():
        log.info("%s was %s: running it again (resume=%s)", job_dir, previous.get("status"), cfg.get("resume"))
    if is_multirun():
        reset_ddp_env()
    started = _now()
    if is_rank_zero():
        write_status(job_dir, "running", started_at=started)
        (job_dir / ERROR_LOG).unlink(missing_ok=True)
    try:
        result = fn(cfg, job_dir)
    except SafetunedError as e:
        message = error_line(e)
        _record_failure(job_dir, message, started, traceback.format_exc())
        if is_multirun():
            log.error("job failed: %s", message)
            return None
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # a sweep must survive one job's crash (OOM, scorer bug, ...)
        _record_failure(job_dir, error_line(e), started, traceback.format_exc())
        if is_multirun():
            log.exception("job failed")
            return None
        raise
    except (KeyboardInterrupt, SystemExit) as e:
        # SIGTERM under Lightning (SIGTERMException), submitit's requeue exit on SIGUSR2, Ctrl-C: resumable.
        _record_interrupt(job_dir, e, started)
        code = getattr(e, "code", None)
        if isinstance(e, SystemExit) and not code:
            raise SystemExit(128 + signal.SIGTERM) from e  # Lightning exits 0 on SIGTERM: say it did not finish
        raise
    finally:
        _close_wandb()
        if is_multirun():
            _destroy_process_group()
    if is_rank_zero():
        write_status(job_dir, "completed", started_at=started)
    return result


def _record_failure(job_dir: Path, message: str, started: str, tb: str) -> None:
    if not is_rank_zero():
        return
    write_status(job_dir, "failed", error=message, started_at=started)
    write_text_atomic(job_dir / ERROR_LOG, tb)


def _record_interrupt(job_dir: Path, e: BaseException, started: str) -> None:
    if not is_rank_zero():
        return
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


def _close_wandb() -> None:
    """Close any W&B run so the next job of the same process starts its own."""
    if "wandb" in sys.modules:
        import wandb

        if wandb.run is not None:
            wandb.finish()


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


# ---------------------------------------------------------------- resumable interrupts


class PreemptionCheckpoint(L.Callback):
    """Save `checkpoints/last.ckpt` when the job is told to stop, so the re-run resumes where it was.

    SIGUSR2 (submitit's and SLURM's `--signal=USR2@<s>` warning) is noted, training runs on to the next optimizer
    step, all ranks agree, `last.ckpt` is written, then the earlier handler runs (submitit requeues the job and
    exits) or, without one, the job stops with exit code 128+signal. SIGTERM is Lightning's: it stops at the next
    batch and this callback saves from `on_exception`.
    """

    def __init__(self, signals: Sequence[str] = ("SIGUSR2",), filename: str = "last.ckpt") -> None:
        self.signals = [getattr(signal, s) if isinstance(s, str) else signal.Signals(s) for s in signals]
        self.filename = filename
        self.requested: int | None = None
        self._previous: dict[int, Any] = {}
        self._saved_step = -1

    def _handler(self, signum: int, frame: Any) -> None:
        self.requested = signum  # only note it: the state mid-step is not a checkpoint

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        for s in self.signals:
            self._previous[s] = signal.signal(s, self._handler)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore_handlers()

    def _restore_handlers(self) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)
        self._previous = {}

    def _path(self, trainer: L.Trainer) -> Path:
        ckpt = trainer.checkpoint_callback
        folder = getattr(ckpt, "dirpath", None) or Path(trainer.default_root_dir) / "checkpoints"
        return Path(folder) / self.filename

    def _requested_anywhere(self, trainer: L.Trainer) -> int:
        flag = self.requested or 0
        if trainer.world_size > 1:
            import torch

            t = torch.tensor([flag], device=trainer.strategy.root_device)
            return int(trainer.strategy.reduce(t, reduce_op="max").item())
        return flag

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if trainer.fit_loop.epoch_loop._should_accumulate():
            return  # mid accumulation the gradients so far would be lost
        signum = self._requested_anywhere(trainer)
        if not signum:
            return
        self._save(trainer)
        previous = self._previous.get(signum)
        self._restore_handlers()
        log.warning("signal %s: saved %s at step %d", signal.Signals(signum).name, self._path(trainer),
                    trainer.global_step)
        if callable(previous):
            previous(signum, None)  # e.g. submitit: requeue, then sys.exit
        raise JobInterrupted(signum)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._restore_handlers()
        from lightning.pytorch.utilities.exceptions import SIGTERMException

        if isinstance(exception, SIGTERMException) and trainer.global_step > 0:
            self._save(trainer)
            log.warning("SIGTERM: saved %s at step %d", self._path(trainer), trainer.global_step)

    def _save(self, trainer: L.Trainer) -> None:
        if self._saved_step != trainer.global_step:
            trainer.save_checkpoint(self._path(trainer))
            self._saved_step = trainer.global_step
