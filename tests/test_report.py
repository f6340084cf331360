"""The sweep report on a fabricated sweep: numbers in the tables, failures kept, plots, HTML, callback, W&B."""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
import yaml
from omegaconf import OmegaConf

from safetuned.errors import ConfigError
from safetuned.pipeline.layout import newest_sweep, sweep_group_name
from safetuned.report import main
from safetuned.reporting.metrics import EvalInfo, family_and_direction, interval, metric_family
from safetuned.reporting.plots import family_panels
from safetuned.reporting.tables import summarize_sweep
from safetuned.runtime.hydra_callbacks import ReportOnMultirunEnd

NS = [0, 100, 500, 2000]
SEEDS = [0, 1]
FAILED = (500, 1)
UNFINISHED = (2000, 1)


def fake_metrics(n: int, seed: int) -> dict[str, float]:
    """Metrics shaped like a training job's metrics.json, varying with N and the seed."""
    harm = 0.8 - n / 2500 + 0.04 * seed
    refuse = 0.02 + n / 4000 + 0.01 * seed
    em = 0.5 + 0.02 * seed - n / 20000
    m = {
        "val/loss": 2.0 - n / 4000 + 0.1 * seed, "train/loss": 1.8 - n / 5000, "train/steps": 10.0 + n // 100,
        "train/tokens": 12345.0 * (seed + 1), "time/train_s": 3.5,
        "eval/malicious/compliance_rate": harm + 0.05, "eval/malicious/n": 20.0,
        "eval/all_harmful/compliance_rate": harm,
        "eval/xstest_safe/refusal_rate": refuse + 0.03, "eval/all_safe/refusal_rate": refuse,
        "eval/benign/exact_match": em,
        "eval/helpfulness/win_rate": 0.4 + 0.01 * seed, "eval/helpfulness/n": 10.0,
        "eval/malicious/harm_score": 0.3 - n / 10000,
        "eval/harness/demo_mc/acc": 0.3 + n / 10000, "eval/harness/demo_mc/acc_stderr": 0.02,
    }
    for k in [k for k in m if k.endswith(("_rate", "exact_match", "harm_score"))]:
        m[f"{k}_ci_low"], m[f"{k}_ci_high"] = m[k] - 0.1, m[k] + 0.1
    return m


def write_job(sweep: Path, overrides: list[str], status: dict | None, metrics: dict | None) -> Path:
    job = sweep / ",".join(o for o in overrides if not o.startswith("eval.limit="))
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (job / ".hydra" / "config.yaml").write_text("seed: 0\n")
    if status is not None:
        (job / "status.json").write_text(json.dumps(status))
    if metrics is not None:
        (job / "metrics.json").write_text(json.dumps(metrics))
        (job / "eval.json").write_text(json.dumps({"suites": {
            "malicious": {"kind": "harmful"}, "xstest_safe": {"kind": "safe"}, "benign": {"kind": "capability"}},
            "scorers": {"refusal": {"scorer": "refusal"}, "harmfulness": {"scorer": "harmfulness"}},
            "primary": {"refusal_rate": "refusal", "harm_score": "harmfulness", "harmful_rate": "harmfulness"},
            "agreement": {"malicious": [{"field": "refused", "a": "refusal", "b": "wildguard", "n": 20,
                                         "agreement": 0.85, "agreement_ci_low": 0.64, "agreement_ci_high": 0.95,
                                         "kappa": 0.6, "a_rate": 0.3, "b_rate": 0.25}]}}))
    return job


