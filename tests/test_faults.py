"""Fault injection: a disk that fills, a kill mid-write, a truncated checkpoint, two runs of one job, a config
edited between runs, W&B files and runs on resume. Each ends in a documented state with nothing lost."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from safetuned.errors import CheckpointError, ConfigError, JobLockedError
from safetuned.pipeline.layout import job_status, summary_lines, sweep_states
from safetuned.runtime import wandb_job
from safetuned.runtime.checkpointing import (
    AtomicCheckpointIO,
    Resume,
    choose_resume,
    read_checkpoint,
    write_checkpoint,
)
from safetuned.runtime.ddp import is_rank_zero
from safetuned.runtime.job import keep_run_config, run_job
from safetuned.runtime.joblock import JobLock, lock_is_held, read_holder
from tests.conftest import REPO, TINY_OVERRIDES, compose_cfg
from tests.test_sweep import train_cmd

LORA = OmegaConf.create({"r": 16, "target_modules": ["q_proj", "v_proj"]})


def fake_ckpt(path: Path, step: int, r: int = 16, modules=("q_proj", "v_proj")) -> Path:
    """A training checkpoint as the job writes it: adapter weights only, loop and optimizer state."""
    state = {}
    for m in modules:
        state[f"model.base_model.model.model.layers.0.self_attn.{m}.lora_A.default.weight"] = torch.randn(r, 8)
        state[f"model.base_model.model.model.layers.0.self_attn.{m}.lora_B.default.weight"] = torch.zeros(8, r)
    write_checkpoint({"state_dict": state, "global_step": step, "loops": {}, "optimizer_states": [{}]}, path)
    return path


# ---------------------------------------------------------------- checkpoint writes


def test_disk_full_while_saving_keeps_the_previous_checkpoint_and_names_the_folder(tmp_path, monkeypatch):
    last = fake_ckpt(tmp_path / "checkpoints" / "last.ckpt", step=10)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("safetuned.runtime.checkpointing.os.fsync", full)
    with pytest.raises(CheckpointError) as exc:
        AtomicCheckpointIO().save_checkpoint({"state_dict": {}, "global_step": 20}, last)
    assert str(exc.value) == (f"cannot write checkpoint last.ckpt in {last.parent}: no space left on the device; "
                              "the previous last.ckpt is kept")
    assert exc.value.exit_code == 1
    assert read_checkpoint(last)[0]["global_step"] == 10
    assert sorted(p.name for p in last.parent.iterdir()) == ["last.ckpt"]  # no half-written temp file left


def test_an_interrupted_write_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    last = fake_ckpt(tmp_path / "last.ckpt", step=10)

    def killed(src, dst):
        raise KeyboardInterrupt  # stopped after the temp file was written, before the rename

    monkeypatch.setattr("safetuned.runtime.checkpointing.os.replace", killed)
    with pytest.raises(KeyboardInterrupt):
        fake_ckpt(last, step=20)
    assert read_checkpoint(last)[0]["global_step"] == 10 and [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


# ---------------------------------------------------------------- verification before resume


def _job_cfg(resume: str = "auto") -> OmegaConf:
    return OmegaConf.create({"resume": resume, "lora": LORA})


def test_truncated_last_ckpt_is_moved_aside_and_the_newest_valid_one_resumes(tmp_path, caplog):
    folder = tmp_path / "checkpoints"
    fake_ckpt(folder / "best-step00010.ckpt", step=10)
    last = fake_ckpt(folder / "last.ckpt", step=30)
    last.write_bytes(last.read_bytes()[:300])  # a kill or a full disk cut it short (written without the temp)
    (folder / ".last.ckpt.abc.tmp").write_bytes(b"partial")  # a write that never finished
    choice = choose_resume(_job_cfg(), tmp_path)
    assert choice == Resume(str(folder / "best-step00010.ckpt"),
                            f"resuming from {folder / 'best-step00010.ckpt'} (step 10), the newest valid checkpoint")
    assert sorted(p.name for p in folder.iterdir()) == ["best-step00010.ckpt", "last.ckpt.corrupt"]
    warning = [r.getMessage() for r in caplog.records if "corrupt" in r.getMessage()]
    assert warning and warning[0].startswith(f"{last} is corrupt, unreadable (") and warning[0].endswith(
        "moved to last.ckpt.corrupt")

    (folder / "best-step00010.ckpt").write_bytes(b"not a zip")
    assert choose_resume(_job_cfg(), tmp_path) == Resume(
        None, f"no valid checkpoint in {folder} (1 corrupt, moved aside): training starts afresh")


def test_only_rank_zero_moves_files(tmp_path):
    last = fake_ckpt(tmp_path / "checkpoints" / "last.ckpt", step=5)
    last.write_bytes(b"junk")
    assert choose_resume(_job_cfg(), tmp_path, owner=False).path is None
    assert last.exists()


def test_an_explicit_resume_path_is_verified_and_must_fit_the_config(tmp_path):
    good = fake_ckpt(tmp_path / "a.ckpt", step=7)
    assert choose_resume(_job_cfg(str(good)), tmp_path / "job") == Resume(str(good), f"resuming from {good} (step 7)")
    bad = tmp_path / "b.ckpt"
    bad.write_bytes(good.read_bytes()[:100])
    with pytest.raises(ConfigError, match=r"^resume='.*b.ckpt': the checkpoint unreadable \(.*; give another one"):
        choose_resume(_job_cfg(str(bad)), tmp_path / "job")
    other = fake_ckpt(tmp_path / "c.ckpt", step=7, r=8)
    with pytest.raises(ConfigError, match=r"holds adapters of rank \[8\], the config asks for lora.r=16"):
        choose_resume(_job_cfg(str(other)), tmp_path / "job")
    not_adapter = tmp_path / "d.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "global_step": 1, "loops": {}, "optimizer_states": []},
               not_adapter)
    assert read_checkpoint(not_adapter) == (None, "holds weights that are not LoRA adapters")
    assert bad.exists()  # a user's own file is never moved


# ---------------------------------------------------------------- one writer per job


HOLDER = ("import sys, time; from safetuned.runtime.joblock import JobLock; JobLock(sys.argv[1]).acquire(); "
          "print('held', flush=True); time.sleep(120)")


def _hydra_files(job: Path) -> None:
    """What Hydra writes into a job folder before the job runs (sweep status finds jobs by it)."""
    (job / ".hydra").mkdir(parents=True, exist_ok=True)
    (job / ".hydra" / "overrides.yaml").write_text("[]\n")


def _hold(job: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(job)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_lock_names_its_live_holder_and_a_dead_one_is_taken_over(tmp_path, caplog):
    job = tmp_path / "job"
    first = JobLock(job).acquire()
    with pytest.raises(JobLockedError) as exc:
        JobLock(job, tries=1).acquire()
    holder = read_holder(job)
    assert holder.pid == os.getpid() and str(exc.value).startswith(f"job {job} is already being run by {holder};")
    assert exc.value.exit_code == 3 and lock_is_held(job) is True
    first.release()
    assert read_holder(job) is None and lock_is_held(job) is False  # a clean release leaves no name

    proc = _hold(job)
    assert lock_is_held(job) is True and read_holder(job).pid == proc.pid
    proc.kill()
    proc.wait()
    assert lock_is_held(job) is False  # the kernel dropped the lock with the process
    again = JobLock(job).acquire()
    assert again.taken_over.pid == proc.pid
    assert f"took over the lock left by pid {proc.pid}" in caplog.text
    again.release()


def test_second_run_of_a_live_job_exits_3_and_touches_nothing(tmp_path, cache_dir, capsys):
    job = tmp_path / "job"
    cfg = compose_cfg("train", TINY_OVERRIDES, job, cache_dir)
    proc = _hold(job)
    _hydra_files(job)
    try:
        (job / "status.json").write_text(json.dumps({"status": "running", "pid": proc.pid, "host": "x"}))
        before = (job / "status.json").read_text()
        with pytest.raises(SystemExit) as exc:
            run_job(cfg, lambda c, d: pytest.fail("a second run must not start"))
        assert exc.value.code == 3
        err = capsys.readouterr().err
        assert err.startswith(f"error: job {job} is already being run by pid {proc.pid} on ") and err.count("\n") == 1
        assert (job / "status.json").read_text() == before
        (state,) = sweep_states(tmp_path)
        assert state.status == "running" and state.detail.startswith(f"running in pid {proc.pid} on x since")

        r = train_cmd(*TINY_OVERRIDES, f"hydra.run.dir={job}", cwd=tmp_path, cache=cache_dir)  # the real CLI
        assert r.returncode == 3 and r.stderr.startswith(f"error: job {job} is already being run by pid {proc.pid}")
        assert len(r.stderr.splitlines()) == 1 and (job / "status.json").read_text() == before
    finally:
        proc.kill()
        proc.wait()
    (state,) = sweep_states(tmp_path)
    assert state.status == "interrupted" and state.detail.startswith(f"its process (pid {proc.pid} on x) is gone")


# ---------------------------------------------------------------- stale results


def _fake_train(cfg, job_dir):
    """What train() records: the manifest with the config's fingerprint, the .hydra copy, metrics."""
    from safetuned.runtime.fingerprint import fingerprint

    (job_dir / "manifest.json").write_text(json.dumps({"fingerprint": fingerprint(cfg)}))
    keep_run_config(job_dir)
    (job_dir / "metrics.json").write_text(json.dumps({"val/loss": 1.0}))
    _fake_train.calls += 1
    return {"val/loss": 1.0}


