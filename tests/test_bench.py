"""Smoke tests of the `make bench` code paths on the tiny model: figures computed, baselines really run."""

from __future__ import annotations

import json
import math
import statistics
import sys

import pytest
import torch

from bench.common import compose_train_cfg
from bench.data_prep import bench_data_prep
from bench.generation import GenerationBench, bench_generation
from bench.jobs import dirname_excludes, run_measured
from bench.run import expected_seconds, main, parse_args
from bench.table import format_table
from bench.train_bench import summarize
from bench.train_hf import BASELINE_PAD_MULTIPLE, CountingCollator, baseline_collator
from bench.train_speed import parse_impl, run_impl
from bench.worker import prepare
from safetuned.errors import ConfigError
from tests.conftest import TINY_OVERRIDES

# cutoff 128 keeps the demo's natural mix of lengths (at 96 most examples are cut to the same length)
BENCH_OVERRIDES = [*TINY_OVERRIDES, "data.cutoff_len=128", "num_threads=1"]
NEW_KEYS = ("train_tokens_per_s_ratio_vs_hf_grouped", "generation_speedup_vs_hf_generate",
            "train_flops_fraction_of_peak_fp32", "train_flops_fraction_of_peak_bf16", "peak_matmul_gflops_fp32",
            "peak_matmul_gflops_bf16")


@pytest.fixture(scope="module")
def bench_cfg(tmp_path_factory, cache_dir):
    work = tmp_path_factory.mktemp("bench")
    cfg = compose_train_cfg([*BENCH_OVERRIDES, "data.safety_n=100"], work)
    return cfg, prepare(cfg), work


@pytest.fixture(scope="module")
def train_runs(bench_cfg):
    cfg, plan, work = bench_cfg
    impls = ("ours", "hf", "plain", "ours+packed")
    return {impl: run_impl(impl, cfg, plan, steps=3, warmup=1, work_dir=work) for impl in impls}


def test_every_training_loop_really_trains_and_counts_tokens_and_flops(train_runs):
    for impl, run in train_runs.items():
        assert run.impl == impl
        assert run.global_step == 4, impl  # warm-up + timed optimizer steps, all taken
        assert run.seconds > 0 and run.tokens_per_s == pytest.approx(run.tokens / run.seconds)
        assert 0 < run.tokens <= run.cells
        assert run.peak_rss_mb > 50
        assert run.flops > 6 * run.tokens * 1e5 and run.flops_per_s == pytest.approx(run.flops / run.seconds)
    for impl in ("ours", "plain", "ours+packed"):
        assert len(train_runs[impl].losses) == 3 and all(math.isfinite(x) and x > 0 for x in train_runs[impl].losses)
    # the same seeded model, batches and dropout seeds: the bare loop takes the Lightning loop's steps
    assert train_runs["plain"].tokens == train_runs["ours"].tokens
    assert train_runs["plain"].losses == pytest.approx(train_runs["ours"].losses, rel=1e-4)
    # packing changes the layout, not the tokens trained on, nor (up to dropout draws) the loss
    assert train_runs["ours+packed"].tokens == train_runs["ours"].tokens
    assert train_runs["ours+packed"].flops == pytest.approx(train_runs["ours"].flops)
    assert train_runs["ours+packed"].losses[0] == pytest.approx(train_runs["ours"].losses[0], rel=0.05)
    # alpaca-lora's collator rounds every batch up to a multiple of 8 columns
    assert train_runs["hf"].cells % BASELINE_PAD_MULTIPLE == 0


def test_length_grouping_beats_the_baseline_collator_on_padding(train_runs):
    ours, hf = train_runs["ours"], train_runs["hf"]
    assert ours.nonpad_fraction_epoch >= 0.95
    assert hf.nonpad_fraction_epoch < ours.nonpad_fraction_epoch - 0.05
    assert hf.nonpad_fraction_timed < ours.nonpad_fraction_timed


