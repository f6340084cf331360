"""A tiny end-to-end job: train, keep the best adapter, export it in peft format, evaluate, write metrics."""

from __future__ import annotations

import json
import math

import pytest
import torch
from peft import PeftModel

from safetuned.train import train
from tests.conftest import TINY_OVERRIDES, compose_cfg


@pytest.fixture(scope="module")
def trained_job(tmp_path_factory, cache_dir):
    """One tiny job, shared by the assertions below (it is the slowest thing in the fast suite)."""
    job_dir = tmp_path_factory.mktemp("e2e") / "job"
    cfg = compose_cfg("train", [*TINY_OVERRIDES, "data.safety_n=200"], job_dir, cache_dir)
    metrics = train(cfg, job_dir)
    return cfg, job_dir, metrics


def test_job_folder_holds_everything(trained_job):
    _, job_dir, metrics = trained_job
    for name in ("manifest.json", "metrics.json", "adapter/adapter_config.json", "adapter/prompt.json",
                 "adapter/adapter_model.safetensors", "checkpoints/last.ckpt"):
        assert (job_dir / name).exists(), name
    on_disk = json.loads((job_dir / "metrics.json").read_text())
    assert on_disk["val/loss"] == pytest.approx(metrics["val/loss"])
    assert on_disk["train/steps"] > 0 and on_disk["train/tokens"] > 0
    manifest = json.loads((job_dir / "manifest.json").read_text())
    assert manifest["counts"]["safety"] == 200


def test_validation_loss_falls_and_best_is_kept(trained_job):
    _, job_dir, metrics = trained_job
    rows = (job_dir / "csv" / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    col = header.index("val/loss")
    vals = [float(r.split(",")[col]) for r in rows[1:] if r.split(",")[col]]
    assert len(vals) >= 3
    assert vals[-1] < vals[0] * 0.99 and vals == sorted(vals, reverse=True), vals  # falls at every validation
    assert metrics["val/loss"] == pytest.approx(min(vals), rel=1e-5)
    assert math.isfinite(metrics["train/loss"])


def test_exported_adapter_loads_with_peft_and_matches(trained_job):
    cfg, job_dir, _ = trained_job
    from safetuned.model.load import load_causal_lm, model_source

    base = load_causal_lm(model_source(cfg))
    model = PeftModel.from_pretrained(base, job_dir / "adapter")
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b), "LoRA B starts at zero: it must have trained"
    best = torch.load(next((job_dir / "checkpoints").glob("best-*.ckpt")), weights_only=True)["state_dict"]
    assert all("lora_" in k for k in best), "checkpoints hold adapter weights only"
    exported = dict(model.named_parameters())
    for key, value in best.items():
        name = key.removeprefix("model.")
        assert torch.equal(exported[name].detach(), value), name


def test_evaluation_metrics_and_generations(trained_job):
    _, job_dir, metrics = trained_job
    for suite in ("malicious", "xstest_safe", "benign"):
        assert (job_dir / "generations" / f"{suite}.jsonl").exists()
    rate = metrics["eval/malicious/compliance_rate"]
    assert 0.0 <= metrics["eval/malicious/compliance_rate_ci_low"] <= rate <= metrics[
        "eval/malicious/compliance_rate_ci_high"] <= 1.0
    assert "eval/xstest_safe/refusal_rate" in metrics and "eval/benign/exact_match" in metrics
    rows = [json.loads(x) for x in (job_dir / "generations" / "malicious.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and all("### Response:" in r["prompt"] for r in rows)
    outcomes = [r["outcome"] for r in rows]
    assert set(outcomes) <= {"refusal", "partial_refusal", "compliance", "off_task"}
    assert outcomes.count("compliance") / len(rows) == pytest.approx(rate)
    share = {k: metrics[f"eval/malicious/{k}_rate"] for k in ("refusal", "compliance", "off_task")}
    assert share["refusal"] + share["compliance"] + share["off_task"] == pytest.approx(1.0)
    assert share["refusal"] == pytest.approx(sum(r["refused"] for r in rows) / len(rows))
    kinds = json.loads((job_dir / "eval.json").read_text())["suites"]
    assert kinds["malicious"]["kind"] == "harmful" and kinds["malicious"]["n"] == 12