def test_a_config_edited_between_runs_is_neither_skipped_nor_resumed(tmp_path, cache_dir, capsys):
    job = tmp_path / "job"
    base = tmp_path / "base.json"
    base.write_text(json.dumps([{"instruction": "a", "input": "", "output": "b"}]))
    common = [*TINY_OVERRIDES, f"data.base.source={base}"]
    _hydra_files(job)
    (job / ".hydra" / "config.yaml").write_text("run: first\n")
    _fake_train.calls = 0
    assert run_job(compose_cfg("train", common, job, cache_dir), _fake_train) == {"val/loss": 1.0}
    assert job_status(job)["status"] == "completed" and _fake_train.calls == 1

    # what Hydra does at the start of every run: the new config overwrites .hydra/config.yaml
    (job / ".hydra" / "config.yaml").write_text("run: second\n")
    edited = compose_cfg("train", [*common, "data.safety_n=5", "optim.optimizer.lr=0.001"], job, cache_dir)
    with pytest.raises(SystemExit) as exc:
        run_job(edited, _fake_train)
    assert exc.value.code == 2 and _fake_train.calls == 1
    err = capsys.readouterr().err
    assert err == (f"error: job {job} was completed under another config (data.safety_n: 0 -> 5, "
                   "optim.optimizer.lr: 0.003 -> 0.001): not skipped, not resumed; resume=never re-runs it afresh "
                   "here, a new hydra.sweep.dir (or hydra.run.dir) keeps both\n")
    status = job_status(job)
    assert status["status"] == "completed" and status["refused"] == err.removeprefix("error: ").strip()
    assert (job / ".hydra" / "config.yaml").read_text() == "run: first\n"  # the config the results came from
    (state,) = sweep_states(tmp_path)
    assert state.status == "stale" and state.detail.startswith(f"job {job} was completed under another config")
    assert summary_lines(tmp_path, [state])[-1] == (
        f"sweep {tmp_path}: 0 completed, 0 failed, 0 unfinished, 1 stale (results of another config; resume=never "
        "re-runs them)")

    # keys that change no result (logger, threads, devices, paths) are no change: skipped as before
    same = compose_cfg("train", [*common, "num_threads=1", "logger=none", "trainer.devices=1"], job, cache_dir)
    assert run_job(same, _fake_train) == {"val/loss": 1.0} and _fake_train.calls == 1
    assert "refused" not in job_status(job) and sweep_states(tmp_path)[0].status == "completed"

    base.write_text(json.dumps([{"instruction": "a", "input": "", "output": "c"}]))  # the data file edited
    with pytest.raises(SystemExit):
        run_job(compose_cfg("train", common, job, cache_dir), _fake_train)
    assert "(data.base.source: file content changed)" in capsys.readouterr().err

    never = compose_cfg("train", [*common, "resume=never"], job, cache_dir)
    assert run_job(never, _fake_train) == {"val/loss": 1.0} and _fake_train.calls == 2  # the user's choice