def test_baseline_collator_pads_to_multiple_of_8_and_counts():
    from safetuned.model.tiny import train_bpe_tokenizer

    tok = train_bpe_tokenizer(["a b c d e f g h i j k l m n o p"] * 20, vocab_size=300)
    collate = CountingCollator(baseline_collator(tok))
    feats = [{"input_ids": [5] * n, "attention_mask": [1] * n, "labels": [7] * n} for n in (3, 10)]
    batch = collate(feats)
    assert batch["input_ids"].shape == (2, 16)
    assert batch["labels"][0, 3:].eq(-100).all() and batch["attention_mask"].sum() == 13
    assert collate.counts == [(13, 32, 0.0)]


def test_generation_bench_identical_texts_and_every_way_ran(bench_cfg):
    cfg, _, _ = bench_cfg
    g = bench_generation(cfg, "malicious", rounds=2, limit=10, max_new_tokens=8, levers=["fused"])
    assert g.prompts == 10 and g.identical and g.mismatches == [] and g.differences == {}
    assert g.generate_calls_sequential == 10
    assert g.generate_calls_batched == 1  # 10 prompts fit one batch of the configured size: our greedy loop
    assert g.generate_calls_hf_generate == 1  # the same one batch, through model.generate
    assert len(g.batched_s) == len(g.hf_generate_s) == len(g.sequential_s) == len(g.lever_s["fused"]) == 2
    assert g.ratios_vs_hf_generate() == [h / b for h, b in zip(g.hf_generate_s, g.batched_s)]
    assert g.speedup > 0 and g.lever_summary()["fused"]["speedup_vs_ours_rounds"]
    assert g.prefill_batched_s > 0 and g.prefill_sequential_s > 0 and g.speedup_ceiling > 0
    with pytest.raises(ConfigError, match="--gen-suite='nope'"):
        bench_generation(cfg, "nope", rounds=1)
    with pytest.raises(ConfigError, match="--gen-levers"):
        bench_generation(cfg, "malicious", rounds=1, levers=["warp"])


def test_fused_decode_step_writes_what_the_greedy_loop_writes(monkeypatch):
    """Rows finishing at different steps (lazy row dropping), a shared template prefix, a LoRA model."""
    from peft import LoraConfig, get_peft_model

    from safetuned.eval import greedy
    from safetuned.eval.generate import GenerationConfig, generate
    from safetuned.model.tiny import random_tiny_llama, train_bpe_tokenizer
    from tests.test_generate import CORPUS, PROMPTS, TEMPLATED, _new_tokens

    tok = train_bpe_tokenizer(CORPUS, vocab_size=320)
    model = get_peft_model(random_tiny_llama(tok, seed=3, hidden_size=64, intermediate_size=128),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 2.0)
    raw = _new_tokens(model, tok, PROMPTS, 16, [tok.eos_token_id])
    late = next(t for row in raw for k, t in enumerate(row) if k >= 2 and t not in row[:k])
    early = next(row[0] for row in raw if row[0] != late)
    monkeypatch.setattr(model.generation_config, "eos_token_id", [tok.eos_token_id, late, early])
    prompts = PROMPTS + TEMPLATED
    calls, buffered = [], greedy.BufferedLayer
    monkeypatch.setattr(greedy, "BufferedLayer", type("Counted", (buffered,), {
        "update": lambda self, *a, **k: calls.append(1) or buffered.update(self, *a, **k)}))
    cfg = GenerationConfig(max_new_tokens=16, batch_size=5)
    fused = generate(model, tok, prompts, cfg, progress=False, fused=True)
    assert calls  # the buffered cache really ran
    assert fused == generate(model, tok, prompts, cfg, progress=False)  # which equals sequential (test_generate)
    lengths = {len(tok(t)["input_ids"]) for t in fused}
    assert len(lengths) >= 3 and len(set(fused)) >= 3


def test_generation_differences_name_the_prompt_and_the_first_differing_character():
    g = GenerationBench("s", 3, 8, 2)
    g.compare("hf_generate", ["same", "I cannot help with that.", "x"], ["same", "I cannot do that.", "x"])
    assert not g.identical and g.mismatches == []  # mismatches lists the sequential way's
    (d,) = g.differences["hf_generate"]
    assert (d["prompt"], d["at"]) == (1, 9) and d["ours"].startswith("I cannot h") and d["other"].endswith("do that.")
    assert "prompt #1: from char 9" in g.difference_lines()[0]
    g.compare("sequential", ["same", "I cannot help with that.", "x"], ["same", "I cannot help with that.", "y"])
    assert g.mismatches == [2]


