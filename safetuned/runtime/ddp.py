"""DDP ranks of a job: which process writes, the environment between a sweep's jobs, and what a rank re-runs.

Known trap: Lightning's DDP launcher starts ranks 1..n-1 by re-running `sys.argv`, so a Hydra `-m` sweep would
re-launch the whole sweep inside each rank (lightning-hydra-template #393, hydra #2070); `relaunch_as_single_run`
rewrites argv to this job alone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

# Variables Lightning's DDP launcher exports into the launching process. A sweep process launches one DDP job
# after another, and a second job that still sees LOCAL_RANK thinks an outside launcher made its processes and
# waits for ranks that never come. Values present at start-up (torchrun, SLURM) are the real ones and stay.
DDP_ENV = ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_ENV_AT_START = {k: os.environ.get(k) for k in DDP_ENV}


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


def reset_ddp_env() -> None:
    """Undo the DDP variables a previous job of this process exported (values from start-up are kept)."""
    for key, value in _ENV_AT_START.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def destroy_process_group() -> None:
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


def relaunch_as_single_run(job_dir: Path) -> None:
    """Make Lightning's DDP launcher re-run *this job*, not the whole sweep.

    Lightning starts ranks 1..n-1 by re-running sys.argv plus `hydra.run.dir=<HydraConfig run.dir>`. Inside a
    `-m` sweep that re-launches the sweep in every rank (lightning-hydra-template #393, hydra #2070). So argv
    becomes this job's own overrides (no -m; config flags and config-shaping Hydra overrides kept) and run.dir
    this job's folder: each rank joins the same job.
    """
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import read_write

    from safetuned.runtime.job import is_multirun

    if not HydraConfig.initialized():
        return
    hc = HydraConfig.get()
    with read_write(hc):
        hc.run.dir = str(job_dir)  # the resolved folder: `${now:...}` read again in a rank could differ
    if is_multirun():
        sys.argv = single_run_argv(sys.argv, list(hc.overrides.task), list(hc.overrides.hydra))