def test_a_checkpoint_of_another_config_is_not_resumed(tmp_path, cache_dir, capsys):
    job = tmp_path / "job"
    job.mkdir()
    cfg = compose_cfg("train", TINY_OVERRIDES, job, cache_dir)
    _fake_train(cfg, job)
    (job / "metrics.json").unlink()
    fake_ckpt(job / "checkpoints" / "last.ckpt", step=3)
    (job / "status.json").write_text(json.dumps({"status": "interrupted", "error": "interrupted by SIGTERM"}))
    with pytest.raises(SystemExit) as exc:
        run_job(compose_cfg("train", [*TINY_OVERRIDES, "lora.r=8"], job, cache_dir), _fake_train)
    assert exc.value.code == 2
    assert f"job {job} was checkpointed under another config (lora.r: 16 -> 8)" in capsys.readouterr().err
    assert job_status(job)["status"] == "interrupted"


# ---------------------------------------------------------------- W&B


def test_wandb_files_stay_in_the_job_and_a_resumed_job_continues_its_run(tmp_path, cache_dir, monkeypatch):
    from safetuned.pipeline.build import make_loggers

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WANDB_MODE", "offline")
    job = tmp_path / "job"
    cfg = compose_cfg("train", ["experiment=smoke", "logger=wandb"], job, cache_dir)
    ids = []
    for resuming in (False, True, False):
        wandb_job.use_job_dirs(job)
        (logger,) = make_loggers(cfg, job, resuming=resuming)
        logger.log_metrics({"x": 1.0}, step=0)
        ids.append(logger.experiment.id)
        wandb_job.close()
    assert ids[0] == ids[1] != ids[2]  # resumed: the same run; afresh: a new one
    assert json.loads((job / "wandb_run.json").read_text()) == {"id": ids[2]}
    # offline-run-<date>_<time>-<id>, with "-1" appended by W&B when a run folder of that second already exists
    runs = sorted(p.name.split("-")[3] for p in (job / "wandb").glob("offline-run-*"))
    assert runs == sorted(ids)
    assert not [p for p in home.rglob("*") if "wandb" in str(p)], list(home.rglob("*"))
    assert any((job / "wandb" / "cache").rglob("*.log"))  # W&B's service logs, which went to ~/.cache/wandb