def _tiny_lora(targets: list[str], attn: str = "eager"):
    from peft import LoraConfig

    from safetuned.model.lora import apply_lora
    from safetuned.model.tiny import random_tiny_llama, train_bpe_tokenizer

    tok = train_bpe_tokenizer(["hello world foo bar baz qux"] * 30, vocab_size=300)
    model = random_tiny_llama(tok, hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)
    model.config._attn_implementation = attn
    return apply_lora(model, LoraConfig(r=4, target_modules=targets, task_type="CAUSAL_LM"), seed=0)


@pytest.mark.parametrize("targets, tolerance", [(["q_proj", "k_proj", "v_proj", "o_proj"], 1e-9),
                                                (["q_proj", "v_proj"], 0.01)])
def test_flop_model_matches_torchs_flop_counter(targets, tolerance):
    from torch.utils.flop_counter import FlopCounterMode

    from bench.flops import flop_model

    model = _tiny_lora(targets)  # eager attention: its matmuls are counted (CPU sdpa is not)
    fm = flop_model(model)
    ids = torch.randint(5, 250, (3, 20))
    with FlopCounterMode(display=False) as counter:
        model(input_ids=ids, labels=ids).loss.backward()
    # exact when every attention input trains; with q,v only, the first block's K needs no gradient
    assert fm.batch([20] * 3) == pytest.approx(counter.get_total_flops(), rel=tolerance)
    assert fm.batch([20] * 3) >= counter.get_total_flops()
    assert fm.batch([5, 7]) == fm.per_token * 12 + fm.per_square * (25 + 49)


def test_packed_batches_give_the_padded_loss_and_their_lengths():
    from bench.flops import row_lengths
    from safetuned.data.collate import Collator, PackedCollator

    model = _tiny_lora(["q_proj", "v_proj"], attn="sdpa").eval()
    torch.manual_seed(0)
    examples = [{"input_ids": (x := torch.randint(5, 250, (n,)).tolist()), "labels": x} for n in (12, 7, 5, 3, 9)]
    packed, padded = PackedCollator(0)(examples), Collator(0)(examples)
    assert packed["input_ids"].shape == (3, 12) and padded["input_ids"].shape == (5, 12)  # 12 | 9+3 | 7+5
    assert sorted(row_lengths(packed)) == [3, 5, 7, 9, 12] and row_lengths(padded) == [12, 7, 5, 3, 9]
    assert int(packed["attention_mask"].sum()) == int(padded["attention_mask"].sum()) == 36
    with torch.no_grad():
        lp = model(input_ids=packed["input_ids"], position_ids=packed["position_ids"], labels=packed["labels"],
                   use_cache=False).loss
        lu = model(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"], labels=padded["labels"],
                   use_cache=False).loss
    assert float(lp) == pytest.approx(float(lu), rel=1e-5)


def test_matmul_peak_is_measured():
    from bench.flops import matmul_gflops, matmul_peak

    assert matmul_gflops(torch.float32, 128, seconds=0.01) > 0.1
    assert matmul_peak(torch.bfloat16, sizes=(64, 128), seconds=0.01) > 0.1


def test_later_sweep_job_reuses_the_first_jobs_tokens(bench_cfg):
    _, _, work = bench_cfg
    ((first, second),) = bench_data_prep(BENCH_OVERRIDES, 0, 60, rounds=1, work_dir=work / "prep")
    assert first.cache_hits == 0 and first.examples == 400
    assert second.cache_hits == first.examples  # the whole base comes from the first job's cache
    assert second.examples == 460
    assert first.data_prep_s > 0 and second.data_prep_s > 0


