"""Checkpoints that survive faults: atomic writes, verification before resume, a save on preemption signals.

A checkpoint is written to a temp file in its own folder and renamed over the old one, so a kill or a full disk
mid-write leaves the previous `last.ckpt` whole. Before a job resumes, the checkpoint is loaded and checked
(a training checkpoint holding this config's adapter) before any model is built; a corrupt one is moved to
`<name>.corrupt` and the job resumes from the newest valid checkpoint, or starts afresh when none is left.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import pickle
import signal
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from omegaconf import DictConfig

from safetuned.errors import CheckpointError, ConfigError

log = logging.getLogger(__name__)

CORRUPT_SUFFIX = ".corrupt"
_REQUIRED = ("state_dict", "global_step", "loops", "optimizer_states")


def write_checkpoint(obj: Any, path: str | Path) -> None:
    """torch.save `obj` to `path` atomically; a failed write raises CheckpointError and leaves the old file."""
    path = Path(path)
    folder = path.parent
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(buffer.getbuffer())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        kept = f"; the previous {path.name} is kept" if path.exists() else ""
        reason = "no space left on the device" if e.errno in (errno.ENOSPC, errno.EDQUOT) else (e.strerror or str(e))
        raise CheckpointError(f"cannot write checkpoint {path.name} in {folder}: {reason}{kept}") from e
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint IO with writes that are atomic on a local disk (Lightning's own goes through a
    temp file in /tmp and a copy, which a kill or a full disk can cut short)."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        write_checkpoint(checkpoint, path)
        return None


def read_checkpoint(path: str | Path) -> tuple[dict | None, str | None]:
    """(checkpoint, None) when `path` loads as a training checkpoint, else (None, why not)."""
    try:
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:  # the job's own file: objects beyond tensors are trusted
            ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - truncated zips, bad pickles, I/O errors: all mean "unusable"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return None, f"unreadable ({type(e).__name__}: {first[:120]})"
    if not isinstance(ckpt, dict):
        return None, "not a training checkpoint"
    lacking = [k for k in _REQUIRED if k not in ckpt]
    if lacking:
        return None, f"not a training checkpoint (it lacks {', '.join(lacking)})"
    state = ckpt["state_dict"]
    if not state or any("lora_" not in k for k in state):
        return None, "holds no adapter weights" if not state else "holds weights that are not LoRA adapters"
    return ckpt, None


def adapter_mismatch(ckpt: dict, lora: DictConfig | dict | None) -> str | None:
    """Why the checkpoint's adapter does not fit `lora` (other modules or rank), or None when it fits."""
    if not lora:
        return None
    modules, ranks = set(), set()
    for key, value in ckpt["state_dict"].items():
        head = key.split(".lora_", 1)[0]
        modules.add(head.rsplit(".", 1)[-1])
        if ".lora_A." in key and getattr(value, "ndim", 0) == 2:
            ranks.add(int(value.shape[0]))
    targets = lora.get("target_modules")
    wanted = None if targets is None or isinstance(targets, str) else {str(t) for t in targets}
    r = lora.get("r")
    if wanted is not None and not modules <= wanted:
        return f"holds adapters on {sorted(modules)}, the config targets {sorted(wanted)}"
    if r is not None and ranks and ranks != {int(r)}:
        return f"holds adapters of rank {sorted(ranks)}, the config asks for lora.r={r}"
    return None


@dataclass(frozen=True)
class Resume:
    """The checkpoint a job continues from (None: from scratch) and the line that says so."""

    path: str | None
    note: str


def _remove_partial_writes(folder: Path) -> None:
    for tmp in folder.glob(".*.ckpt.*.tmp"):
        log.warning("removing %s, a checkpoint write that never finished", tmp)
        tmp.unlink(missing_ok=True)


def choose_resume(cfg: DictConfig, job_dir: Path, owner: bool = True) -> Resume:
    """The checkpoint to continue from, verified: resume=auto (newest valid in the job), never, or a path.

    Only the `owner` (rank zero) moves corrupt files aside; other ranks see the folder it left.
    """
    resume = str(cfg.get("resume", "auto"))
    lora = cfg.get("lora")
    if resume == "never":
        return Resume(None, "resume=never: training starts afresh")
    if resume != "auto":
        path = Path(resume).expanduser()
        if not path.is_file():
            raise ConfigError(f"resume={resume!r}: no such checkpoint file (allowed: auto, never or a .ckpt path)")
        ckpt, problem = read_checkpoint(path)
        problem = problem or adapter_mismatch(ckpt, lora)
        if problem:
            raise ConfigError(f"resume={resume!r}: the checkpoint {problem}; give another one or resume=never")
        return Resume(str(path), f"resuming from {path} (step {ckpt['global_step']})")
    folder = job_dir / "checkpoints"
    if not folder.is_dir():
        return Resume(None, "no checkpoint yet: training starts afresh")
    if owner:
        _remove_partial_writes(folder)
    candidates = sorted(folder.glob("*.ckpt"), key=lambda p: (p.name != "last.ckpt", -p.stat().st_mtime))
    corrupt = 0
    for path in candidates:
        ckpt, problem = read_checkpoint(path)
        if problem is None:
            mismatch = adapter_mismatch(ckpt, lora)
            if mismatch:
                raise ConfigError(f"{path} {mismatch}: it was trained under another config; resume=never starts "
                                  "afresh, or give this job its own folder")
            if corrupt:
                return Resume(str(path), f"resuming from {path} (step {ckpt['global_step']}), the newest valid "
                                         "checkpoint")
            return Resume(str(path), f"resuming from {path} (step {ckpt['global_step']})")
        corrupt += 1
        if owner:
            aside = path.with_name(path.name + CORRUPT_SUFFIX)
            os.replace(path, aside)
            log.warning("%s is corrupt, %s: moved to %s", path, problem, aside.name)
    if corrupt:
        return Resume(None, f"no valid checkpoint in {folder} ({corrupt} corrupt, moved aside): training starts "
                            "afresh")
    return Resume(None, "no checkpoint yet: training starts afresh")


# ---------------------------------------------------------------- resumable interrupts


class JobInterrupted(SystemExit):
    """Training stopped on a signal after saving `last.ckpt`; the exit code is 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signame = signal.Signals(signum).name


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
