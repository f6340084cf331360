"""Smoke tests of the `make bench` code paths on the tiny model: figures computed, baselines really run."""

from __future__ import annotations

import json
import math
import sys

import pytest

from bench.common import compose_train_cfg
from bench.data_prep import bench_data_prep
from bench.generation import bench_generation
from bench.jobs import dirname_excludes, run_measured
from bench.run import main, parse_args
from bench.table import format_table
from bench.train_speed import BASELINE_PAD_MULTIPLE, CountingCollator, baseline_collator, run_impl
from bench.worker import prepare
from safetuned.errors import ConfigError
from tests.conftest import TINY_OVERRIDES

# cutoff 128 keeps the demo's natural mix of lengths (at 96 most examples are cut to the same length)
BENCH_OVERRIDES = [*TINY_OVERRIDES, "data.cutoff_len=128", "num_threads=1"]


@pytest.fixture(scope="module")
def bench_cfg(tmp_path_factory, cache_dir):
    work = tmp_path_factory.mktemp("bench")
    cfg = compose_train_cfg([*BENCH_OVERRIDES, "data.safety_n=100"], work)
    return cfg, prepare(cfg), work


@pytest.fixture(scope="module")
def train_runs(bench_cfg):
    cfg, plan, work = bench_cfg
    return {impl: run_impl(impl, cfg, plan, steps=3, warmup=1, work_dir=work) for impl in ("ours", "hf")}


def test_both_training_loops_really_train_and_count_tokens(train_runs):
    for impl, run in train_runs.items():
        assert run.impl == impl
        assert run.global_step == 4, impl  # warm-up + timed optimizer steps, all taken
        assert run.seconds > 0 and run.tokens_per_s == pytest.approx(run.tokens / run.seconds)
        assert 0 < run.tokens <= run.cells
        assert run.peak_rss_mb > 50
    assert all(math.isfinite(loss) and loss > 0 for loss in train_runs["ours"].losses)
    assert len(train_runs["ours"].losses) == 3
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
    assert collate.counts == [(13, 32)]


def test_generation_bench_identical_texts_and_both_ways_ran(bench_cfg):
    cfg, _, _ = bench_cfg
    g = bench_generation(cfg, "malicious", rounds=1, limit=10, max_new_tokens=8)
    assert g.prompts == 10 and g.identical and g.mismatches == []
    assert g.generate_calls_sequential == 10
    assert g.generate_calls_batched == 1  # 10 prompts fit one batch of the configured size
    assert g.batched_s[0] > 0 and g.sequential_s[0] > 0 and g.speedup > 0
    assert g.prefill_batched_s > 0 and g.prefill_sequential_s > 0 and g.speedup_ceiling > 0
    with pytest.raises(ConfigError, match="--gen-suite='nope'"):
        bench_generation(cfg, "nope", rounds=1)


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
    (["--impls", "ours"], "must include ours and hf"),
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


def test_quick_defaults_and_table_marks_targets():
    o = parse_args(["--quick"])
    assert (o.steps, o.warmup, o.rounds, o.sweep_ns) == (8, 2, 2, [0, 100])
    results = {
        "train_tokens_per_s": 1500.0, "train_tokens_per_s_baseline": 1000.0, "train_tokens_per_s_ratio_vs_hf": 1.5,
        "train_cells_per_s": 1510.0, "train_cells_per_s_baseline": 1250.0, "nonpad_fraction": 0.93,
        "nonpad_fraction_baseline": 0.8, "train_peak_rss_mb": 700.0, "train_peak_rss_mb_baseline": 690.0,
        "generation_seconds": 1.0, "generation_seconds_baseline": 12.0, "generation_speedup_vs_sequential": 12.0,
        "generation_identical": True,
    }
    lines = {line.split("  ")[0]: line for line in format_table(results).splitlines()}
    assert lines["train tokens/s (non-pad) vs HF Trainer"].rstrip().endswith("PASS")
    assert lines["non-pad fraction of training batches"].rstrip().endswith("MISS")
    assert "12.00" in lines["generation s (batched vs sequential)"]


@pytest.mark.slow
def test_quick_bench_end_to_end(tmp_path, cache_dir):
    out = tmp_path / "results.json"
    assert main(["--quick", "--rounds", "1", "--steps", "3", "--warmup", "1", "--gen-limit", "8",
                 "--work-dir", str(tmp_path / "work"), "--out", str(out), *BENCH_OVERRIDES]) == 0
    r = json.loads(out.read_text())
    for key in ("train_tokens_per_s_ratio_vs_hf", "nonpad_fraction", "nonpad_fraction_baseline",
                "generation_speedup_vs_sequential", "second_job_data_prep_seconds", "sweep_seconds", "peak_rss_mb"):
        assert r[key] is not None and r[key] > 0, key
    assert r["generation_identical"] is True and r["demo_sweep_seconds"] is None
    assert sorted(r["sweep"]["jobs"]) == ["0", "100"]
    assert r["sweep"]["jobs"]["100"]["tokenize_cache_hits"] > 0
    assert (tmp_path / "work" / "sweep" / "data.safety_n=100" / "metrics.json").exists()
