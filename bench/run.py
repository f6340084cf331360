"""`python -m bench.run [--quick] [key=value ...]`: speed and memory against the baselines; writes bench/results.json.

Runs on the embedded default (the tiny base is built once under SAFETUNED_CACHE or .cache/). Hydra overrides given
on the command line apply to every run. Timings are taken interleaved (ours, baseline, ours, baseline, ...) and
reported as medians, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import compose_train_cfg, median
from bench.table import TARGETS, format_table
from safetuned.errors import ConfigError, SafetunedError
from safetuned.utils.io import write_json_atomic

RESULTS = Path(__file__).resolve().parent / "results.json"
# --quick's sweep jobs: few steps and prompts, the real code paths (train, checkpoint, export, evaluate, report)
QUICK_JOB_OVERRIDES = ["trainer.max_steps=12", "val_every_n_steps=6", "eval.limit=8", "eval.harness.limit=8"]
SECTIONS = ("train", "generation", "data", "sweep", "rss")


@dataclass
class Options:
    """Everything the bench was asked to do."""

    overrides: list[str]
    quick: bool = False
    steps: int = 40
    warmup: int = 5
    rounds: int = 3
    train_safety_n: int = 500
    impls: list[str] = field(default_factory=lambda: ["ours", "hf", "hf_grouped"])
    in_process: bool = False
    gen_suite: str = "malicious"
    gen_limit: int | None = None
    gen_max_new_tokens: int | None = None
    sweep_ns: list[int] = field(default_factory=lambda: [0, 100, 500, 2000])
    job_overrides: list[str] = field(default_factory=list)
    rss_max_steps: int | None = 100
    skip: list[str] = field(default_factory=list)
    out: Path = RESULTS
    work_dir: Path | None = None


def parse_args(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument("overrides", nargs="*", help="Hydra overrides for every run, e.g. model.embedded.steps=150")
    p.add_argument("--quick", action="store_true",
                   help="small sizes: 2-job short sweep instead of the demo sweep, fewer steps, prompts, rounds")
    p.add_argument("--steps", type=int, help="timed optimizer steps per training run (40; quick 8)")
    p.add_argument("--warmup", type=int, help="untimed optimizer steps first (5; quick 2)")
    p.add_argument("--rounds", type=int, help="interleaved repetitions of every timing (3; quick 2)")
    p.add_argument("--train-safety-n", type=int, default=500, help="safety examples in the training data (500)")
    p.add_argument("--impls", default="ours,hf,hf_grouped", help="training loops to time (ours,hf,hf_grouped)")
    p.add_argument("--in-process", action="store_true", help="time training runs in this process, not one each")
    p.add_argument("--gen-suite", default="malicious", help="eval suite whose prompts are generated (malicious)")
    p.add_argument("--gen-limit", type=int, help="first prompts of the suite (all; quick 32)")
    p.add_argument("--gen-max-new-tokens", type=int, help="max new tokens (eval.generation's; quick 24)")
    p.add_argument("--sweep-ns", help="N of the timed sweep (0,100,500,2000; quick 0,100)")
    p.add_argument("--rss-max-steps", type=int, default=100,
                   help="training steps of the peak-RSS job (memory peaks in the first steps and the eval)")
    p.add_argument("--skip", default="", help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    p.add_argument("--out", type=Path, default=RESULTS, help="results file (bench/results.json)")
    p.add_argument("--work-dir", type=Path, help="runs and logs (outputs/bench/<time>)")
    a = p.parse_args(argv)
    o = Options(overrides=list(a.overrides), quick=a.quick, in_process=a.in_process, out=a.out,
                work_dir=a.work_dir, train_safety_n=a.train_safety_n, gen_suite=a.gen_suite,
                rss_max_steps=a.rss_max_steps)
    if a.quick:
        o.steps, o.warmup, o.rounds, o.gen_limit, o.gen_max_new_tokens = 8, 2, 2, 32, 24
        o.sweep_ns, o.job_overrides = [0, 100], list(QUICK_JOB_OVERRIDES)
    o.steps = a.steps if a.steps is not None else o.steps
    o.warmup = a.warmup if a.warmup is not None else o.warmup
    o.rounds = a.rounds if a.rounds is not None else o.rounds
    o.gen_limit = a.gen_limit if a.gen_limit is not None else o.gen_limit
    o.gen_max_new_tokens = a.gen_max_new_tokens if a.gen_max_new_tokens is not None else o.gen_max_new_tokens
    o.impls = [s.strip() for s in a.impls.split(",") if s.strip()]
    o.skip = [s.strip() for s in a.skip.split(",") if s.strip()]
    if a.sweep_ns:
        try:
            o.sweep_ns = [int(x) for x in a.sweep_ns.split(",")]
        except ValueError:
            raise ConfigError(f"--sweep-ns={a.sweep_ns!r} must be comma-separated integers, e.g. 0,100") from None
    validate(o)
    return o


def validate(o: Options) -> None:
    """One-line errors for bad bench options, before anything is built."""
    from bench.train_speed import IMPLS

    for name in ("steps", "warmup", "rounds"):
        if getattr(o, name) < 1:
            raise ConfigError(f"--{name}={getattr(o, name)} must be >= 1")
    bad = [s for s in o.skip if s not in SECTIONS]
    if bad:
        raise ConfigError(f"--skip {bad}: unknown section(s); allowed: {', '.join(SECTIONS)}")
    bad = [i for i in o.impls if i not in IMPLS]
    if bad or "ours" not in o.impls or "hf" not in o.impls:
        raise ConfigError(f"--impls={','.join(o.impls)}: must include ours and hf; allowed: {', '.join(IMPLS)}")
    if len(o.sweep_ns) < 2 or any(n < 0 for n in o.sweep_ns):
        raise ConfigError(f"--sweep-ns={o.sweep_ns}: needs at least two values >= 0 (a first and a later job)")
    for ov in o.overrides:
        if "=" not in ov:
            raise ConfigError(f"override {ov!r} is not key=value (Hydra syntax)")
        if ov.split("=", 1)[0].lstrip("+~") == "data.safety_n":
            raise ConfigError("data.safety_n is set by the bench: use --train-safety-n and --sweep-ns instead")
    for name in ("gen_limit", "gen_max_new_tokens", "rss_max_steps"):
        value = getattr(o, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')}={value} must be >= 1")


# --- sections -------------------------------------------------------------------------------------------------------
def ensure_base(o: Options) -> dict[str, Any]:
    """Demo world and embedded base (built once, timed when built now)."""
    from bench.worker import prepare
    from safetuned.train import build_model

    cfg = compose_train_cfg(o.overrides, o.work_dir / "base")
    prepare(cfg)
    started = time.perf_counter()
    _, tokenizer = build_model(cfg, with_lora=False)
    seconds = time.perf_counter() - started
    source = getattr(tokenizer, "name_or_path", "")
    return {"model_source": source, "build_or_load_s": seconds}


def _train_spec(o: Options, impl: str, r: int) -> dict[str, Any]:
    return {"impl": impl, "overrides": [*o.overrides, f"data.safety_n={o.train_safety_n}"],
            "work_dir": str(o.work_dir / "train" / f"{impl}-{r}"), "steps": o.steps, "warmup": o.warmup}


def _run_train_spec(spec: dict[str, Any], in_process: bool) -> dict[str, Any]:
    from bench.worker import MARKER, run_spec

    if in_process:
        return run_spec(spec)
    log = Path(spec["work_dir"]).with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        proc = subprocess.run([sys.executable, "-m", "bench.worker", json.dumps(spec)], stdout=subprocess.PIPE,
                              stderr=f, text=True, check=False)
    lines = [x for x in proc.stdout.splitlines() if x.startswith(MARKER)]
    if proc.returncode or not lines:
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-2:])
        raise SafetunedError(f"training run {spec['impl']} failed (exit {proc.returncode}); log {log}: {tail}")
    return json.loads(lines[-1][len(MARKER):])


def bench_training(o: Options) -> dict[str, Any]:
    """Interleaved rounds of every training loop (the order rotates per round); medians of tokens/s."""
    runs: dict[str, list[dict]] = {i: [] for i in o.impls}
    for r in range(o.rounds):
        order = o.impls[r % len(o.impls):] + o.impls[: r % len(o.impls)]
        for impl in order:
            run = _run_train_spec(_train_spec(o, impl, r), o.in_process)
            runs[impl].append(run)
            print(f"  train round {r + 1}/{o.rounds} {impl:>10}: {run['tokens_per_s']:9.0f} tokens/s "
                  f"(nonpad {run['nonpad_fraction_timed']:.3f}, {run['seconds']:.1f}s)", flush=True)
    tps = {i: median([x["tokens_per_s"] for x in runs[i]]) for i in o.impls}
    out: dict[str, Any] = {
        "train_tokens_per_s": tps["ours"],
        "train_tokens_per_s_baseline": tps["hf"],
        "train_tokens_per_s_ratio_vs_hf": tps["ours"] / tps["hf"],
        # per-round ratios of the interleaved pairs: their spread shows the noise of a shared machine
        "train_ratio_per_round": [a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(runs["ours"], runs["hf"])],
        "train_ratio_median_of_rounds": median([a["tokens_per_s"] / b["tokens_per_s"]
                                                for a, b in zip(runs["ours"], runs["hf"])]),
        "nonpad_fraction": median([x["nonpad_fraction_epoch"] for x in runs["ours"]]),
        "nonpad_fraction_baseline": median([x["nonpad_fraction_epoch"] for x in runs["hf"]]),
        "train_peak_rss_mb": median([x["peak_rss_mb"] for x in runs["ours"]]),
        "train_peak_rss_mb_baseline": median([x["peak_rss_mb"] for x in runs["hf"]]),
        "train_runs": runs,
    }
    out["train_cells_per_s"] = median([x["cells"] / x["seconds"] for x in runs["ours"]])
    out["train_cells_per_s_baseline"] = median([x["cells"] / x["seconds"] for x in runs["hf"]])
    if "hf_grouped" in runs:
        out["train_tokens_per_s_hf_grouped"] = tps["hf_grouped"]
        out["train_tokens_per_s_ratio_vs_hf_grouped"] = tps["ours"] / tps["hf_grouped"]
        out["nonpad_fraction_hf_grouped"] = median([x["nonpad_fraction_epoch"] for x in runs["hf_grouped"]])
    return out


def bench_gen(o: Options) -> dict[str, Any]:
    from bench.generation import bench_generation

    cfg = compose_train_cfg(o.overrides, o.work_dir / "generation")
    g = bench_generation(cfg, o.gen_suite, o.rounds, o.gen_limit, o.gen_max_new_tokens)
    print(f"  generation: batched {g.batched_s}, sequential {g.sequential_s}, identical {g.identical}", flush=True)
    return {
        "generation_seconds": median(g.batched_s),
        "generation_seconds_baseline": median(g.sequential_s),
        "generation_speedup_vs_sequential": g.speedup,
        "generation_identical": g.identical,
        "generation_speedup_ceiling": g.speedup_ceiling,
        "generation": g.to_dict(),
    }


def bench_data(o: Options) -> dict[str, Any]:
    from bench.data_prep import bench_data_prep

    pairs = bench_data_prep(o.overrides, o.sweep_ns[0], o.sweep_ns[1], o.rounds, o.work_dir / "data-prep")
    first = median([a.data_prep_s for a, _ in pairs])
    second = median([b.data_prep_s for _, b in pairs])
    print(f"  data prep: first job {[round(a.data_prep_s, 2) for a, _ in pairs]} s, "
          f"second job {[round(b.data_prep_s, 2) for _, b in pairs]} s", flush=True)
    return {
        "second_job_data_prep_seconds": second,
        "first_job_data_prep_seconds": first,
        "data_prep_speedup_second_job": first / second if second else None,
        "second_job_tokenize_cache_hits": pairs[0][1].cache_hits,
        "data_prep_rounds": [{"first": a.to_dict(), "second": b.to_dict()} for a, b in pairs],
    }


def warm_token_cache(o: Options) -> None:
    """Tokenize every sweep job's data into the shared cache first: the timed sweep runs on a warm cache."""
    from bench.data_prep import prepare_job

    cfg = compose_train_cfg(o.overrides, o.work_dir / "warm")
    for n in o.sweep_ns:
        prepare_job(o.overrides, n, Path(cfg.paths.cache_dir) / "tokenized", o.work_dir / "warm")


