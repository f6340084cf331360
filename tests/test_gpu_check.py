"""`make gpu-check`: its no-GPU message, its peak table, and its CPU dry run of the same steps at tiny size."""

from __future__ import annotations

import json

import pytest
import torch

from bench.gpu_check import NO_GPU, main
from bench.gpu_model import bf16_peak_tflops


def test_without_cuda_it_says_so_in_one_line_and_fails(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main([]) == 2
    err = capsys.readouterr().err.strip()
    assert err == NO_GPU and "\n" not in err and "--dry-run" in err


@pytest.mark.parametrize("name, peak", [
    ("NVIDIA H200", 989.0), ("NVIDIA H100 80GB HBM3", 989.0), ("NVIDIA H100 PCIe", 756.0),
    ("NVIDIA A100-SXM4-80GB", 312.0), ("NVIDIA L4", 121.0), ("NVIDIA L40S", 362.0), ("NVIDIA A10G", 125.0),
    ("Tesla T4", None),
])
def test_bf16_peaks_by_device_name(name, peak):
    assert bf16_peak_tflops(name) == peak


@pytest.mark.slow
def test_dry_run_passes_every_path_on_cpu(tmp_path, cache_dir, capsys):
    assert main(["--dry-run", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    checks = {c["name"].split(" (")[0].split(":")[0]: c for c in result["checks"]}
    assert result["dry_run"] and 1e5 < result["params"] < 1e7
    train = checks["train bf16 LoRA, gradient checkpointing"]
    assert train["status"] == "PASS" and train["numbers"]["steps"] == 20
    assert train["numbers"]["tokens_per_s"] > 0 and 0 < train["numbers"]["mfu"] < 1
    assert checks["train 8bit base"]["status"] == checks["train 4bit base"]["status"] == "SKIP"
    gen = checks["generation"]
    assert gen["status"] == "PASS" and gen["numbers"]["identical"] == gen["numbers"]["prompts"] == 16
    evaluate = checks["evaluate saved adapter"]
    assert evaluate["status"] == "PASS"
    assert (evaluate["numbers"]["dtypes"], evaluate["numbers"]["device"]) == (["bfloat16"], "cpu")
    assert checks["train under DDP on 2 CPU processes"]["status"] == "PASS"
    out = capsys.readouterr().out
    assert "gpu-check: 4 passed, 2 skipped, 0 failed" in out