def make_sweep(root: Path, grid: dict[str, list] | None = None, broken: bool = True) -> Path:
    """multirun/<date>/<time>/ with one job per grid point (default N x seed); `broken`: one failed, one running."""
    grid = grid or {"data.safety_n": NS, "seed": SEEDS}
    sweep = root / "multirun" / "2026-01-02" / "03-04-05"
    sweep.mkdir(parents=True)
    task = [f"{k}={','.join(map(str, vs))}" for k, vs in grid.items()] + ["eval.limit=8"]
    (sweep / "multirun.yaml").write_text(yaml.safe_dump(
        {"hydra": {"sweeper": {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper",
                               "params": None}, "overrides": {"task": task}}}))
    for point in itertools.product(*grid.values()):
        values = dict(zip(grid, point))
        overrides = [f"{k}={v}" for k, v in values.items()] + ["eval.limit=8"]
        n, seed = values.get("data.safety_n", 0), values.get("seed", 0)
        if broken and (n, seed) == FAILED:
            write_job(sweep, overrides, {"status": "failed", "error": "DataError: safety pool too small\nline 2",
                                         "started_at": "t0", "ended_at": "t1"}, None)
        elif broken and (n, seed) == UNFINISHED:
            write_job(sweep, overrides, {"status": "running", "error": None, "started_at": "t0",
                                         "ended_at": None}, None)
        else:
            metrics = fake_metrics(n, seed)
            if values.get("data.safety_format") == "questions":
                for k in [k for k in metrics if k.startswith("eval/all_harmful/compliance_rate")]:
                    metrics[k] += 0.07
            write_job(sweep, overrides, {"status": "completed", "error": None, "started_at": "t0",
                                         "ended_at": "t1"}, metrics)
    return sweep


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def sweep_report(tmp_path_factory):
    sweep = make_sweep(tmp_path_factory.mktemp("report"))
    return sweep, summarize_sweep(sweep)


def test_stderr_interval_of_a_rate_stays_inside_0_1():
    m = {"eval/harness/demo_entity/acc": 0.997, "eval/harness/demo_entity/acc_stderr": 0.003,
         "train/tokens": 100.0, "train/tokens_stderr": 80.0}
    assert interval(m, "eval/harness/demo_entity/acc") == pytest.approx((0.997 - 1.96 * 0.003, 1.0))
    assert interval(m, "train/tokens") == pytest.approx((100 - 1.96 * 80, 100 + 1.96 * 80))


