"""`python -m bench.run [--quick] [key=value ...]`: speed and memory against the baselines; writes bench/results.json.

Runs on the embedded default (the tiny base is built once under SAFETUNED_CACHE or .cache/). Hydra overrides given
on the command line apply to every run. Timings are taken in interleaved rounds (every implementation once per
round, the order rotating) and reported as medians, with every round kept, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.table import TARGETS, format_table
from safetuned.errors import ConfigError, SafetunedError
from safetuned.utils.io import write_json_atomic

RESULTS = Path(__file__).resolve().parent / "results.json"
# --quick's sweep jobs: few steps and prompts, the real code paths (train, checkpoint, export, evaluate, report)
QUICK_JOB_OVERRIDES = ["trainer.max_steps=12", "val_every_n_steps=6", "eval.limit=8", "eval.harness.limit=8"]
SECTIONS = ("train", "generation", "data", "sweep", "rss")
DEFAULT_LEVERS = "plain,ours+packed,ours+bf16,hf_grouped+bf16"  # +compile: opt-in (its compile time)


@dataclass
class Options:
    """Everything the bench was asked to do."""

    overrides: list[str]
    quick: bool = False
    steps: int = 80
    warmup: int = 5
    rounds: int = 5
    train_safety_n: int = 500
    impls: list[str] = field(default_factory=lambda: ["ours", "hf", "hf_grouped"])
    levers: list[str] = field(default_factory=lambda: DEFAULT_LEVERS.split(","))
    lever_rounds: int = 3
    gen_levers: list[str] = field(default_factory=lambda: ["fused"])
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


def _names(text: str) -> list[str]:
    return [] if text.strip() in ("", "none") else [s.strip() for s in text.split(",") if s.strip()]


def parse_args(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument("overrides", nargs="*", help="Hydra overrides for every run, e.g. model.embedded.steps=150")
    p.add_argument("--quick", action="store_true",
                   help="small sizes: 2-job short sweep instead of the demo sweep, fewer steps, prompts, rounds, "
                        "no levers")
    p.add_argument("--steps", type=int, help="timed optimizer steps per training run (80; quick 8)")
    p.add_argument("--warmup", type=int, help="untimed optimizer steps first (5; quick 2)")
    p.add_argument("--rounds", type=int, help="interleaved repetitions of every timing (5; quick 2)")
    p.add_argument("--train-safety-n", type=int, default=500, help="safety examples in the training data (500)")
    p.add_argument("--impls", default="ours,hf,hf_grouped", help="training loops to time (ours,hf,hf_grouped)")
    p.add_argument("--levers", help=f"training levers, loop+lever (none to skip; default {DEFAULT_LEVERS})")
    p.add_argument("--lever-rounds", type=int, help="rounds that also run the levers (the first 3; quick 1)")
    p.add_argument("--gen-levers", help="generation levers: fused or none (fused; quick none)")
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
        o.levers, o.lever_rounds, o.gen_levers = [], 1, []
        o.sweep_ns, o.job_overrides = [0, 100], list(QUICK_JOB_OVERRIDES)
    for name in ("steps", "warmup", "rounds", "lever_rounds", "gen_limit", "gen_max_new_tokens"):
        if getattr(a, name) is not None:
            setattr(o, name, getattr(a, name))
    o.impls, o.skip = _names(a.impls), _names(a.skip)
    if a.levers is not None:
        o.levers = _names(a.levers)
    if a.gen_levers is not None:
        o.gen_levers = _names(a.gen_levers)
    if a.sweep_ns:
        try:
            o.sweep_ns = [int(x) for x in a.sweep_ns.split(",")]
        except ValueError:
            raise ConfigError(f"--sweep-ns={a.sweep_ns!r} must be comma-separated integers, e.g. 0,100") from None
    validate(o)
    return o


def validate(o: Options) -> None:
    """One-line errors for bad bench options, before anything is built."""
    from bench.generation import GEN_LEVERS
    from bench.train_speed import parse_impl

    for name in ("steps", "warmup", "rounds", "lever_rounds"):
        if getattr(o, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')}={getattr(o, name)} must be >= 1")
    bad = [s for s in o.skip if s not in SECTIONS]
    if bad:
        raise ConfigError(f"--skip {bad}: unknown section(s); allowed: {', '.join(SECTIONS)}")
    bad = [i for i in o.impls if i not in ("ours", "hf", "hf_grouped")]
    if bad or "ours" not in o.impls or "hf_grouped" not in o.impls:
        raise ConfigError(f"--impls={','.join(o.impls)}: must include ours and hf_grouped; allowed: ours,hf,hf_grouped")
    for impl in o.levers:
        parse_impl(impl)
        if "+" not in impl and impl != "plain":
            raise ConfigError(f"--levers {impl!r}: a lever is loop+lever (e.g. ours+bf16) or plain")
    bad = [x for x in o.gen_levers if x not in GEN_LEVERS]
    if bad:
        raise ConfigError(f"--gen-levers {bad}: unknown; allowed: {', '.join(GEN_LEVERS)} or none")
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


# Seconds on an idle 2-core machine with the embedded default (2 torch threads): the expected-duration estimate.
STEP_S, RUN_SETUP_S, WORKER_START_S, COMPILE_S, PEAK_S = 0.065, 3.0, 8.0, 60.0, 3.0
GEN_ROUND_S, DATA_ROUND_S, SWEEP_S, QUICK_SWEEP_S, RSS_JOB_S = 6.0, 6.0, 290.0, 60.0, 60.0


def expected_seconds(o: Options) -> float:
    """About how long the sections asked for take on an idle 2-core machine (more when busy)."""
    total = 0.0
    if "train" not in o.skip:
        run_s = (o.warmup + o.steps) * STEP_S + RUN_SETUP_S
        lever_rounds = min(o.lever_rounds, o.rounds)
        total += o.rounds * (len(o.impls) * run_s + PEAK_S) + lever_rounds * len(o.levers) * run_s
        total += WORKER_START_S * (len(o.impls) + len(o.levers)) + COMPILE_S * sum("compile" in x for x in o.levers)
    if "generation" not in o.skip:
        scale = (o.gen_limit or 200) / 200 * (o.gen_max_new_tokens or 64) / 64
        total += 15 + o.rounds * GEN_ROUND_S * scale * (1 + 0.1 * len(o.gen_levers))
    if "data" not in o.skip:
        total += min(o.rounds, 3) * DATA_ROUND_S
    if "sweep" not in o.skip:
        total += QUICK_SWEEP_S if o.quick else SWEEP_S * len(o.sweep_ns) / 4
    if "rss" not in o.skip:
        total += RSS_JOB_S
    return total


def run(o: Options) -> dict[str, Any]:
    """Every section not skipped, in order; results written after each so a long run keeps what it measured."""
    from bench import sections
    from bench.train_bench import bench_training

    o.work_dir = o.work_dir or Path("outputs") / "bench" / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    o.work_dir.mkdir(parents=True, exist_ok=True)
    expected = expected_seconds(o)
    print(f"[bench] expected duration: about {expected / 60:.0f} min on an idle 2-core machine with the embedded "
          f"default (longer on a busy one, or the first time the base model is built)", flush=True)
    results: dict[str, Any] = {
        "mode": "quick" if o.quick else "full", "overrides": o.overrides, "job_overrides": o.job_overrides,
        "steps": o.steps, "warmup": o.warmup, "rounds": o.rounds, "lever_rounds": min(o.lever_rounds, o.rounds),
        "levers": o.levers, "gen_levers": o.gen_levers, "train_safety_n": o.train_safety_n,
        "targets": dict(TARGETS), "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "expected_seconds": expected, "machine_start": sections.machine_info(), "work_dir": str(o.work_dir),
    }
    steps = [("base", sections.ensure_base), ("train", bench_training), ("generation", sections.bench_gen),
             ("data", sections.bench_data), ("sweep", sections.bench_sweep), ("rss", sections.bench_rss)]
    started_all = time.perf_counter()
    for name, fn in steps:
        if name in o.skip:
            continue
        print(f"[bench] {name} ...", flush=True)
        started = time.perf_counter()
        out = fn(o)
        results.update(out if name != "base" else {"base": out})
        results.setdefault("section_seconds", {})[name] = time.perf_counter() - started
        write_json_atomic(o.out, results)
    results["total_seconds"] = time.perf_counter() - started_all
    results["passed"] = {k: results[k] >= v for k, v in TARGETS.items() if results.get(k) is not None}
    if "generation_identical" in results:
        results["passed"]["generation_identical"] = bool(results["generation_identical"])
    results["machine_end"] = sections.machine_info()
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
    print(f"\nresults: {options.out} ({results['total_seconds'] / 60:.1f} min)")
    # Targets are performance goals on a possibly shared machine; differing texts are a correctness failure.
    return 1 if results.get("generation_identical") is False else 0


if __name__ == "__main__":
    sys.exit(main())