# ---------------------------------------------------------------- a real job through the faults


FAST = [*TINY_OVERRIDES, "eval=none", "data.base.n=96", "trainer.max_epochs=1", "val_every_n_steps=2",
        "callbacks.model_checkpoint.save_top_k=-1"]  # 6 steps, a checkpoint (and last.ckpt) at steps 2, 4, 6


def test_disk_full_mid_training_then_a_corrupt_last_ckpt_and_the_job_still_ends_right(tmp_path, cache_dir,
                                                                                      monkeypatch, capsys):
    from safetuned.runtime import checkpointing

    straight = tmp_path / "straight"
    assert run_job(compose_cfg("train", FAST, straight, cache_dir), _train_module().train)["train/steps"] == 6
    expected = json.loads((straight / "metrics.json").read_text())

    job = tmp_path / "job"
    real, real_fsync = checkpointing.write_checkpoint, os.fsync
    writes = []

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    def fills_up(obj, path):
        writes.append(Path(path).name)
        if writes.count("last.ckpt") == 2:  # the second last.ckpt: the disk is full
            monkeypatch.setattr(os, "fsync", full)
        try:
            real(obj, path)
        finally:
            monkeypatch.setattr(os, "fsync", real_fsync)

    monkeypatch.setattr(checkpointing, "write_checkpoint", fills_up)
    with pytest.raises(SystemExit) as exc:
        run_job(compose_cfg("train", FAST, job, cache_dir), _train_module().train)
    assert exc.value.code == 1
    line = (f"cannot write checkpoint last.ckpt in {job / 'checkpoints'}: no space left on the device; the previous "
            "last.ckpt is kept")
    err = capsys.readouterr().err  # progress bars, then the one error line
    assert err.endswith(f"\nerror: {line}\n") and err.count("error: ") == 1
    assert job_status(job)["status"] == "failed" and job_status(job)["error"] == f"CheckpointError: {line}"
    assert read_checkpoint(job / "checkpoints" / "last.ckpt")[0]["global_step"] == 2
    monkeypatch.setattr(checkpointing, "write_checkpoint", real)

    last = job / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:1000])  # and then a truncated last.ckpt (an older tool, a bad copy)
    resumed = run_job(compose_cfg("train", FAST, job, cache_dir), _train_module().train)
    assert (job / "checkpoints" / "last.ckpt.corrupt").exists()
    assert job_status(job)["status"] == "completed"
    assert resumed["train/steps"] == expected["train/steps"] == 6
    assert resumed["val/loss"] == pytest.approx(expected["val/loss"], rel=1e-5)  # nothing lost