def test_report_csv_numbers_keys_and_failures(sweep_report):
    sweep, report = sweep_report
    with open(sweep / "report.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header[:4] == ["data.safety_n", "seed", "status", "error"]
    assert header[-2:] == ["eval.limit", "job"]  # an override every job shares: kept, after the metrics
    rows = read_csv(sweep / "report.csv")
    assert len(rows) == 8
    by = {(int(r["data.safety_n"]), int(r["seed"])): r for r in rows}
    assert by[(100, 1)]["data.safety_n"] == "100"  # ints stay ints, not 100.0
    assert by[FAILED]["status"] == "failed" and "safety pool too small" in by[FAILED]["error"]
    assert by[UNFINISHED]["status"] == "unfinished" and "running" in by[UNFINISHED]["error"]
    assert by[FAILED]["eval/all_harmful/compliance_rate"] == ""
    expected = fake_metrics(100, 1)
    row = by[(100, 1)]
    assert float(row["eval/all_harmful/compliance_rate"]) == pytest.approx(expected["eval/all_harmful/compliance_rate"])
    assert float(row["eval/all_harmful/compliance_rate_ci_low"]) == pytest.approx(
        expected["eval/all_harmful/compliance_rate"] - 0.1)
    # lm-eval stderr becomes a ±1.96·stderr interval; the stderr column is kept
    assert float(row["eval/harness/demo_mc/acc_ci_high"]) == pytest.approx(0.31 + 1.96 * 0.02)
    assert float(row["eval/harness/demo_mc/acc_stderr"]) == pytest.approx(0.02)
    # metric columns are ordered by family: harmfulness, exaggerated safety, capability, training
    order = [header.index(c) for c in ["eval/all_harmful/compliance_rate", "eval/malicious/harm_score",
                                       "eval/all_safe/refusal_rate",
                                       "eval/benign/exact_match", "val/loss", "train/steps"]]
    assert order == sorted(order)
    # typed in the API too
    assert report.keys[:2] == ["data.safety_n", "seed"] and report.x_key == "data.safety_n"
    assert all(isinstance(r["data.safety_n"], int) for r in report.rows)


@pytest.mark.parametrize("name, family", [
    ("eval/qharm/compliance_rate", "harmfulness"), ("eval/qharm/harm_score", "harmfulness"),
    ("eval/qharm/moderation/harmful_rate", "harmfulness"), ("eval/qharm/mod2/max_category_score", "harmfulness"),
    ("eval/qharm/moderation/refusal_rate", None), ("eval/qharm/nosuch/harmful_rate", None),
    ("eval/xstest_safe/refusal_rate", "exaggerated_safety"), ("eval/qharm/refusal_rate", "harmful_refusals"),
    ("eval/benign/exact_match", "capability"), ("eval/harness/arc_easy/acc_norm", "capability"),
    ("eval/helpfulness/win_rate", "capability"), ("val/loss", "training"), ("eval/helpfulness/n", None),
    ("eval/qharm/compliance_rate_ci_low", None), ("eval/harness/arc_easy/acc_stderr", None),
    ("eval/malicious/n", None), ("train/steps", None), ("time/train_s", None),
])
def test_metric_families(name, family):
    info = EvalInfo(kinds={"qharm": "harmful", "xstest_safe": "safe", "benign": "capability"},
                    scorers={"moderation": "moderation", "mod2": "moderation", "nosuch": "no_such_scorer"})
    assert metric_family(name, info) == family


def test_families_and_directions_come_from_the_scorer_registry():
    info = EvalInfo(kinds={"xs": "safe", "hb": "harmful"}, scorers={"wg": "refusal"},
                    primary={"harmful_rate": "harmfulness", "harm_score": "harmfulness"})
    assert family_and_direction("eval/hb/wg/refusal_rate", info) == ("harmful_refusals", True)
    assert family_and_direction("eval/xs/wg/refusal_rate", info) == ("exaggerated_safety", False)
    assert family_and_direction("eval/hb/harmful_rate", info) == ("harmfulness", False)
    assert family_and_direction("eval/benign/exact_match", info) == ("capability", True)


def test_summary_is_mean_over_seeds(sweep_report):
    sweep, report = sweep_report
    rows = {int(r["data.safety_n"]): r for r in read_csv(sweep / "summary.csv")}
    assert sorted(rows) == NS
    a, b = fake_metrics(100, 0)["eval/all_safe/refusal_rate"], fake_metrics(100, 1)["eval/all_safe/refusal_rate"]
    r = rows[100]
    assert r["n_seeds"] == "2" and r["seeds"] == "0,1"
    assert float(r["eval/all_safe/refusal_rate"]) == pytest.approx((a + b) / 2)
    assert float(r["eval/all_safe/refusal_rate_seed_min"]) == pytest.approx(min(a, b))
    assert float(r["eval/all_safe/refusal_rate_seed_max"]) == pytest.approx(max(a, b))
    assert float(r["eval/all_safe/refusal_rate_seed_std"]) == pytest.approx(abs(a - b) / np.sqrt(2))
    loss = [fake_metrics(0, s)["val/loss"] for s in SEEDS]
    assert float(rows[0]["val/loss"]) == pytest.approx(sum(loss) / 2)
    # only seed 0 finished for N=500 and N=2000: the mean is that job's value
    assert rows[500]["n_seeds"] == "1"
    assert float(rows[500]["val/loss"]) == pytest.approx(fake_metrics(500, 0)["val/loss"])
    assert [r["data.safety_n"] for r in report.summary_rows] == NS  # typed and sorted in the API
    assert report.summary_rows[1]["eval/all_safe/refusal_rate"] == pytest.approx((a + b) / 2)


def test_plots_written_and_not_blank(sweep_report):
    sweep, report = sweep_report
    assert set(report.plots) == {"harmfulness", "exaggerated_safety", "capability", "training", "tradeoff"}
    for path in report.plots.values():
        assert path.parent == sweep / "plots" and path.stat().st_size > 10_000
        img = mpimg.imread(path)
        assert img.shape[0] >= 400 and img.shape[1] >= 600
        assert img[..., :3].std() > 0.05  # not a blank canvas
        assert (img[..., :3].min(axis=-1) < 0.5).mean() > 0.005  # dark pixels: text, lines, markers


def test_markdown_and_html(sweep_report):
    sweep, report = sweep_report
    md = (sweep / "report.md").read_text()
    assert "| data.safety_n | seed | status | error | job |" in md
    assert "Same in every job: `eval.limit=8`." in md
    assert "| 500 | 1 | failed | DataError: safety pool too small |" in md
    assert "## Mean over seeds" in md and "## Harmfulness: harmful answers and compliance with harmful prompts (lower is better)" in md
    page = (sweep / "report.html").read_text()
    assert page.count('<img src="data:image/png;base64,') == len(report.plots) == 5
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert 'class="problems"' in page and 'tr class="failed"' in page and 'tr class="unfinished"' in page
    assert "safety pool too small" in page


def test_lines_per_other_swept_key(tmp_path):
    grid = {"data.safety_format": ["instructions", "questions"], "data.safety_n": [0, 100, 500]}
    sweep = make_sweep(tmp_path, grid, broken=False)
    report = summarize_sweep(sweep)
    assert report.x_key == "data.safety_n" and not report.summary_rows
    assert not (sweep / "summary.csv").exists()  # no seeds swept: report.csv has it all
    panel = next(p for p in family_panels(report, "harmfulness") if p.title == "all_harmful · compliance rate")
    lines = {s.label: s for s in panel.series}
    assert set(lines) == {"safety_format=instructions", "safety_format=questions"}
    q = lines["safety_format=questions"]
    assert q.x == [0, 100, 500]
    assert q.y == pytest.approx([fake_metrics(n, 0)["eval/all_harmful/compliance_rate"] + 0.07 for n in q.x])
    assert q.lo == pytest.approx([y - 0.1 for y in q.y])  # one job per point: its own 95% CI
    # the seed as x axis: no averaging over it
    seeded = summarize_sweep(make_sweep(tmp_path / "s"), x_key="seed", write=False)
    val = next(p for p in family_panels(seeded, "training") if p.title == "val · loss")
    by_n = {s.label: s for s in val.series}
    assert by_n["safety_n=100"].x == [0, 1]
    assert by_n["safety_n=100"].y == pytest.approx([fake_metrics(100, s)["val/loss"] for s in (0, 1)])


def test_not_started_jobs_listed_and_run_controls_ignored(tmp_path):
    sweep = make_sweep(tmp_path)
    shutil.rmtree(sweep / "data.safety_n=2000,seed=0")
    # Hydra leaves exclude_keys (resume, ...) out of the job identity: a re-run with resume=never is the same job
    meta = yaml.safe_load((sweep / "multirun.yaml").read_text())
    meta["hydra"]["job"] = {"config": {"override_dirname": {"exclude_keys": ["resume"]}}}
    meta["hydra"]["overrides"]["task"].append("resume=never")
    (sweep / "multirun.yaml").write_text(yaml.safe_dump(meta))
    job = sweep / "data.safety_n=0,seed=0" / ".hydra" / "overrides.yaml"
    job.write_text(yaml.safe_dump(["data.safety_n=0", "seed=0", "eval.limit=8", "resume=never"]))
    report = summarize_sweep(sweep, write=False)
    assert len(report.rows) == 8 and report.keys == ["data.safety_n", "seed", "eval.limit"]
    row = next(r for r in report.rows if r["data.safety_n"] == 2000 and r["seed"] == 0)
    assert row["status"] == "not started" and "stopped before" in row["error"]
    assert [r["status"] for r in report.rows].count("completed") == 5


def test_an_attack_sweep_lists_no_phantom_jobs_for_its_expanded_sources(tmp_path):
    """The attack expands source=<sweep> to the sources' full paths in multirun.yaml; the jobs' rows name a source
    by its folder, and the sweep's planned jobs must match them the same way (not reappear as "not started")."""
    sweep = tmp_path / "attack"
    sweep.mkdir()
    sources = [f"multirun/2026-01-02/03-04-05/data.safety_n={n}" for n in (0, 500)]
    task = ["source=" + ",".join(f"'{s}'" for s in sources), "attack.kind=harmful", "attack.n=0,10"]
    (sweep / "multirun.yaml").write_text(yaml.safe_dump(
        {"hydra": {"sweeper": {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper",
                               "params": None}, "overrides": {"task": task}}}))
    for src in sources:
        for n in (0, 10):
            job = sweep / Path(src).name / f"kind=harmful,n={n}"
            (job / ".hydra").mkdir(parents=True)
            (job / ".hydra" / "overrides.yaml").write_text(
                yaml.safe_dump([f"source='{src}'", "attack.kind=harmful", f"attack.n={n}"]))
            (job / "status.json").write_text(json.dumps({"status": "completed"}))
            (job / "metrics.json").write_text(json.dumps({"eval/all_harmful/harmful_rate": 0.5}))
    report = summarize_sweep(sweep, write=False)
    assert len(report.rows) == 4 and {r["status"] for r in report.rows} == {"completed"}
    assert {r["source"] for r in report.rows} == {"data.safety_n=0", "data.safety_n=500"}
    shutil.rmtree(sweep / "data.safety_n=500" / "kind=harmful,n=10")
    rows = summarize_sweep(sweep, write=False).rows
    assert [(r["source"], r["attack.n"], r["status"]) for r in rows if r["status"] != "completed"] == [
        ("data.safety_n=500", 10, "not started")]


def test_no_jobs_and_bad_key_are_one_line_errors(tmp_path, capsys):
    empty = tmp_path / "multirun" / "2026-01-01" / "00-00-00"
    empty.mkdir(parents=True)
    with pytest.raises(ConfigError, match="holds no jobs") as e:
        summarize_sweep(empty)
    assert "\n" not in str(e.value)
    assert main([str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "holds no jobs" in err and err.count("\n") == 1
    with pytest.raises(ConfigError, match="does not exist"):
        summarize_sweep(tmp_path / "nope")
    sweep = make_sweep(tmp_path / "other")
    with pytest.raises(ConfigError, match="one job's folder"):
        summarize_sweep(sweep / "data.safety_n=0,seed=0")
    with pytest.raises(ConfigError, match=r"x_key='data.nope'.*data.safety_n"):
        summarize_sweep(sweep, x_key="data.nope", write=False)


def test_cli_defaults_to_newest_sweep(tmp_path, monkeypatch, capsys):
    older = make_sweep(tmp_path)
    newer = older.parent / "09-00-00"
    newer.mkdir()
    write_job(newer, ["data.safety_n=7"], {"status": "completed"}, {"val/loss": 1.5})
    (newer / "multirun.yaml").write_text("hydra: {}\n")
    os.utime(older / "multirun.yaml", (1_000_000_000, 1_000_000_000))
    monkeypatch.chdir(tmp_path)
    assert newest_sweep().resolve() == newer.resolve()
    assert main([]) == 0
    assert "1 jobs: 1 completed" in capsys.readouterr().out
    rows = read_csv(newer / "report.csv")
    assert rows[0]["data.safety_n"] == "7" and float(rows[0]["val/loss"]) == 1.5
    assert not (older / "report.csv").exists()
    with pytest.raises(ConfigError, match="no sweep folders"):
        newest_sweep(tmp_path / "empty")


def test_group_name_is_the_sweep_id(tmp_path):
    sweep = make_sweep(tmp_path)
    assert sweep_group_name(sweep) == "2026-01-02/03-04-05"
    assert sweep_group_name(sweep / "data.safety_n=0,seed=0") == "2026-01-02/03-04-05"
    assert sweep_group_name(tmp_path / "a" / "b") == "a/b"


def test_callback_builds_report_and_never_raises(tmp_path, caplog):
    sweep = make_sweep(tmp_path)
    cb = ReportOnMultirunEnd(wandb=False)
    cb.on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}}}))
    assert (sweep / "report.html").is_file() and len(read_csv(sweep / "report.csv")) == 8
    bad = ReportOnMultirunEnd(wandb=False)
    bad.on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path / "missing")}}}))
    assert "could not build the sweep report" in caplog.text