def bench_sweep(o: Options) -> dict[str, Any]:
    from bench.jobs import run_sweep

    warm_token_cache(o)
    sweep = run_sweep(o.sweep_ns, [*o.overrides, *o.job_overrides], o.work_dir / "sweep")
    print(f"  sweep {o.sweep_ns}: {sweep.process.seconds:.1f}s, peak RSS {sweep.process.peak_rss_mb:.0f} MB",
          flush=True)
    return {
        "demo_sweep_seconds": None if o.quick else sweep.process.seconds,
        "sweep_seconds": sweep.process.seconds,
        "sweep_ns": o.sweep_ns,
        "sweep_peak_rss_mb": sweep.process.peak_rss_mb,
        "sweep": sweep.to_dict(),
    }


def bench_rss(o: Options) -> dict[str, Any]:
    from bench.jobs import run_single_job

    steps = [f"trainer.max_steps={o.rss_max_steps}"] if o.rss_max_steps and not o.quick else []
    overrides = [*o.overrides, *o.job_overrides, *steps, f"data.safety_n={max(o.sweep_ns)}"]
    run = run_single_job(overrides, o.work_dir / "rss-job")
    print(f"  training job N={max(o.sweep_ns)}: peak RSS {run.peak_rss_mb:.0f} MB ({run.seconds:.1f}s)", flush=True)
    return {"peak_rss_mb": run.peak_rss_mb, "peak_rss_job": run.to_dict()}