def _train_module():
    import safetuned.train

    return safetuned.train


# ---------------------------------------------------------------- ranks


@pytest.mark.parametrize(("env", "zero"), [
    ({}, True), ({"LOCAL_RANK": "1"}, False), ({"LOCAL_RANK": "0", "NODE_RANK": "1"}, False),
    ({"RANK": "0", "LOCAL_RANK": "0"}, True), ({"RANK": "3", "LOCAL_RANK": "0"}, False),
    ({"SLURM_NTASKS": "4", "SLURM_PROCID": "2"}, False), ({"SLURM_NTASKS": "1", "SLURM_PROCID": "0"}, True),
    ({"GROUP_RANK": "1"}, False),
])
def test_one_rank_zero_check_for_every_launcher(env, zero, monkeypatch):
    for var in ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "SLURM_NTASKS", "SLURM_PROCID"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert is_rank_zero() is zero


def test_train_has_no_rank_check_of_its_own():
    source = (REPO / "safetuned" / "pipeline" / "fit.py").read_text()
    assert "LOCAL_RANK" not in source and "is_rank_zero()" in source


# ---------------------------------------------------------------- SIGKILL in the middle of a checkpoint write


KILLER = """
import io, os, signal, sys, tempfile
from pathlib import Path
import torch
import safetuned.runtime.checkpointing as c
real, seen = c.write_checkpoint, []
def dying(obj, path):
    if Path(path).name == "last.ckpt":
        seen.append(path)
        if len(seen) == 2:  # half of the second last.ckpt is on disk when the node dies
            buf = io.BytesIO(); torch.save(obj, buf)
            fd, _ = tempfile.mkstemp(dir=Path(path).parent, prefix=".last.ckpt.", suffix=".tmp")
            os.write(fd, buf.getvalue()[: len(buf.getvalue()) // 2]); os.fsync(fd)
            os.kill(os.getpid(), signal.SIGKILL)
    real(obj, path)
c.write_checkpoint = dying
from safetuned.train import main
main()
"""


@pytest.mark.slow
def test_sigkill_during_a_checkpoint_write_resumes_from_the_previous_one(tmp_path, cache_dir):
    job, straight = tmp_path / "job", tmp_path / "straight"
    env = {**os.environ, "SAFETUNED_CACHE": str(cache_dir), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    args = [*FAST, "num_threads=1"]
    killed = subprocess.run([sys.executable, "-c", KILLER, *args, f"hydra.run.dir={job}"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=900, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert job_status(job)["status"] == "running" and read_holder(job) is not None
    assert sweep_states(tmp_path)[0].status == "interrupted"  # its holder is gone
    assert len(list((job / "checkpoints").glob(".last.ckpt.*.tmp"))) == 1
    assert read_checkpoint(job / "checkpoints" / "last.ckpt")[0]["global_step"] == 2

    r = train_cmd(*args, f"hydra.run.dir={job}", cwd=tmp_path, cache=cache_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    log = r.stdout + r.stderr
    assert "took over the lock left by pid" in log and "a checkpoint write that never finished" in log
    assert f"resuming from {job / 'checkpoints' / 'last.ckpt'} (step 2)" in log
    assert not list((job / "checkpoints").glob("*.tmp")) and read_holder(job) is None
    r = train_cmd(*args, f"hydra.run.dir={straight}", cwd=tmp_path, cache=cache_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    got, want = (json.loads((d / "metrics.json").read_text()) for d in (job, straight))
    assert got["train/steps"] == want["train/steps"] == 6
    assert got["val/loss"] == pytest.approx(want["val/loss"], rel=1e-5)


def test_nothing_runs_after_the_lock_is_refused_even_with_resume_never(tmp_path, cache_dir):
    job = tmp_path / "job"
    cfg = compose_cfg("train", [*TINY_OVERRIDES, "resume=never"], job, cache_dir)
    held = JobLock(job).acquire()
    try:
        with pytest.raises(SystemExit) as exc:
            run_job(cfg, lambda c, d: pytest.fail("ran"))
        assert exc.value.code == 3 and not (job / "status.json").exists()
    finally:
        held.release()
    # the lock is free again: the same run now goes through
    assert run_job(cfg, lambda c, d: {"ok": 1.0}) == {"ok": 1.0} and job_status(job)["status"] == "completed"
