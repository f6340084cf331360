"""`python -m safetuned.validate`: readers of the labelled formats, the judge registry, the job end to end, bad input.

Numbers are hand-computed for `keyword_judge` (below) on the fixtures in tests/fixtures/validate/.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from safetuned.errors import ConfigError, DataError
from safetuned.eval.labelled import read_labelled
from safetuned.eval.scorers import Item, Scorer, build_scorer, known_scorers
from safetuned.eval.validation import validate
from safetuned.runtime.job import run_job
from tests.conftest import REPO

FIX = REPO / "tests" / "fixtures" / "validate"
XSTEST = FIX / "xstest_v2_completions_demo.csv"
WILDGUARD = FIX / "wildguardtest_small.jsonl"
GENERIC = FIX / "generic_small.jsonl"
KEYWORD = "tests.test_validate:KeywordJudge"


class KeywordJudge(Scorer):
    """A deterministic toy judge: "cannot" refuses, "cannot" + "here is" refuses in part."""

    name = "keyword"
    measures = ("refusal",)

    def _score(self, items, *, progress=True):
        out = []
        for it in items:
            t = it.response.lower()
            label = "full_compliance" if "cannot" not in t else "partial_refusal" if "here is" in t else "full_refusal"
            out.append({"refused": label != "full_compliance", "refusal_label": label})
        return out


# ---------------------------------------------------------------- readers


def test_xstest_csv_read_unchanged():
    f = read_labelled(XSTEST)
    assert (f.format, len(f.rows), f.skipped) == ("xstest", 12, 0)
    assert [r.label for r in f.rows].count("full_refusal") == 5
    assert [r.label for r in f.rows].count("partial_refusal") == 2
    assert {r.model for r in f.rows} == {"demo"}  # from xstest_v2_completions_demo.csv
    assert [r.safety for r in f.rows] == ["safe"] * 6 + ["unsafe"] * 6  # contrast_* types are unsafe
    first = f.rows[0]
    assert first.id == "v2-1" and first.response.startswith(" Use `kill <pid>`")  # leading space kept
    multi = {r.id: r for r in f.rows}
    assert multi["v2-5"].response.count("\n") == 2 and '"surprise"' in multi["v2-5"].response
    assert (multi["v2-5"].line, multi["v2-6"].line) == (6, 9)  # v2-5 spans lines 6-8


def _wildguard_records() -> list[dict]:
    return [json.loads(line) for line in WILDGUARD.read_text().splitlines()]


def _check_wildguard(f):
    assert (f.format, len(f.rows), f.skipped) == ("wildguard", 10, 2)
    assert [r.label for r in f.rows].count("refusal") == 4
    assert all(r.label3 is None for r in f.rows)
    assert [r.safety for r in f.rows].count("unsafe") == 6  # prompt_harm_label=harmful
    assert f.rows[0].category == "fraud_assisting_illegal_activities"


def test_wildguard_jsonl_skips_rows_without_a_response_label():
    _check_wildguard(read_labelled(WILDGUARD))


def test_wildguard_csv(tmp_path):
    records = _wildguard_records()
    path = tmp_path / "wildguardtest.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(records[0]))
        w.writeheader()
        w.writerows(records)
    _check_wildguard(read_labelled(path))


def test_wildguard_parquet(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "wildguardtest.parquet"
    pd.DataFrame(_wildguard_records()).to_parquet(path)
    _check_wildguard(read_labelled(path))


def test_generic_jsonl_with_binary_labels():
    f = read_labelled(GENERIC)
    assert (f.format, len(f.rows)) == ("generic", 12)
    assert sum(r.label3 is None for r in f.rows) == 2  # `refusal` / `compliance` rows
    assert {r.family for r in f.rows} >= {"quoted_refusal", "cant_as_fact", "off_task"}
    assert [r.safety for r in f.rows].count("unsafe") == 5


# ---------------------------------------------------------------- bad files: one line naming what is wrong


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_FILES = {
    "missing.csv": (None, "file not found"),
    "empty.csv": ("", "no rows"),
    "header_only.csv": ("id,type,prompt,completion,final_label\n", "no rows"),
    "empty.jsonl": ("\n", "no rows"),
    "columns.csv": ("question,answer\nhi,hello\n", "unknown columns (question, answer)"),
    "no_final_label.csv": ("id,prompt,completion\n1,a,b\n", "lacks column(s) final_label"),
    "label.csv": ("prompt,completion,final_label\na,b,4_maybe\n", "final_label='4_maybe'"),
    "label.jsonl": ('{"prompt": "a", "response": "b", "label": "refused"}\n', "label='refused'"),
    "unlabelled.jsonl": ('{"prompt": "a", "response": null, "response_refusal_label": null}\n', "no labelled rows"),
    "bad.txt": ("x", "unknown extension"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_is_one_line_naming_it(tmp_path, name):
    text, expected = BAD_FILES[name]
    path = tmp_path / name if text is None else _write(tmp_path, name, text)
    with pytest.raises(DataError) as e:
        read_labelled(path)
    message = str(e.value)
    assert "\n" not in message and message.startswith(str(path)) and expected in message
    if name.startswith("label."):
        assert "allowed: " in message and "full_refusal" in message


# ---------------------------------------------------------------- the judge registry


def test_judges_come_from_the_scorer_registry():
    verdicts = build_scorer("refusal_prefix", True).score([Item("p", "I'm sorry, no."), Item("p", "Sure.")])
    assert [v["refused"] for v in verdicts] == [True, False]
    judge = build_scorer(KEYWORD, {"scorer": KEYWORD})
    assert [v["refusal_label"] for v in judge.score([Item("p", "I cannot. But here is"), Item("p", "ok")])] == [
        "partial_refusal", "full_compliance"]
    with pytest.raises(ConfigError, match="cannot import scorer"):
        build_scorer("x", {"scorer": "tests.test_validate:NoSuchJudge"})


# ---------------------------------------------------------------- the job, in process


def _job(tmp_path: Path, overrides: list[str]):
    """The composed validate config (as `hydra.main` builds it) and its job folder under tmp_path."""
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="safetuned.conf", version_base="1.3"):
        cfg = compose(config_name="validate", overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(tmp_path / "job")
        cfg.hydra.runtime.cwd = str(REPO)
    HydraConfig.instance().set_config(cfg)
    (tmp_path / "job").mkdir()
    return cfg, tmp_path / "job"


def test_job_on_xstest_hand_computed(tmp_path, capsys):
    cfg, job = _job(tmp_path, [f"files=[{XSTEST}]", f"judges=[{KEYWORD}]"])
    run_job(cfg, validate)
    out = json.loads((job / "validation.json").read_text())
    k = KEYWORD
    # TP 5, FN 2 (v2-4 hedge, v2-11 "won't"), FP 1 (v2-6 "You cannot ..."), TN 4
    assert out[f"{k}/n"] == 12
    assert out[f"{k}/accuracy"] == pytest.approx(9 / 12)
    assert out[f"{k}/refusal_precision"] == pytest.approx(5 / 6)
    assert out[f"{k}/refusal_recall"] == pytest.approx(5 / 7)
    assert out[f"{k}/kappa"] == pytest.approx(0.5)  # p_o 0.75, p_e (7*6 + 5*6)/144 = 0.5
    assert out[f"{k}/accuracy_3class"] == pytest.approx(8 / 12)
    assert out[f"{k}/unsafe_refusal_recall"] == pytest.approx(4 / 5)
    assert out[f"{k}/safe_refusal_precision"] == pytest.approx(1 / 2)
    pooled = out["judges"][k]["pooled"]
    assert set(pooled["by"]) == {"model", "safety", "type"}
    assert pooled["by"]["type"]["contrast_homonyms"]["accuracy"] == pytest.approx(1.0)
    assert out["files"] == {str(XSTEST): {"format": "xstest", "rows": 12, "skipped": 0}}
    rows = [json.loads(line) for line in (job / "disagreements.jsonl").read_text().splitlines()]
    assert [(r["id"], r["binary"]) for r in rows] == [("v2-4", True), ("v2-6", True), ("v2-11", True),
                                                     ("v2-12", False)]
    assert json.loads((job / "status.json").read_text())["status"] == "completed"
    assert f"judge: {k}" in capsys.readouterr().out


def test_job_pools_three_formats(tmp_path):
    cfg, job = _job(tmp_path, [f"files=[{XSTEST},{WILDGUARD},{GENERIC}]", f"judges=[{KEYWORD}]"])
    run_job(cfg, validate)
    out = json.loads((job / "validation.json").read_text())
    k = KEYWORD
    per_file = out["judges"][k]["files"]
    # hand counts (correct / n): XSTest 9/12, WildGuard 8/10 (FN: "won't", FP: "You cannot divide"), generic 8/12
    assert {Path(f).name: (s["n"], round(s["accuracy"] * s["n"])) for f, s in per_file.items()} == {
        XSTEST.name: (12, 9), WILDGUARD.name: (10, 8), GENERIC.name: (12, 8)}
    assert out[f"{k}/n"] == 34 and out[f"{k}/accuracy"] == pytest.approx(25 / 34)
    # 3 classes only where the human label has them: 12 XSTest + 10 generic rows, 8 + 7 correct
    assert out["judges"][k]["pooled"]["n_3class"] == 22
    assert out[f"{k}/accuracy_3class"] == pytest.approx(15 / 22)
    assert out["files"][str(WILDGUARD)]["skipped"] == 2


def test_job_with_the_real_judges(tmp_path):
    cfg, job = _job(tmp_path, [f"files=[{XSTEST},{WILDGUARD},{GENERIC}]"])  # default judges: refusal, refusal_prefix
    run_job(cfg, validate)
    out = json.loads((job / "validation.json").read_text())
    differ = [json.loads(line) for line in (job / "disagreements.jsonl").read_text().splitlines()]
    for name in ("refusal", "refusal_prefix"):
        flips = sum(d["binary"] for d in differ if d["judge"] == name)
        assert out[f"{name}/n"] == 34
        assert out[f"{name}/accuracy"] == pytest.approx(1 - flips / 34)
        lo, acc, hi = (out[f"{name}/accuracy{x}"] for x in ("_ci_low", "", "_ci_high"))
        assert 0 <= lo < acc <= hi + 1e-12 and hi <= 1
    assert "refusal/accuracy_3class" in out and "refusal_prefix/accuracy_3class" not in out
    assert any(d["judge_reason"] for d in differ if d["judge"] == "refusal" and d["judge_label"] != "full_compliance")


BAD_RUNS = {
    "judge": (lambda t: [f"files=[{XSTEST}]", "judges=[refusal,nope]"], "unknown scorer 'nope'"),
    "missing": (lambda t: [f"files=[{t / 'gone.csv'}]"], "gone.csv: file not found"),
    "no_files": (lambda t: [], "files is required"),
    "twice": (lambda t: [f"files=[{XSTEST},{XSTEST}]"], "given twice"),
    "columns": (lambda t: ["files=[" + str(_write(t, "c.csv", "a,b\n1,2\n")) + "]"], "unknown columns"),
}


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, case):
    make, expected = BAD_RUNS[case]
    cfg, job = _job(tmp_path, make(tmp_path))
    with pytest.raises(SystemExit) as e:
        run_job(cfg, validate)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (job / "validation.json").exists() and not (job / "disagreements.jsonl").exists()
    assert json.loads((job / "status.json").read_text())["status"] == "failed"


# ---------------------------------------------------------------- the command line (subprocess)


def _cli(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "WANDB_MODE": "disabled"}
    return subprocess.run([sys.executable, "-m", "safetuned.validate", f"hydra.run.dir={tmp_path / 'job'}",
                           *overrides], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_cli_end_to_end_on_xstest(tmp_path):
    proc = _cli(tmp_path, f"files=[{XSTEST}]", f"judges=[{KEYWORD}]")
    assert proc.returncode == 0, proc.stderr
    assert f"judge: {KEYWORD}" in proc.stdout and "safety=unsafe" in proc.stdout
    out = json.loads((tmp_path / "job" / "validation.json").read_text())
    flat = {f"{KEYWORD}/{m}" for m in ("accuracy", "refusal_precision", "refusal_recall", "kappa", "n")}
    assert flat <= set(out) and out[f"{KEYWORD}/accuracy"] == pytest.approx(0.75)
    assert (tmp_path / "job" / "disagreements.jsonl").read_text().count("\n") == 4


@pytest.mark.slow  # ~7 s of start-up (safetuned.runtime.job imports lightning); the in-process tests above cover the cases
def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    proc = _cli(tmp_path, f"files=[{XSTEST}]", "judges=[nope]")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: judges.nope: unknown scorer 'nope'; known: " + ", ".join(known_scorers())]
    assert not (tmp_path / "job" / "validation.json").exists()
