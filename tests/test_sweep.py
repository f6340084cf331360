"""Sweeps that survive: one folder per job, failures recorded and isolated, a non-zero exit after the report,
re-runs that skip finished jobs, one-line errors for bad input, and resumable interrupted jobs."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import typing
from pathlib import Path

import pytest
import torch
from hydra._internal.callbacks import Callbacks
from hydra.errors import InstantiationException
from omegaconf import OmegaConf

from safetuned.errors import ConfigError, DataError
from safetuned.pipeline.layout import job_status, summary_lines, sweep_states
from safetuned.pipeline.plan import batch_plan, world_size_of
from safetuned.runtime.ddp import reset_ddp_env, single_run_argv
from safetuned.runtime.hydra_callbacks import SweepExitCode
from safetuned.runtime.job import error_line, run_job
from tests.conftest import REPO, TINY_OVERRIDES, compose_cfg

# The tiny job, one torch thread, no lm-eval harness (its tasks are tested elsewhere).
BASE = [*TINY_OVERRIDES, "num_threads=1", "eval.harness=null"]


def train_cmd(*args: str, cwd: Path, cache: Path, timeout: float = 900, env: dict | None = None,
              module: str = "safetuned.train") -> subprocess.CompletedProcess:
    """`python -m safetuned.train ARGS` in its own process group (DDP ranks included), killed whole on timeout."""
    full_env = {**os.environ, "SAFETUNED_CACHE": str(cache), "OMP_NUM_THREADS": "1", "HYDRA_FULL_ERROR": "0",
                "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=cwd, env=full_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"timed out after {timeout}s: {' '.join(args)}\n{err[-3000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def job_dirs(sweep: Path) -> list[Path]:
    return sorted(p.parent.parent for p in sweep.glob("*/.hydra/overrides.yaml"))


def by_n(sweep: Path) -> dict[int, Path]:
    """Job folders keyed by their data.safety_n override."""
    found = {}
    for d in job_dirs(sweep):
        for o in OmegaConf.load(d / ".hydra" / "overrides.yaml"):
            if o.startswith("data.safety_n="):
                found[int(o.split("=", 1)[1])] = d
    return found


# ---------------------------------------------------------------- fast units


def test_error_line_is_first_line_and_unwraps_instantiate():
    assert error_line(ConfigError("data.x=3 is bad\nmore detail")) == "ConfigError: data.x=3 is bad"
    try:
        try:
            raise ValueError("Trainer was configured badly\nsecond line")
        except ValueError as inner:
            raise InstantiationException("Error in call to target 'lightning.Trainer':\nValueError(...)") from inner
    except InstantiationException as outer:
        assert error_line(outer) == "ValueError: Trainer was configured badly"
    assert error_line(RuntimeError("")) == "RuntimeError"


def test_single_run_argv_keeps_config_flags_drops_sweep():
    argv = ["/x/train.py", "-m", "--config-dir", "/c", "-cn=train", "data.safety_n=0,50", "hydra.sweep.dir=/s"]
    hydra = ["hydra.sweep.dir=/s", "hydra.mode=MULTIRUN", "hydra/launcher=slurm", "hydra.launcher.partition=gpu",
             "hydra.job.chdir=true", "+hydra.searchpath=[pkg://x]", "hydra.run.dir=/r"]
    task = ["experiment=smoke", "data.safety_n=50"]
    assert single_run_argv(argv, task, hydra) == [
        "/x/train.py", "--config-dir", "/c", "-cn=train", "hydra.job.chdir=true", "+hydra.searchpath=[pkg://x]",
        "experiment=smoke", "data.safety_n=50"]


@pytest.mark.parametrize("trainer, world", [
    ({"devices": 1}, 1),
    ({"devices": 2, "strategy": {"_target_": "lightning.pytorch.strategies.DDPStrategy"}}, 2),
    ({"devices": 2}, 2),  # Lightning picks DDP for several devices without a strategy
    ({"devices": "2"}, 2),
    ({"devices": "0,1,3"}, 3),
    ({"devices": [0, 1]}, 2),
    ({"devices": "auto", "accelerator": "cpu"}, 1),
    ({"devices": 4, "num_nodes": 2, "strategy": "ddp"}, 8),
    ({"devices": 4, "strategy": "single_device"}, 1),
])
def test_world_size_of(trainer, world):
    assert world_size_of(OmegaConf.create(trainer)) == world


def test_world_size_rejects_bad_devices():
    with pytest.raises(ConfigError, match="trainer.devices"):
        world_size_of(OmegaConf.create({"devices": "two"}))
    with pytest.raises(ConfigError, match="trainer.devices=0"):
        world_size_of(OmegaConf.create({"devices": 0}))


def test_batch_plan_keeps_effective_batch():
    data = OmegaConf.create({"batch_size": 32, "micro_batch_size": 16})
    assert batch_plan(data, 1) == 2 and batch_plan(data, 2) == 1
    with pytest.raises(ConfigError, match="not a multiple"):
        batch_plan(data, 4)


def test_reset_ddp_env_removes_what_a_previous_job_exported(monkeypatch):
    monkeypatch.setattr("safetuned.runtime.ddp._ENV_AT_START", {"LOCAL_RANK": None, "MASTER_PORT": "1234"})
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("MASTER_PORT", "5555")
    reset_ddp_env()
    assert "LOCAL_RANK" not in os.environ and os.environ["MASTER_PORT"] == "1234"


def _multirun_cfg(tmp_path, cache_dir):
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import read_write

    cfg = compose_cfg("train", BASE, tmp_path / "job", cache_dir)
    with read_write(cfg.hydra):
        cfg.hydra.mode = RunMode.MULTIRUN
    HydraConfig.instance().set_config(cfg)
    return cfg


def test_run_job_records_failure_atomically_and_goes_on_in_a_sweep(tmp_path, cache_dir):
    cfg = _multirun_cfg(tmp_path, cache_dir)

    def boom(cfg, job_dir):
        raise DataError("data.base.source=/nope.json: no such file\n(hint on a second line)")

    assert run_job(cfg, boom) is None  # the sweep goes on
    job = tmp_path / "job"
    status = job_status(job)
    assert status["status"] == "failed"
    assert status["error"] == "DataError: data.base.source=/nope.json: no such file"
    assert "Traceback" in (job / "error.log").read_text() and "boom" in (job / "error.log").read_text()
    assert not list(job.glob(".status.json.*"))  # no temp file left behind

    def crash(cfg, job_dir):
        raise RuntimeError("CUDA out of memory")

    assert run_job(cfg, crash) is None
    assert job_status(job)["error"] == "RuntimeError: CUDA out of memory"

    def ok(cfg, job_dir):
        (job_dir / "metrics.json").write_text(json.dumps({"val/loss": 1.5}))
        return {"val/loss": 1.5}

    assert run_job(cfg, ok) == {"val/loss": 1.5}
    assert job_status(job)["status"] == "completed" and not (job / "error.log").exists()
    called = []
    assert run_job(cfg, lambda c, d: called.append(1)) == {"val/loss": 1.5}  # completed: skipped
    assert not called


def test_run_job_single_run_exits_2_on_user_error_and_marks_interrupts(tmp_path, cache_dir, capsys):
    cfg = compose_cfg("train", BASE, tmp_path / "job", cache_dir)

    def bad(cfg, job_dir):
        raise ConfigError("data.safety_format='poems' is not one of instructions, questions, mixed")

    with pytest.raises(SystemExit) as exc:
        run_job(cfg, bad)
    assert exc.value.code == 2
    assert "error: data.safety_format='poems'" in capsys.readouterr().err

    from lightning.pytorch.utilities.exceptions import SIGTERMException

    def killed(cfg, job_dir):
        raise SIGTERMException()

    with pytest.raises(SystemExit) as exc:
        run_job(cfg, killed)
    assert exc.value.code == 143  # Lightning's SIGTERMException would exit 0
    status = job_status(tmp_path / "job")
    assert status["status"] == "interrupted" and status["error"].startswith("interrupted by SIGTERM")


class Recorder:
    """A Hydra callback that notes when on_multirun_end ran."""

    calls: typing.ClassVar[list[str]] = []

    def __init__(self, name: str) -> None:
        self.name = name

    def on_multirun_start(self, config, **kwargs) -> None:
        pass

    def on_multirun_end(self, config, **kwargs) -> None:
        Recorder.calls.append(self.name)


def _fake_job(sweep: Path, name: str, status: dict | None) -> None:
    d = sweep / name
    (d / ".hydra").mkdir(parents=True)
    (d / ".hydra" / "overrides.yaml").write_text(f"- data.safety_n={name}\n")
    if status is not None:
        (d / "status.json").write_text(json.dumps(status))


def test_sweep_exit_code_runs_after_the_report_in_hydras_real_callback_order(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    _fake_job(sweep, "0", {"status": "completed"})
    _fake_job(sweep, "50", {"status": "failed", "error": "ConfigError: data.safety_n=50 is too big\nline 2"})
    _fake_job(sweep, "100", {"status": "running", "started_at": "2024-01-01T00:00:00"})
    _fake_job(sweep, "200", None)
    shipped = OmegaConf.load(REPO / "conf" / "hydra" / "default.yaml").callbacks
    assert next(iter(shipped)) == "exit_code" and shipped.exit_code._target_ == "safetuned.runtime.hydra_callbacks.SweepExitCode"
    cfg = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}, "callbacks": {
        "exit_code": dict(shipped.exit_code),
        "report": {"_target_": "tests.test_sweep.Recorder", "name": "report"}}}})
    Recorder.calls = []
    callbacks = Callbacks(cfg)
    callbacks.on_multirun_start(config=cfg)
    with pytest.raises(SystemExit) as exc:
        callbacks.on_multirun_end(config=cfg)
    assert exc.value.code == 1
    assert Recorder.calls == ["report"]  # the report ran before the exit
    err = capsys.readouterr().err.splitlines()
    assert "FAILED 50: ConfigError: data.safety_n=50 is too big" in err
    assert any(line.startswith("UNFINISHED 100: status 'running' since 2024-01-01") for line in err)
    assert any(line.startswith("UNFINISHED 200: no status.json") for line in err)
    assert err[-1].startswith(f"sweep {sweep}: 1 completed, 1 failed, 2 unfinished; re-run")


def test_sweep_exit_code_is_silent_on_success(tmp_path):
    sweep = tmp_path / "sweep"
    _fake_job(sweep, "0", {"status": "completed"})
    cb = SweepExitCode()
    cfg = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}, "callbacks": {}}})
    cb.on_multirun_start(cfg)
    cb.on_multirun_end(cfg)  # no SystemExit
    states = sweep_states(sweep)
    assert [s.status for s in states] == ["completed"]
    assert summary_lines(sweep, states) == [f"sweep {sweep}: 1 completed, 0 failed, 0 unfinished"]


# ---------------------------------------------------------------- real sweeps (subprocess)


def test_two_job_sweep_one_folder_per_override(tmp_path, cache_dir):
    sweep = tmp_path / "sweep"
    r = train_cmd("-m", *BASE, "data.safety_n=0,50", f"hydra.sweep.dir={sweep}", cwd=tmp_path, cache=cache_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    jobs = by_n(sweep)
    assert sorted(jobs) == [0, 50] and len(job_dirs(sweep)) == 2
    for n, d in jobs.items():
        assert job_status(d)["status"] == "completed"
        assert (d / ".hydra" / "config.yaml").is_file() and (d / "adapter" / "adapter_config.json").is_file()
        metrics = json.loads((d / "metrics.json").read_text())
        assert metrics["train/steps"] > 0 and 0 <= metrics["eval/malicious/compliance_rate"] <= 1
        assert json.loads((d / "manifest.json").read_text())["counts"]["safety"] == n
    assert f"sweep {sweep}: 2 completed, 0 failed, 0 unfinished" in r.stderr
    assert not (tmp_path / "multirun").exists() and not (tmp_path / "outputs").exists()


@pytest.mark.slow
def test_failed_job_is_isolated_reported_and_rerun_alone(tmp_path, cache_dir):
    sweep = tmp_path / "sweep"
    args = ("-m", *BASE, "data.safety_n=0,50,999999", f"hydra.sweep.dir={sweep}")
    r = train_cmd(*args, cwd=tmp_path, cache=cache_dir)
    assert r.returncode == 1, r.stderr[-3000:]
    jobs = by_n(sweep)
    assert sorted(jobs) == [0, 50, 999999]
    for n in (0, 50):
        assert job_status(jobs[n])["status"] == "completed" and (jobs[n] / "metrics.json").is_file()
    failed = job_status(jobs[999999])
    assert failed["status"] == "failed"
    pool = re.fullmatch(r"ConfigError: data\.safety_n=999999 is larger than the instructions pool: allowed 0\.\.(\d+)",
                        failed["error"])
    assert pool and 2000 <= int(pool.group(1)) < 999999, failed["error"]
    assert (jobs[999999] / "error.log").is_file() and not (jobs[999999] / "metrics.json").exists()
    assert f"FAILED {jobs[999999].name}: ConfigError: data.safety_n=999999" in r.stderr
    assert "1 failed" in r.stderr.splitlines()[-1]

    with open(sweep / "report.csv", newline="") as f:
        rows = {row["data.safety_n"]: row for row in csv.DictReader(f)}
    assert rows["999999"]["status"] == "failed" and "data.safety_n=999999" in rows["999999"]["error"]
    assert rows["0"]["status"] == rows["50"]["status"] == "completed"

    mtimes = {n: (jobs[n] / "metrics.json").stat().st_mtime_ns for n in (0, 50)}
    first_try = failed["started_at"], (jobs[999999] / "error.log").stat().st_mtime_ns
    time.sleep(1.1)  # started_at has one-second resolution
    r2 = train_cmd(*args, cwd=tmp_path, cache=cache_dir)
    assert r2.returncode == 1
    log = r2.stdout + r2.stderr
    for n in (0, 50):
        assert f"{jobs[n]} already completed: skipped" in log
        assert (jobs[n] / "metrics.json").stat().st_mtime_ns == mtimes[n]
    assert f"{jobs[999999]} was failed: running it again" in log
    again = job_status(jobs[999999])
    assert again["status"] == "failed"
    assert (again["started_at"], (jobs[999999] / "error.log").stat().st_mtime_ns) != first_try
    assert len(job_dirs(sweep)) == 3


def test_bad_input_exits_nonzero_with_key_and_allowed_values(tmp_path, cache_dir):
    r = train_cmd(*BASE, "model=nope", f"hydra.run.dir={tmp_path / 'a'}", cwd=tmp_path, cache=cache_dir)
    assert r.returncode != 0
    assert "Could not find 'model/nope'" in r.stderr and "Available options in 'model'" in r.stderr
    assert "tiny" in r.stderr and "llama-2-7b" in r.stderr

    r = train_cmd(*BASE, "data.safety_format=poems", f"hydra.run.dir={tmp_path / 'b'}", cwd=tmp_path,
                  cache=cache_dir)
    assert r.returncode == 2
    assert "data.safety_format='poems': must be one of instructions, questions or mixed" in r.stderr
    assert "Traceback" not in r.stderr
    assert job_status(tmp_path / "b")["status"] == "failed"

    sweep = tmp_path / "sweep"
    r = train_cmd("-m", *BASE, "data.safety_format=poems", f"hydra.sweep.dir={sweep}", cwd=tmp_path,
                  cache=cache_dir)
    assert r.returncode == 1
    assert "data.safety_format='poems': must be one of instructions, questions or mixed" in r.stderr
    statuses = [json.loads(p.read_text())["status"] for p in tmp_path.rglob("status.json")]
    assert statuses and "completed" not in statuses
    assert not list(tmp_path.rglob("metrics.json"))


# ---------------------------------------------------------------- interrupted jobs resume


def _interrupt_and_resume(tmp_path: Path, cache_dir: Path, sig: signal.Signals) -> None:
    job = tmp_path / "job"
    args = [*BASE, "trainer.max_epochs=4", f"hydra.run.dir={job}"]  # callbacks/default has the PreemptionCheckpoint
    env = {**os.environ, "SAFETUNED_CACHE": str(cache_dir), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "safetuned.train", *args], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 600
        while not (job / "checkpoints" / "last.ckpt").exists():  # the first validation (step 10) has passed
            assert proc.poll() is None and time.time() < deadline, "the job ended before its first checkpoint"
            time.sleep(0.1)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + sig, out[-3000:]
    status = job_status(job)
    assert status["status"] == "interrupted"
    assert status["error"].startswith(f"interrupted by {sig.name}; re-running the same command resumes from")
    from safetuned.runtime.joblock import lock_is_held, read_holder

    assert lock_is_held(job) is False and read_holder(job) is None  # released cleanly
    assert [s.status for s in sweep_states(tmp_path)] == ["interrupted"]
    step = torch.load(job / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    assert 10 <= step < 92, step  # saved at the interruption, not the end (4 epochs x 23 steps)
    assert f"saved {job / 'checkpoints' / 'last.ckpt'} at step {step}" in out

    r = train_cmd(*args, cwd=tmp_path, cache=cache_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"Restored all states from the checkpoint at {job / 'checkpoints' / 'last.ckpt'}" in r.stdout + r.stderr
    assert job_status(job)["status"] == "completed"
    resumed = json.loads((job / "metrics.json").read_text())
    assert resumed["train/steps"] == 92

    straight = tmp_path / "straight"
    r = train_cmd(*args[:-1], f"hydra.run.dir={straight}", cwd=tmp_path, cache=cache_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    uninterrupted = json.loads((straight / "metrics.json").read_text())
    # exact mid-epoch resume: the same batches in the same order, so the same best validation loss
    assert resumed["val/loss"] == pytest.approx(uninterrupted["val/loss"], rel=1e-4)


@pytest.mark.slow
def test_sigterm_leaves_a_resumable_job(tmp_path, cache_dir):
    _interrupt_and_resume(tmp_path, cache_dir, signal.SIGTERM)


@pytest.mark.slow
def test_sigusr2_preemption_checkpoint_resumes(tmp_path, cache_dir):
    _interrupt_and_resume(tmp_path, cache_dir, signal.SIGUSR2)
