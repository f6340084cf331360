"""The bench's sections besides training: base model, generation, data preparation, sweep, peak RSS, machine."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.common import compose_train_cfg, median


def ensure_base(o) -> dict[str, Any]:
    """Demo world and embedded base (built once, timed when built now)."""
    from bench.worker import prepare
    from safetuned.pipeline.build import build_model

    cfg = compose_train_cfg(o.overrides, o.work_dir / "base")
    prepare(cfg)
    started = time.perf_counter()
    _, tokenizer = build_model(cfg, with_lora=False)
    seconds = time.perf_counter() - started
    source = getattr(tokenizer, "name_or_path", "")
    return {"model_source": source, "build_or_load_s": seconds}


def bench_gen(o) -> dict[str, Any]:
    """Our batched greedy loop vs `model.generate` on the same batches vs one prompt at a time; texts compared."""
    from bench.generation import bench_generation

    cfg = compose_train_cfg(o.overrides, o.work_dir / "generation")
    g = bench_generation(cfg, o.gen_suite, o.rounds, o.gen_limit, o.gen_max_new_tokens, levers=o.gen_levers)
    print(f"  generation: ours {_r(g.batched_s)} s, model.generate {_r(g.hf_generate_s)} s, "
          f"sequential {_r(g.sequential_s)} s; identical {g.identical}", flush=True)
    for line in g.difference_lines():
        print(f"  texts differ: {line}", flush=True)
    out = {
        "generation_seconds": median(g.batched_s),
        "generation_seconds_baseline": median(g.sequential_s),
        "generation_speedup_vs_sequential": g.speedup,
        "generation_identical": g.identical,
        "generation_speedup_ceiling": g.speedup_ceiling,
        "generation_seconds_hf_generate": median(g.hf_generate_s),
        "generation_speedup_vs_hf_generate": median(g.ratios_vs_hf_generate()),
        "generation_speedup_vs_hf_generate_rounds": g.ratios_vs_hf_generate(),
        "generation_levers": g.lever_summary(),
        "generation": g.to_dict(),
    }
    return out


def _r(values: list[float]) -> list[float]:
    return [round(v, 2) for v in values]


def bench_data(o) -> dict[str, Any]:
    from bench.data_prep import bench_data_prep

    # at most 3 rounds: the cache's gain is large and steady, the rounds' time goes to the ratios that need them
    pairs = bench_data_prep(o.overrides, o.sweep_ns[0], o.sweep_ns[1], min(o.rounds, 3), o.work_dir / "data-prep")
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


def warm_token_cache(o) -> None:
    """Tokenize every sweep job's data into the shared cache first: the timed sweep runs on a warm cache."""
    from bench.data_prep import prepare_job

    cfg = compose_train_cfg(o.overrides, o.work_dir / "warm")
    for n in o.sweep_ns:
        prepare_job(o.overrides, n, Path(cfg.paths.cache_dir) / "tokenized", o.work_dir / "warm")


def bench_sweep(o) -> dict[str, Any]:
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


def bench_rss(o) -> dict[str, Any]:
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
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    return {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(), "cpu": cpu,
            "torch_threads": torch.get_num_threads(), "cuda": torch.cuda.is_available(),
            "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None, "git_commit": commit or None}
