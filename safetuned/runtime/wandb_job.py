"""W&B files stay with the job, and a resumed job continues its own W&B run.

W&B writes its run folder where it is told (`logger.wandb.save_dir`, the job folder) but keeps staging files,
service logs and artifact caches under the home folder (`~/.local/share/wandb`, `~/.cache/wandb`). `use_job_dirs`
points those at `<job>/wandb/` (or `$WANDB_DIR/wandb/` when set), leaving any W&B variable a user set untouched.
The run id lives in `<job>/wandb_run.json`; a job that resumes from a checkpoint passes it back with
`resume="allow"`, so `wandb sync` (or the online run) continues one run instead of opening a second.
"""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

from safetuned.utils.io import read_json, write_json_atomic

RUN_FILE = "wandb_run.json"
# Variable -> subfolder of <root>/wandb. WANDB_CONFIG_DIR is left alone: it holds the user's settings (host, entity).
DIRS = {"WANDB_CACHE_DIR": "cache", "WANDB_DATA_DIR": "data", "WANDB_ARTIFACT_DIR": "artifacts"}
_AT_START = {k: os.environ.get(k) for k in (*DIRS, "WANDB_DIR")}


def use_job_dirs(folder: str | Path) -> Path:
    """Point W&B's cache, staging and artifact folders into `folder/wandb` (or `$WANDB_DIR/wandb`) for this job."""
    root = Path(_AT_START["WANDB_DIR"] or folder) / "wandb"
    for var, sub in DIRS.items():
        if not _AT_START[var]:
            os.environ[var] = str(root / sub)
    return root


def run_id(job_dir: str | Path, resuming: bool) -> str:
    """The job's W&B run id: the stored one when the job resumes from a checkpoint, else a new one (stored)."""
    path = Path(job_dir) / RUN_FILE
    if resuming:
        try:
            stored = read_json(path).get("id")
        except (OSError, ValueError, AttributeError):
            stored = None
        if isinstance(stored, str) and stored:
            return stored
    new = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    write_json_atomic(path, {"id": new})
    return new


def close(teardown: bool = True) -> None:
    """Finish any W&B run of this process; `teardown` also stops W&B's service, whose logs follow the next job."""
    import sys

    if "wandb" not in sys.modules:
        return
    import wandb

    if wandb.run is not None:
        wandb.finish()
    if teardown:
        wandb.teardown()
