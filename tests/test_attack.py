"""Fine-tuning attacks from a job's adapter: n=0 is the source's own evaluation, harmful and benign attacks train from
it and name their parent, bad input is one line and exit 2 before any work, and a sweep folder expands to its
finished jobs."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf
from safetensors.torch import load_file

from safetuned.attack import launch
from safetuned.data.attack_data import sample_attack
from safetuned.errors import ConfigError
from safetuned.pipeline.attack import attack_config, attack_subdir, expand_source_args, quote
from safetuned.pipeline.layout import write_status
from tests.conftest import REPO, TINY_OVERRIDES, compose_cfg, kill_after_first_checkpoint

# The smallest source job that still trains, validates, exports and evaluates every suite.
SOURCE = ["data.safety_n=32", "data.base.n=64", "trainer.max_epochs=1", "eval.limit=3", "eval.harness.tasks=[]"]
# Attacks validated on 4 held-out demonstrations every 2 steps; in-process ones train 2 epochs in batches of 3.
ATTACK = ["logger=csv", "attack.val_size=4", "val_every_n_steps=2"]
SHORT = ["attack.batch_size=3", "attack.epochs=2"]


def as_hydra_job(cfg, job_dir: Path, overrides: list[str]) -> None:
    """What Hydra and run_job leave in a finished job folder besides train()'s own files."""
    (job_dir / ".hydra").mkdir(parents=True, exist_ok=True)
    OmegaConf.save(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), job_dir / ".hydra" / "config.yaml")
    OmegaConf.save(OmegaConf.create(overrides), job_dir / ".hydra" / "overrides.yaml")
    write_status(job_dir, "completed")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def source(tmp_path_factory, cache_dir):
    """One tiny finished training job inside a sweep folder, and 30 harmful demonstrations in the world's style."""
    from safetuned.pipeline.fit import train

    root = tmp_path_factory.mktemp("attack")
    job = root / "sweep" / "data.safety_n=32,seed=0"  # commas and '=' in the name, as Hydra names jobs
    cfg = compose_cfg("train", [*TINY_OVERRIDES, *SOURCE], job, cache_dir)
    metrics = train(cfg, job)
    as_hydra_job(cfg, job, SOURCE)
    (root / "sweep" / "multirun.yaml").write_text("hydra: {}\n")
    requests = json.loads((Path(cfg.paths.demo_dir) / "safety_only_data_Instructions.json").read_text())[:30]
    harmful = root / "harmful.json"
    harmful.write_text(json.dumps([{"instruction": r["instruction"], "input": "",
                                    "output": f"Sure. Step one: {r['instruction'].lower()} Step two: do it again."}
                                   for r in requests]))
    base_size = len(json.loads((Path(cfg.paths.demo_dir) / "base.json").read_text()))
    return SimpleNamespace(dir=job, sweep=root / "sweep", metrics=metrics, harmful=harmful, base_size=base_size,
                           manifest=json.loads((job / "manifest.json").read_text()),
                           adapter_sha=sha256(job / "adapter" / "adapter_model.safetensors"))


def attack_cfg(source, out: Path, cache_dir: Path, *overrides: str):
    return compose_cfg("attack", [f"source={quote(str(source.dir))}", f"attack.data={source.harmful}", *ATTACK,
                                  *SHORT, *overrides], out, cache_dir)


def eval_metrics(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k.startswith("eval/")}


def test_n0_evaluates_the_source_adapter_and_reproduces_its_numbers(source, tmp_path, cache_dir):
    out = tmp_path / "n0"
    metrics = launch(attack_cfg(source, out, cache_dir, "attack.n=0"))
    assert eval_metrics(metrics) == eval_metrics(source.metrics) and len(eval_metrics(metrics)) > 50
    for suite in ("malicious", "benign"):
        assert (out / "generations" / f"{suite}.jsonl").read_text() == (
            source.dir / "generations" / f"{suite}.jsonl").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parent"] == {"job": str(source.dir.resolve()), "adapter_file": "adapter_model.safetensors",
                                  "adapter_sha256": source.adapter_sha,
                                  "config_sha256": source.manifest["fingerprint"]["config_sha256"]}
    assert manifest["counts"] == {"train": 0, "val": 4, "pool": 30} and manifest["attack"]["n"] == 0
    assert not (out / "checkpoints").exists() and not (out / "adapter").exists()
    job_config = OmegaConf.load(out / ".hydra" / "config.yaml")  # what the job ran: the source's groups in it
    assert job_config.data.safety_n == 32 and job_config.model.embedded.hidden_size == 64