def test_run_measured_reports_each_childs_own_peak_rss(tmp_path):
    big = run_measured([sys.executable, "-c", "x = b'1' * (200 * 2**20)"],
                       tmp_path / "big.log")
    small = run_measured([sys.executable, "-c", "pass"], tmp_path / "small.log")
    assert big.returncode == 0 and big.peak_rss_mb > 200
    # its own peak: neither the max over earlier children nor the pages shared with this (large) test process
    assert small.peak_rss_mb < 100
    failed = run_measured([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "f.log")
    assert failed.returncode == 3


def test_sweep_job_folders_leave_fixed_overrides_out():
    arg = dirname_excludes(["logger=csv", "model.embedded.steps=150", "+foo.bar=1"])
    assert arg.startswith("hydra.job.config.override_dirname.exclude_keys=[")
    keys = arg.split("=", 1)[1].strip("[]").split(",")
    assert {"resume", "num_threads", "logger", "model.embedded.steps", "foo.bar"} <= set(keys)
    assert "data.safety_n" not in keys


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "--steps=0 must be >= 1"),
    (["--skip", "train,nope"], "unknown section"),
    (["--impls", "ours"], "must include ours and hf_grouped"),
    (["--levers", "ours+warp"], "lever 'warp' not allowed"),
    (["--levers", "hf+packed"], "lever 'packed' not allowed; for hf"),
    (["--levers", "hf"], "a lever is loop.lever"),
    (["--gen-levers", "warp"], "--gen-levers"),
    (["--lever-rounds", "0"], "--lever-rounds=0 must be >= 1"),
    (["--sweep-ns", "0"], "at least two"),
    (["--sweep-ns", "0,x"], "comma-separated integers"),
    (["data.safety_n=5"], "--train-safety-n"),
    (["oops"], "not key=value"),
])
def test_bad_options_fail_in_one_line(argv, message, capsys):
    with pytest.raises(ConfigError, match=message):
        parse_args(argv)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bench: ") and "\n" not in err


def test_quick_defaults_and_expected_duration():
    o = parse_args(["--quick"])
    assert (o.steps, o.warmup, o.rounds, o.sweep_ns, o.levers, o.gen_levers) == (8, 2, 2, [0, 100], [], [])
    full = parse_args([])
    assert "hf_grouped+bf16" in full.levers and "ours+bf16" in full.levers and full.gen_levers == ["fused"]
    # the full bench's default stays within the 12 minutes the bench README promises (idle 2-core machine)
    assert 8 * 60 < expected_seconds(full) <= 12 * 60
    assert expected_seconds(parse_args(["--steps", "400"])) > expected_seconds(full)
    assert expected_seconds(parse_args(["--skip", "train,generation,data,sweep,rss"])) == 0


def test_parse_impl_reads_loop_and_levers():
    assert parse_impl("ours") == ("ours", [])
    assert parse_impl("hf_grouped+bf16+compile") == ("hf_grouped", ["bf16", "compile"])
    with pytest.raises(ConfigError, match="loop 'mine'"):
        parse_impl("mine+bf16")


def _run(tps: float, flops: float, nonpad: float = 0.99) -> dict:
    return {"tokens_per_s": tps, "flops_per_s": flops, "cells": 100, "seconds": 1.0, "nonpad_fraction_epoch": nonpad,
            "peak_rss_mb": 600.0}


def test_summary_keys_are_medians_of_their_rounds():
    runs = {"ours": [_run(130, 4e10), _run(120, 3e10), _run(150, 5e10)],
            "hf": [_run(100, 3e10, 0.8)] * 3,
            "hf_grouped": [_run(100, 3e10), _run(100, 3e10), _run(125, 3e10)],
            "ours+bf16": [_run(150, 6e10), _run(140, 6e10)],
            "hf_grouped+bf16": [_run(100, 5e10), _run(70, 5e10)]}
    peaks = [{"fp32": 100.0, "bf16": 200.0}, {"fp32": 100.0, "bf16": 300.0}, {"fp32": 80.0, "bf16": 200.0}]
    r = summarize(runs, peaks)
    assert r["train_tokens_per_s_ratio_vs_hf_grouped_rounds"] == pytest.approx([1.3, 1.2, 1.2])
    assert r["train_tokens_per_s_ratio_vs_hf_grouped"] == pytest.approx(1.2)
    assert r["peak_matmul_gflops_fp32_rounds"] == [100.0, 100.0, 80.0] and r["peak_matmul_gflops_fp32"] == 100.0
    assert r["peak_matmul_gflops_bf16"] == 200.0
    assert r["train_flops_fraction_of_peak_fp32_rounds"] == pytest.approx([0.4, 0.3, 0.625])
    assert r["train_flops_fraction_of_peak_fp32"] == pytest.approx(0.4)
    assert r["train_flops_fraction_of_peak_bf16_rounds"] == pytest.approx([0.3, 0.2])  # rounds bf16 ran
    assert r["train_tokens_per_s_ratio_vs_hf"] == pytest.approx(1.3) and r["train_ratio_per_round"][2] == 1.5
    lever = r["train_levers"]["ours+bf16"]
    assert lever["ratio_vs_ours_rounds"] == pytest.approx([150 / 130, 140 / 120])
    assert lever["ratio_vs_hf_grouped_same_levers_rounds"] == pytest.approx([1.5, 2.0])
    assert "ratio_vs_hf_grouped_same_levers" not in r["train_levers"]["hf_grouped+bf16"]
    table = format_table(r)
    assert "1.20-1.30 (3)" in table and "lever ours+bf16: vs HF grouped with the same lever" in table