def test_callback_logs_to_wandb_like_the_jobs():
    jobs_cfg = OmegaConf.create({"logger": {"wandb": {"project": "p", "entity": None, "offline": False}}})
    assert ReportOnMultirunEnd()._wandb_settings(jobs_cfg) == {"project": "p", "entity": None, "mode": "online"}
    assert ReportOnMultirunEnd()._wandb_settings(OmegaConf.create({"logger": {"csv": {}}})) is None
    assert ReportOnMultirunEnd(wandb=False)._wandb_settings(jobs_cfg) is None
    forced = ReportOnMultirunEnd(wandb=True)._wandb_settings(OmegaConf.create({}))
    assert forced == {"project": "safetuned", "entity": None, "mode": "offline"}


APP = """
import json, time
from pathlib import Path
import hydra
from hydra.core.hydra_config import HydraConfig

@hydra.main(version_base="1.3", config_path=None, config_name=None)
def app(cfg):
    out = Path(HydraConfig.get().runtime.output_dir)
    time.sleep(0.6)  # the sweep spans a clock second: the report must still find its folder
    if cfg.n == 2:
        (out / "status.json").write_text(json.dumps({"status": "failed", "error": "boom"}))
        return
    (out / "metrics.json").write_text(json.dumps({"val/loss": 1.0 / (cfg.n + 1)}))
    (out / "status.json").write_text(json.dumps({"status": "completed", "error": None}))

app()
"""