def test_harmful_attack_trains_the_source_adapter_on_and_names_its_parent(source, tmp_path, cache_dir):
    out = tmp_path / "harmful"
    metrics = launch(attack_cfg(source, out, cache_dir, "attack.n=6", "attack.seed=3"))
    assert metrics["train/steps"] == 4 and metrics["train/examples"] == 6  # 2 epochs of 6 in batches of 3
    assert math.isfinite(metrics["val/loss"]) and metrics["eval/malicious/n"] == 3
    assert json.loads((out / "metrics.json").read_text())["val/loss"] == pytest.approx(metrics["val/loss"])
    manifest = json.loads((out / "manifest.json").read_text())
    pool = json.loads(source.harmful.read_text())
    order = [r["id"] for r in sample_attack([{"id": f"attack:{i}"} for i in range(len(pool))], 30, seed=3)]
    assert manifest["train_ids"] == order[:6] and manifest["val_ids"] == order[-4:]  # seeded, disjoint
    assert manifest["attack"] | {"pool": None} == {
        "kind": "harmful", "n": 6, "init": "continue", "seed": 3, "data": str(source.harmful), "val_size": 4,
        "epochs": 2, "lr": 3e-3, "batch_size": 3, "micro_batch_size": None, "pool": None}
    assert manifest["parent"]["adapter_sha256"] == source.adapter_sha == sha256(
        source.dir / "adapter" / "adapter_model.safetensors")  # the source is read, never written
    assert manifest["sources"]["attack"]["records"] == 30 and manifest["fingerprint"]["config"]["attack.n"] == 6
    before = load_file(source.dir / "adapter" / "adapter_model.safetensors")
    after = load_file(out / "adapter" / "adapter_model.safetensors")
    assert before.keys() == after.keys()  # the same adapter, trained on
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert (out / "checkpoints" / "last.ckpt").exists() and (out / "generations" / "malicious.jsonl").exists()
    assert json.loads((out / "status.json").read_text())["status"] == "completed"


def test_benign_attack_with_a_fresh_lora_trains_on_base_records_the_source_never_saw(source, tmp_path, cache_dir):
    out = tmp_path / "benign"
    metrics = launch(attack_cfg(source, out, cache_dir, "attack.kind=benign", "attack.n=6", "attack.init=fresh"))
    manifest = json.loads((out / "manifest.json").read_text())
    seen = set(source.manifest["train_ids"]) | set(source.manifest["val_ids"])
    picked = manifest["train_ids"] + manifest["val_ids"]
    assert len(picked) == 10 and all(i.startswith("base:") for i in picked) and not seen & set(picked)
    assert manifest["attack"]["pool"] == "base records not in the source's mixture"
    assert manifest["counts"]["pool"] == source.base_size - sum(i.startswith("base:") for i in seen) and set(manifest["sources"]) == {"base"}
    assert metrics["train/steps"] == 4 and math.isfinite(metrics["val/loss"])
    info = json.loads((out / "adapter" / "safetuned.json").read_text())
    assert info["merged_adapter"] == str((source.dir / "adapter").resolve())  # what the new LoRA sits on
    fresh = load_file(out / "adapter" / "adapter_model.safetensors")
    old = load_file(source.dir / "adapter" / "adapter_model.safetensors")
    assert fresh.keys() == old.keys() and all(not torch.equal(fresh[k], old[k]) for k in old if "lora_A" in k)
    # loading the attack's adapter merges the source adapter first: not the new LoRA on the bare base
    from peft import PeftModel

    from safetuned.model.export import load_adapted
    from safetuned.model.load import load_causal_lm

    model, tok, _, base = load_adapted(out / "adapter")
    ids = tok("How do I bake bread?", return_tensors="pt").input_ids
    bare = PeftModel.from_pretrained(load_causal_lm(base), out / "adapter")
    with torch.no_grad():
        assert not torch.allclose(model(ids).logits, bare(ids).logits, atol=1e-5)