def test_table_marks_targets():
    results = {
        "train_tokens_per_s": 1500.0, "train_tokens_per_s_baseline": 1000.0, "train_tokens_per_s_ratio_vs_hf": 1.5,
        "train_tokens_per_s_hf_grouped": 1400.0, "train_tokens_per_s_ratio_vs_hf_grouped": 1.07,
        "train_tokens_per_s_ratio_vs_hf_grouped_rounds": [1.05, 1.07, 1.1],
        "train_cells_per_s": 1510.0, "train_cells_per_s_baseline": 1250.0, "nonpad_fraction": 0.93,
        "nonpad_fraction_baseline": 0.8, "train_peak_rss_mb": 700.0, "train_peak_rss_mb_baseline": 690.0,
        "generation_seconds": 1.0, "generation_seconds_baseline": 12.0, "generation_speedup_vs_sequential": 12.0,
        "generation_seconds_hf_generate": 2.5, "generation_speedup_vs_hf_generate": 2.5,
        "generation_identical": True,
    }
    lines = {line.split("  ")[0]: line for line in format_table(results).splitlines()}
    assert lines["train tokens/s vs HF Trainer, alpaca-lora set-up"].rstrip().endswith("PASS")
    assert lines["train tokens/s vs HF Trainer + group_by_length"].rstrip().endswith("MISS")
    assert "1.05-1.10 (3)" in lines["train tokens/s vs HF Trainer + group_by_length"]
    assert lines["non-pad fraction of training batches"].rstrip().endswith("MISS")
    assert lines["generation s vs model.generate, same batches"].rstrip().endswith("PASS")
    assert "12.00" in lines["generation s vs one prompt at a time"]


@pytest.mark.slow
def test_quick_bench_end_to_end(tmp_path, cache_dir):
    out = tmp_path / "results.json"
    assert main(["--quick", "--rounds", "1", "--steps", "3", "--warmup", "1", "--gen-limit", "8",
                 "--levers", "plain,ours+bf16", "--gen-levers", "fused",
                 "--work-dir", str(tmp_path / "work"), "--out", str(out), *BENCH_OVERRIDES]) == 0
    r = json.loads(out.read_text())
    for key in ("train_tokens_per_s_ratio_vs_hf", "nonpad_fraction", "nonpad_fraction_baseline",
                "generation_speedup_vs_sequential", "second_job_data_prep_seconds", "sweep_seconds", "peak_rss_mb",
                "train_tokens_per_s_ratio_vs_hf_grouped", "generation_speedup_vs_hf_generate",
                "train_flops_fraction_of_peak_fp32", "train_flops_fraction_of_peak_bf16",
                "peak_matmul_gflops_fp32", "peak_matmul_gflops_bf16"):
        assert r[key] is not None and r[key] > 0, key
    for key in NEW_KEYS:
        assert r[key] == statistics.median(r[f"{key}_rounds"]), key
    assert sorted(r["train_levers"]) == ["ours+bf16", "plain"] and "fused" in r["generation_levers"]
    assert r["generation_identical"] is True and r["demo_sweep_seconds"] is None
    assert sorted(r["sweep"]["jobs"]) == ["0", "100"]
    assert r["sweep"]["jobs"]["100"]["tokenize_cache_hits"] > 0
    assert (tmp_path / "work" / "sweep" / "data.safety_n=100" / "metrics.json").exists()
