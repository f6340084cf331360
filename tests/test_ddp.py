"""DDP on CPU (gloo, 2 processes): one training, one evaluation, the same effective batch as one process, and
`-m` sweeps whose ranks join their own job instead of re-launching the sweep."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from safetuned.pipeline.layout import job_status
from tests.test_sweep import BASE, by_n, job_dirs, train_cmd

DDP = ["trainer=ddp_cpu", "trainer.devices=2"]
BATCH = ["data.batch_size=32", "data.micro_batch_size=16"]  # accumulation 2 on one process, 1 on two


def read(job: Path) -> dict:
    return json.loads((job / "metrics.json").read_text())


def throughput(m: dict, epochs: int) -> float:
    """Tokens of the whole mixture per training second (train/tokens counts rank zero's share only)."""
    return m["data/train_tokens"] * epochs / m["time/train_s"]


@pytest.fixture(scope="module")
def single_job(tmp_path_factory, cache_dir) -> Path:
    tmp = tmp_path_factory.mktemp("single")
    r = train_cmd(*BASE, *BATCH, f"hydra.run.dir={tmp / 'job'}", cwd=tmp, cache=cache_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp / "job"


@pytest.mark.slow
def test_ddp_run_trains_and_evaluates_once_with_the_same_effective_batch(tmp_path, cache_dir, single_job, capsys):
    job = tmp_path / "job"
    r = train_cmd(*BASE, *DDP, *BATCH, f"hydra.run.dir={job}", cwd=tmp_path, cache=cache_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "All distributed processes registered. Starting with 2 processes" in r.stdout + r.stderr
    assert (job / "train_ddp_process_1.log").is_file()  # rank 1 ran in this job's folder
    assert job_status(job)["status"] == "completed"
    ddp, one = read(job), read(single_job)

    assert ddp["train/effective_batch"] == one["train/effective_batch"] == 32
    assert ddp["train/steps"] == one["train/steps"] > 0
    suites = sorted(k for k in one if k.startswith("eval/") and k.endswith("/n"))
    assert suites and all(ddp[k] == one[k] == 12 for k in suites if k != "eval/helpfulness/n"), suites
    for suite in ("malicious", "xstest_safe", "benign"):  # written once: one line per prompt, not one per rank
        assert len((job / "generations" / f"{suite}.jsonl").read_text().splitlines()) == 12
    # summed over ranks: the same data, split between them (a few early batches repeat so both take as many)
    assert 1.0 <= ddp["train/tokens"] / one["train/tokens"] < 1.1
    with open(job / "csv" / "metrics.csv", newline="") as f:
        logged = [row["eval/malicious/n"] for row in csv.DictReader(f) if row["eval/malicious/n"]]
    assert logged == ["12.0"]  # the evaluation was logged once

    epochs = 2  # experiment=smoke
    with capsys.disabled():
        print(f"\n[throughput] 1 process: {throughput(one, epochs):.0f} tokens/s "
              f"({one['time/train_s']:.1f} s, {one['train/steps']:.0f} steps, accumulation 2); "
              f"DDP 2 processes (gloo, CPU): {throughput(ddp, epochs):.0f} tokens/s "
              f"({ddp['time/train_s']:.1f} s, accumulation 1)")


@pytest.mark.slow
def test_ddp_sweep_has_one_folder_per_job_and_no_relaunched_sweeps(tmp_path, cache_dir):
    # a config only this folder has: a rank that lost --config-dir could not compose it and would fail the job
    conf = tmp_path / "conf" / "experiment"
    conf.mkdir(parents=True)
    (conf / "ddp_tiny.yaml").write_text("# @package _global_\ndefaults:\n  - smoke\ndata:\n  batch_size: 32\n")
    run_dir = tmp_path / "cwd"
    run_dir.mkdir()
    sweep = tmp_path / "sweep"
    r = train_cmd("-m", "--config-dir", str(tmp_path / "conf"), "experiment=ddp_tiny",
                  *[o for o in BASE if not o.startswith("experiment=")], *DDP, "data.safety_n=0,50",
                  f"hydra.sweep.dir={sweep}", cwd=run_dir, cache=cache_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    log = r.stdout + r.stderr
    assert log.count("Launching 2 jobs locally") == 1  # a rank that re-ran the sweep would launch it again
    jobs = by_n(sweep)
    assert sorted(jobs) == [0, 50] and len(job_dirs(sweep)) == 2
    assert not list(sweep.glob("*/*/.hydra")) and not list(sweep.rglob("multirun.yaml"))[1:]
    assert sorted(p.name for p in run_dir.iterdir()) == []  # no multirun/ or outputs/ from a rank
    for n, job in jobs.items():
        assert job_status(job)["status"] == "completed"
        assert (job / "train_ddp_process_1.log").is_file()
        m = read(job)
        assert m["train/effective_batch"] == 32 and m["eval/malicious/n"] == 12
        assert json.loads((job / "manifest.json").read_text())["counts"]["safety"] == n
    assert f"sweep {sweep}: 2 completed, 0 failed, 0 unfinished" in r.stderr