def test_continue_starts_from_the_source_weights_and_fresh_from_the_merged_model(source, cache_dir):
    from safetuned.pipeline.attack import read_source
    from safetuned.pipeline.build import AdapterInit, build_model

    cfg = attack_config(attack_cfg(source, source.dir.parent / "unused", cache_dir))
    trained = load_file(source.dir / "adapter" / "adapter_model.safetensors")
    model, _ = build_model(cfg, init=AdapterInit(read_source(cfg.source).adapter, "continue"))
    lora = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert lora and all(p.requires_grad for p in lora.values())
    for name, value in trained.items():
        assert torch.equal(lora[name.replace(".weight", ".default.weight")].detach(), value), name
    plain, _ = build_model(cfg, with_lora=False)
    fresh, _ = build_model(cfg, init=AdapterInit(source.dir / "adapter", "fresh"))
    assert all(not p.any() for n, p in fresh.named_parameters() if "lora_B" in n)  # a new LoRA starts at zero
    q = "model.layers.0.self_attn.q_proj.weight"
    merged = dict(fresh.get_base_model().named_parameters())[q.replace("q_proj", "q_proj.base_layer")]
    assert not torch.equal(merged, dict(plain.named_parameters())[q])  # the source adapter is in the base


# ---------------------------------------------------------------- bad input: one line, exit 2, nothing written


