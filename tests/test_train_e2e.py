"""A tiny end-to-end job: train, keep the best adapter, export it in peft format, evaluate, write metrics."""

from __future__ import annotations

import json
import math

import pytest
import torch
from peft import PeftModel

from safetuned.pipeline.fit import train
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


def test_local_judges_prefill_and_kl_inside_an_evaluation(trained_job, tmp_path):
    """Every local judge on its tiny stand-in, a prefill attack and the KL probe, in one evaluation of the trained
    adapter; then the sweep report shows the judges' agreement, the prefill curve and the KL plot."""
    import yaml
    from omegaconf import OmegaConf

    from safetuned.eval.runner import EvalPlan
    from safetuned.model.export import load_adapted
    from safetuned.model.tiny import train_bpe_tokenizer
    from safetuned.reporting.tables import summarize_sweep
    from tests.guard_standins import llama_guard_template, save_causal_lm
    from tests.test_refusal_classifier import TEXTS, save_classifier

    cfg, job_dir, _ = trained_job
    judges = tmp_path / "judges"
    save_classifier(judges / "rc", train_bpe_tokenizer(TEXTS * 3, vocab_size=300), {0: "NORMAL", 1: "REJECTION"})
    eval_cfg = OmegaConf.to_container(cfg.eval, resolve=True)
    eval_cfg.update(limit=3, harness=None, helpfulness=None, score_cache=str(tmp_path / "scores.sqlite"),
                    prefill={"ks": [0, 2, 4], "opening": "Sure, here is how to do it"},
                    kl_position={"max_positions": 6, "batch_size": 4})
    eval_cfg["suites"] = {k: v for k, v in eval_cfg["suites"].items() if k in ("malicious", "hateful", "xstest_safe")}
    eval_cfg["scorers"] = {
        "refusal": True,
        "wildguard": {"model": str(save_causal_lm(judges / "wg", "mistral")), "max_new_tokens": 8},
        "llama_guard": {"model": str(save_causal_lm(judges / "lg", chat_template=llama_guard_template())),
                        "max_new_tokens": 4},
        "harmbench": {"model": str(save_causal_lm(judges / "hb"))},
        "refusal_classifier": {"model": str(judges / "rc")},
    }
    plan = EvalPlan.from_config(OmegaConf.create(eval_cfg))
    model, tokenizer, style, _ = load_adapted(job_dir / "adapter")
    sweep = tmp_path / "multirun" / "2026-12-05" / "10-00-00"
    out = sweep / "data.safety_n=200"
    metrics, rows = plan.run(model, tokenizer, style, out, progress=False)

    assert set(rows) == {"malicious", "hateful", "xstest_safe", *(f"{s}@prefill{k}" for s in ("malicious", "hateful")
                                                                   for k in (2, 4))}
    for label in ("wildguard", "refusal_classifier"):
        assert f"eval/xstest_safe/{label}/refusal_rate" in metrics or \
            f"eval/xstest_safe/{label}/n_no_verdict_refusal_rate" in metrics
    assert "eval/all_harmful@prefill4/refusal_rate" in metrics and "eval/kl_position/first5_mean" in metrics
    first = rows["malicious@prefill4"][0]
    assert first["response"].startswith("Sure") and set(first["scores"]) >= {"wildguard", "llama_guard", "harmbench"}
    assert 0.0 <= first["scores"]["llama_guard"]["harm_score"] <= 1.0
    info = json.loads((out / "eval.json").read_text())
    assert info["suites"]["malicious@prefill2"] == {"kind": "harmful", "n": 3, "prefill": 2}
    assert {(a["a"], a["b"]) for a in info["agreement"]["xstest_safe"]} >= {("refusal", "refusal_classifier")}
    kl = json.loads((out / "kl_position.json").read_text())
    assert kl["positions"][:3] == [0, 1, 2] and kl["mean"][0] >= 0.0

    (out / ".hydra").mkdir()
    (out / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["data.safety_n=200"]))
    (out / "status.json").write_text(json.dumps({"status": "completed"}))
    (out / "metrics.json").write_text(json.dumps(metrics))
    (sweep / "multirun.yaml").write_text(yaml.safe_dump({"hydra": {"overrides": {"task": ["data.safety_n=200"]}}}))
    report = summarize_sweep(sweep)
    assert {"prefill", "kl_position"} <= set(report.plots) and (sweep / "agreement.csv").is_file()
    assert "## Judge agreement" in (sweep / "report.md").read_text()