def machine_info() -> dict[str, Any]:
    import platform

    import torch

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "cuda": torch.cuda.is_available(),
            "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None, "git_commit": commit or None}


def run(o: Options) -> dict[str, Any]:
    """Every section not skipped, in order; results written after each so a long run keeps what it measured."""
    o.work_dir = o.work_dir or Path("outputs") / "bench" / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    o.work_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "mode": "quick" if o.quick else "full", "overrides": o.overrides, "job_overrides": o.job_overrides,
        "steps": o.steps, "warmup": o.warmup, "rounds": o.rounds, "train_safety_n": o.train_safety_n,
        "targets": dict(TARGETS), "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "machine_start": machine_info(), "work_dir": str(o.work_dir),
    }
    sections = [("base", ensure_base), ("train", bench_training), ("generation", bench_gen),
                ("data", bench_data), ("sweep", bench_sweep), ("rss", bench_rss)]
    for name, fn in sections:
        if name in o.skip:
            continue
        print(f"[bench] {name} ...", flush=True)
        started = time.perf_counter()
        out = fn(o)
        results.update(out if name != "base" else {"base": out})
        results.setdefault("section_seconds", {})[name] = time.perf_counter() - started
        write_json_atomic(o.out, results)
    results["passed"] = {k: results[k] >= v for k, v in TARGETS.items() if results.get(k) is not None}
    if "generation_identical" in results:
        results["passed"]["generation_identical"] = bool(results["generation_identical"])
    results["machine_end"] = machine_info()
    write_json_atomic(o.out, results)
    return results


def main(argv: list[str] | None = None) -> int:
    try:
        options = parse_args(argv)
        results = run(options)
    except SafetunedError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    print()
    print(format_table(results))
    print(f"\nresults: {options.out}")
    # Targets are performance goals on a possibly shared machine; differing texts are a correctness failure.
    return 1 if results.get("generation_identical") is False else 0


if __name__ == "__main__":
    sys.exit(main())