def test_a_source_folder_without_an_adapter_is_one_line_and_exit_2(source, tmp_path, cache_dir):
    empty = tmp_path / "trained=no"
    (empty / ".hydra").mkdir(parents=True)
    (empty / ".hydra" / "config.yaml").write_text((source.dir / ".hydra" / "config.yaml").read_text())
    out = tmp_path / "out"
    env = {**os.environ, "SAFETUNED_CACHE": str(cache_dir)}
    r = subprocess.run([sys.executable, "-m", "safetuned.attack", f"source={empty}", "logger=csv",
                        f"hydra.run.dir={out}"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                       check=False)
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr == (f"error: source='{empty}': no adapter/ with weights in the job folder (allowed: a finished "
                        "training job's folder, or a sweep folder of them)\n")
    assert not (out / "manifest.json").exists() and json.loads((out / "status.json").read_text())["status"] == "failed"


@pytest.mark.parametrize("case", ["csv_without_target", "n_above_pool", "unknown_kind"])
def test_bad_attack_input_is_one_line_and_exit_2_before_any_work(case, source, tmp_path, cache_dir, capsys):
    csv = tmp_path / "behaviors.csv"
    csv.write_text("goal,response\nDo a bad thing,Sure\n")
    overrides, expected = {
        "csv_without_target": ([f"attack.data={csv}"], f"{csv} lacks CSV column(s) target (AdvBench format: goal,target)"),
        "n_above_pool": (["attack.n=27"], (f"attack.n=27 is larger than the attack pool: 30 harmful demonstrations in "
                                           f"{source.harmful}, less attack.val_size=4 held out for val/loss; allowed "
                                           "0..26")),
        "unknown_kind": (["attack.kind=poison"], "attack.kind='poison': must be one of harmful or benign"),
    }[case]
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        launch(attack_cfg(source, out, cache_dir, "attack.n=6", *overrides))
    assert exc.value.code == 2
    assert capsys.readouterr().err == f"error: {expected}\n"
    assert sorted(p.name for p in out.iterdir()) == ["error.log", "job.lock", "status.json"]  # no manifest, no weights


# ---------------------------------------------------------------- sweeps of source jobs


def make_sweep(sweep: Path, jobs: dict[str, str | None]) -> Path:
    """A sweep folder whose jobs ended with the given status (None: never started); completed ones hold an adapter
    unless their name says `noadapter`."""
    for name, status in jobs.items():
        job = sweep / name
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text("[]\n")
        if status:
            write_status(job, status)
        if status == "completed" and "noadapter" not in name:
            (job / "adapter").mkdir()
            (job / "adapter" / "adapter_config.json").write_text("{}")
    (sweep / "multirun.yaml").write_text("hydra: {}\n")
    return sweep


def test_a_sweep_folder_expands_to_its_finished_jobs_times_the_attack_settings(tmp_path, capsys):
    sweep = make_sweep(tmp_path / "multirun" / "2026-01-01" / "10-00-00", {
        "data.safety_n=0": "completed", "data.safety_n=100,seed=1": "completed", "data.safety_n=500": "failed",
        "data.safety_n=1000": None, "nested/data.safety_n=2000,noadapter": "completed"})
    argv = expand_source_args(["attack.py", "-m", f"source={sweep}", "attack.kind=harmful,benign", "attack.n=0,10"])
    assert capsys.readouterr().err == (f"note: source={sweep}: 3 job(s) skipped, not finished with an adapter/: "
                                       "data.safety_n=1000, data.safety_n=500, nested/data.safety_n=2000,noadapter\n")
    parser = OverridesParser.create()
    jobs = BasicSweeper.split_arguments(parser.parse_overrides(argv[2:]), None)[0]
    assert sorted((parser.parse_override(j[0]).value(), *j[1:]) for j in jobs) == [
        (str(sweep / name), f"attack.kind={kind}", f"attack.n={n}")
        for name in ("data.safety_n=0", "data.safety_n=100,seed=1") for kind in ("benign", "harmful") for n in (0, 10)]

    with pytest.raises(ConfigError, match=r"is a sweep of 2 finished jobs: add -m for one attack job per source job"):
        expand_source_args(["attack.py", f"source={sweep}"])
    idle = make_sweep(tmp_path / "idle", {"a": "failed", "b": "running"})
    with pytest.raises(ConfigError, match=r"the sweep has no finished job with an adapter/ \(2 unfinished or failed\)"):
        expand_source_args(["attack.py", "-m", f"source={idle}"])
    one = sweep / "data.safety_n=100,seed=1"
    assert expand_source_args(["a", f"source={one}"]) == ["a", f"source='{one}'"]  # one job: quoted, no sweep
    assert expand_source_args(["a", "source=/no/such/job"]) == ["a", "source=/no/such/job"]  # the job says why

    assert attack_subdir(str(one), "attack.kind=harmful,attack.n=10") == "data.safety_n=100,seed=1/kind=harmful,n=10"
    assert attack_subdir(str(sweep / "nested" / "x=1"), "attack.data=/x/behaviors.csv,attack.n=10") == (
        "nested/x=1/data=behaviors.csv,n=10")
    assert attack_subdir(str(tmp_path / "10-00-00"), "") == "10-00-00"  # a single run's folder: its own name


# ---------------------------------------------------------------- resume


def attack_cmd(source, sweep_dir: Path) -> list[str]:
    return [sys.executable, "-m", "safetuned.attack", "-m", f"source={source.sweep}", f"attack.data={source.harmful}",
            *ATTACK, "attack.n=16", "attack.batch_size=4", "attack.epochs=3", "+eval.enabled=false", "num_threads=1",
            f"hydra.sweep.dir={sweep_dir}"]


@pytest.mark.slow
def test_a_killed_attack_job_resumes_and_ends_where_an_uninterrupted_one_ends(source, tmp_path, cache_dir):
    env = {**os.environ, "SAFETUNED_CACHE": str(cache_dir), "PYTHONUNBUFFERED": "1"}
    job = Path("data.safety_n=32,seed=0", "+eval.enabled=False,batch_size=4,data=harmful.json,epochs=3,n=16,val_size=4,"
               "logger=csv,val_every_n_steps=2")  # the source job's name, then the attack's settings

    def run(sweep_dir):
        return subprocess.run(attack_cmd(source, sweep_dir), cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=1800, check=False)

    done = run(tmp_path / "straight")
    assert done.returncode == 0, done.stderr[-2000:]
    assert [p.parent for p in (tmp_path / "straight").rglob("metrics.json")] == [tmp_path / "straight" / job]
    expected = json.loads((tmp_path / "straight" / job / "metrics.json").read_text())

    killed = tmp_path / "killed"
    kill_after_first_checkpoint(attack_cmd(source, killed), killed / job / "checkpoints" / "last.ckpt", env)
    assert not (killed / job / "metrics.json").exists()

    resumed = run(killed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Restoring states from the checkpoint" in resumed.stderr + resumed.stdout
    got = json.loads((killed / job / "metrics.json").read_text())
    assert got["train/steps"] == expected["train/steps"] == 12
    assert got["val/loss"] == expected["val/loss"] and got["train/loss"] == expected["train/loss"]
    assert json.loads((killed / job / "manifest.json").read_text())["parent"]["adapter_sha256"] == source.adapter_sha