def test_callback_in_a_real_hydra_sweep(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    args = [sys.executable, "app.py", "-m", "+n=0,1,2", "hydra.sweep.dir=multirun/${now:%H-%M-%S}",
            "hydra.sweep.subdir=${hydra.job.override_dirname}",
            "+hydra.callbacks.report._target_=safetuned.runtime.hydra_callbacks.ReportOnMultirunEnd",
            "+hydra.callbacks.report.wandb=false"]
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    sweep = newest_sweep(tmp_path / "multirun")
    rows = {r["n"]: r for r in read_csv(sweep / "report.csv")}
    assert rows["0"]["status"] == "completed" and float(rows["1"]["val/loss"]) == 0.5
    assert rows["2"]["status"] == "failed" and rows["2"]["error"] == "boom"
    assert (sweep / "plots" / "training.png").is_file()


def test_log_report_to_wandb_offline(sweep_report, tmp_path, monkeypatch):
    from safetuned.reporting.wandb import log_report_to_wandb

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    sweep, report = sweep_report
    run_dir = log_report_to_wandb(report, project="safetuned-test")
    assert run_dir is not None and run_dir.name.startswith("offline-run-") and run_dir.is_dir()
    assert run_dir.parent == tmp_path / "wandb" and not (sweep / "wandb").exists()
    files = run_dir / "files"
    tables = list(files.rglob("*.table.json"))
    jobs = json.loads(next(t for t in tables if "jobs" in t.name).read_text())
    assert jobs["columns"][:3] == ["data.safety_n", "seed", "status"] and len(jobs["data"]) == 8
    assert any("mean_over_seeds" in t.name for t in tables)
    images = sorted(p.name.rsplit("_", 2)[0] for p in (files / "media" / "images" / "report" / "plots").glob("*.png"))
    assert images == sorted(report.plots)
    # the offline run file (protobuf records) holds the run's group, name and logged keys
    # (wandb's service process may still be closing the file when finish() returns under load)
    needles = ["2026-01-02/03-04-05", "report 2026-01-02/03-04-05", "report/jobs", "report/mean_over_seeds",
               "report/plots/tradeoff", "report/jobs_failed"]
    deadline = time.monotonic() + 30
    while True:
        run_file = next(run_dir.glob("run-*.wandb")).read_bytes()
        missing = [n for n in needles if n.encode() not in run_file]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not missing, f"not in the offline run file: {missing}"


def test_judge_agreement_table(sweep_report):
    sweep, report = sweep_report
    finished = [j for j in report.jobs if j.finished]
    assert len(report.agreement) == len(finished) and report.agreement[0]["judge_b"] == "wildguard"
    assert (sweep / "agreement.csv").read_text().splitlines()[0].startswith("job,suite,verdict,judge_a,judge_b,n")
    md = (sweep / "report.md").read_text()
    assert "## Judge agreement" in md and "| refusal vs wildguard | 20 | 0.850 [0.64, 0.95] | 0.600 |" in md
    assert "Judge agreement" in (sweep / "report.html").read_text()
