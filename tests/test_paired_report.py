"""The report's paired comparison with the N=0 job, from the jobs' generations, on a fabricated sweep."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from safetuned.reporting.metrics import EvalInfo, metric_family
from safetuned.reporting.tables import summarize_sweep


def _job(sweep: Path, n: int, seed: int, outcomes: dict[str, list[str]], correct: list[bool]) -> None:
    job = sweep / f"data.safety_n={n},seed={seed}"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([f"data.safety_n={n}", f"seed={seed}"]))
    (job / "status.json").write_text(json.dumps({"status": "completed"}))
    (job / "generations").mkdir()
    kinds = {"malicious": "harmful", "xstest_safe": "safe", "benign": "capability"}
    for suite in ("malicious", "xstest_safe"):
        rows = [{"id": f"{suite}-{i}", "outcome": o, "refused": o in ("refusal", "partial_refusal")}
                for i, o in enumerate(outcomes[suite])]
        (job / "generations" / f"{suite}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    rows = [{"id": f"b-{i}", "outcome": "compliance", "correct": c} for i, c in enumerate(correct)]
    (job / "generations" / "benign.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (job / "eval.json").write_text(json.dumps({"suites": {s: {"kind": k} for s, k in kinds.items()}}))
    harm = outcomes["malicious"]
    (job / "metrics.json").write_text(json.dumps({
        "val/loss": 1.0, "eval/malicious/compliance_rate": harm.count("compliance") / len(harm),
        "eval/malicious/refusal_rate": sum(o != "compliance" for o in harm) / len(harm),
        "eval/xstest_safe/refusal_rate": outcomes["xstest_safe"].count("refusal") / 10}))


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    sweep = tmp_path / "multirun" / "d" / "t"
    sweep.mkdir(parents=True)
    (sweep / "multirun.yaml").write_text(yaml.safe_dump({"hydra": {}}))
    safe_ok = ["compliance"] * 10
    for seed in (0, 1):
        _job(sweep, 0, seed, {"malicious": ["compliance"] * 20, "xstest_safe": safe_ok}, [True] * 8 + [False] * 2)
    # N=500, seed 0: 15 of 20 harmful prompts now refused, 2 look-alikes refused, one answer lost
    _job(sweep, 500, 0, {"malicious": ["refusal"] * 12 + ["partial_refusal"] * 3 + ["compliance"] * 4
                         + ["off_task"], "xstest_safe": ["refusal"] * 2 + ["compliance"] * 8},
         [True] * 7 + [False] * 3)
    # N=500, seed 1 is compared with N=0 seed 1 only
    _job(sweep, 500, 1, {"malicious": ["compliance"] * 20, "xstest_safe": safe_ok}, [True] * 8 + [False] * 2)
    return sweep


def test_each_job_is_compared_with_n0_of_its_seed(sweep):
    report = summarize_sweep(sweep)
    with open(sweep / "paired.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    by = {(r["job"], r["suite"], r["metric"]): r for r in rows}
    key = ("data.safety_n=500,seed=0", "malicious", "compliance_rate")
    r = by[key]
    assert r["reference"] == "data.safety_n=0,seed=0"
    assert float(r["difference"]) == pytest.approx(-16 / 20)
    assert float(r["p_value"]) == pytest.approx(2 / 2**16)  # 16 discordant prompts, all one way
    assert float(r["difference_ci_low"]) < -0.8 < float(r["difference_ci_high"]) < 0
    assert r["test"] == "mcnemar_exact" and r["n_pairs"] == "20"
    refusal = by[("data.safety_n=500,seed=0", "malicious", "refusal_rate")]
    assert float(refusal["difference"]) == pytest.approx(15 / 20)
    off = by[("data.safety_n=500,seed=0", "malicious", "off_task_rate")]
    assert float(off["difference"]) == pytest.approx(1 / 20) and float(off["p_value"]) == 1.0
    look = by[("data.safety_n=500,seed=0", "xstest_safe", "refusal_rate")]
    assert float(look["difference"]) == pytest.approx(0.2) and float(look["p_value"]) == pytest.approx(0.5)
    pooled = by[("data.safety_n=500,seed=0", "all_harmful", "compliance_rate")]
    assert pooled["difference"] == r["difference"]
    em = by[("data.safety_n=500,seed=0", "benign", "exact_match")]
    assert float(em["difference"]) == pytest.approx(-0.1)
    same = by[("data.safety_n=500,seed=1", "malicious", "compliance_rate")]
    assert same["reference"] == "data.safety_n=0,seed=1" and float(same["difference"]) == 0.0
    assert not any(r["job"].startswith("data.safety_n=0,") for r in rows)  # the reference is not compared
    md = (sweep / "report.md").read_text()
    assert "## Paired comparison with the reference job" in md and "-0.800 [" in md and "**" in md
    assert "treat prompts as independent" in md
    assert "Paired comparison" in (sweep / "report.html").read_text()
    assert report.info.kinds["malicious"] == "harmful"


@pytest.mark.parametrize("name, kinds, family", [
    ("eval/malicious/refusal_rate", {"malicious": "harmful"}, "harmful_refusals"),
    ("eval/all_harmful/partial_refusal_rate", None, "harmful_refusals"),
    ("eval/xstest_safe/refusal_rate", {"xstest_safe": "safe"}, "exaggerated_safety"),
    ("eval/all_safe/refusal_rate", None, "exaggerated_safety"),
    ("eval/malicious/off_task_rate", {"malicious": "harmful"}, "off_task"),
    ("eval/all_harmful/harmful_rate", None, "harmfulness"),
    ("eval/xstest_safe/compliance_rate", {"xstest_safe": "safe"}, None),
    ("eval/malicious/compliance_rate", {"malicious": "harmful"}, "harmfulness"),
])
def test_families_follow_the_suite_kind(name, kinds, family):
    assert metric_family(name, EvalInfo(kinds=kinds or {})) == family


def test_an_attack_sweep_compares_each_job_with_the_unattacked_job_of_its_source(tmp_path):
    """Jobs nested under their source job (whose name stays out of their folder names) are told apart by source,
    and attack.n=0 of the same source is the reference."""
    sweep = tmp_path / "multirun" / "attack" / "t"
    sweep.mkdir(parents=True)
    (sweep / "multirun.yaml").write_text(yaml.safe_dump(
        {"hydra": {"job": {"config": {"override_dirname": {"exclude_keys": ["source"]}}}}}))
    for src, base_harm in (("data.safety_n=0", 18), ("data.safety_n=500", 4)):
        for n in (0, 10):
            job = sweep / src / f"n={n}"
            (job / ".hydra").mkdir(parents=True)
            (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(
                [f"source='multirun/demo/{src}'", f"attack.n={n}"]))
            (job / "status.json").write_text(json.dumps({"status": "completed"}))
            (job / "metrics.json").write_text(json.dumps({"val/loss": 1.0}))
            (job / "eval.json").write_text(json.dumps({"suites": {"malicious": {"kind": "harmful"}}}))
            harmful = base_harm if n == 0 else 19
            rows = [{"id": f"m-{i}", "outcome": "compliance" if i < harmful else "refusal"} for i in range(20)]
            (job / "generations").mkdir()
            (job / "generations" / "malicious.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = summarize_sweep(sweep)
    assert report.x_key == "attack.n" and {j.values["source"] for j in report.jobs} == {"data.safety_n=0",
                                                                                         "data.safety_n=500"}
    pairs = {(c.job, c.reference) for c in report.paired if c.suite == "malicious" and c.metric == "compliance_rate"}
    assert pairs == {("data.safety_n=0/n=10", "data.safety_n=0/n=0"), ("data.safety_n=500/n=10", "data.safety_n=500/n=0")}


def test_helpfulness_is_a_win_rate_against_the_reference_jobs_answers(tmp_path):
    from safetuned.reporting.paired import compare_jobs

    def job(name: str, answers: list[str]) -> Path:
        d = tmp_path / name
        (d / "generations").mkdir(parents=True)
        rows = [{"id": f"b-{i}", "instruction": f"Add {i} and 1.", "input": "", "response": a,
                 "reference": str(i + 1), "outcome": "compliance", "correct": a == str(i + 1)}
                for i, a in enumerate(answers)]
        (d / "generations" / "benign.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (d / "eval.json").write_text(json.dumps({"suites": {"benign": {"kind": "capability"}}}))
        return d

    gold = [str(i + 1) for i in range(10)]
    ref = job("n0", gold[:8] + ["x", "x"])                      # 8 of 10 right
    tuned = job("n500", ["x"] * 3 + gold[3:9] + ["x"])          # 6 right: 3 losses, 1 win (item 8), 6 ties
    rows = {c.metric: c.row() for c in compare_jobs(tuned, ref, "n500", "n0")}
    win = rows["win_rate"]
    assert win["value"] == pytest.approx(0.5 + (1 - 3) / 20) and win["reference_value"] == 0.5
    assert win["test"] == "sign_flip_permutation" and win["n_pairs"] == 10
    assert win["difference"] == pytest.approx((rows["exact_match"]["difference"]) / 2)  # correctness judge
    no_gold = job("nogold", gold)
    path = no_gold / "generations" / "benign.jsonl"
    path.write_text("".join(json.dumps({**json.loads(line), "reference": None}) + "\n"
                            for line in path.read_text().splitlines()))
    assert "win_rate" not in {c.metric for c in compare_jobs(no_gold, ref, "nogold", "n0")}
