"""A job killed with SIGKILL after its first checkpoint resumes with the same command and ends where an
uninterrupted run ends: same steps, same best val/loss."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, TINY_OVERRIDES, kill_after_first_checkpoint

pytestmark = pytest.mark.slow


def job_cmd(run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "safetuned.train", *TINY_OVERRIDES, "eval=none", "num_threads=1",
            "data.safety_n=100", f"hydra.run.dir={run_dir}"]


def run(cmd: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800, check=False)


def test_sigkill_then_resume_matches_uninterrupted(tmp_path, cache_dir):
    env = {**os.environ, "SAFETUNED_CACHE": str(cache_dir), "PYTHONUNBUFFERED": "1"}
    straight = tmp_path / "straight"
    done = run(job_cmd(straight), env)  # also builds the cached base model (the LoRA init must not depend on it)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = json.loads((straight / "metrics.json").read_text())

    killed = tmp_path / "killed"
    kill_after_first_checkpoint(job_cmd(killed), killed / "checkpoints" / "last.ckpt", env)
    assert not (killed / "metrics.json").exists()
    assert json.loads((killed / "status.json").read_text())["status"] == "running"

    resumed = run(job_cmd(killed), env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Restoring states from the checkpoint" in resumed.stderr + resumed.stdout
    got = json.loads((killed / "metrics.json").read_text())
    assert got["train/steps"] == expected["train/steps"]
    assert got["train/tokens"] == expected["train/tokens"]
    # Same data order, dropout masks, optimizer and schedule state: the resumed run retraces the original exactly.
    assert got["val/loss"] == expected["val/loss"]
    assert got["train/loss"] == expected["train/loss"]
    assert json.loads((killed / "status.json").read_text())["status"] == "completed"

    again = run(job_cmd(killed), env)  # a finished job is skipped, its results untouched
    assert again.returncode == 0 and json.loads((killed / "metrics.json").read_text()) == got
