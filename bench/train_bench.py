"""The training section: interleaved rounds of every loop and lever, the machine's matmul peak each round, medians.

Each implementation runs in its own serving worker (`bench.worker --serve`), so imports are paid once per
implementation while no two implementations share a process. Every round measures the fp32 and bf16 matmul peak
first, then runs each implementation once (the order rotates per round); ratios are taken per round from these
interleaved runs, and a key's value is the median of its `<key>_rounds` list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import median
from safetuned.errors import SafetunedError

CORE_IMPLS = ("ours", "hf", "hf_grouped")
PEER = "hf_grouped"  # the peer a careful user would configure: Trainer + peft with group_by_length=True


class Workers:
    """One `python -m bench.worker --serve` process per implementation (or this process with `in_process`)."""

    def __init__(self, log_dir: Path, in_process: bool = False):
        self.log_dir, self.in_process = log_dir, in_process
        self.procs: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.logs: list = []

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        from bench.worker import ERROR_MARKER, MARKER, run_spec

        if self.in_process:
            return run_spec(spec)
        impl = spec["impl"]
        if impl not in self.procs:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = self.log_dir / f"{impl}.log"
            self.logs.append(log.open("w"))
            proc = subprocess.Popen([sys.executable, "-m", "bench.worker", "--serve"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=self.logs[-1], text=True, bufsize=1)
            self.procs[impl] = (proc, log)
        proc, log = self.procs[impl]
        proc.stdin.write(json.dumps(spec) + "\n")
        proc.stdin.flush()
        for line in proc.stdout:
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER):])
            if line.startswith(ERROR_MARKER):
                raise SafetunedError(f"training run {impl} failed: {json.loads(line[len(ERROR_MARKER):])}; log {log}")
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-2:])
        raise SafetunedError(f"training worker {impl} died (exit {proc.poll()}); log {log}: {tail}")

    def close(self, kill: bool = False) -> None:
        """End every worker: closing its stdin ends its loop (or kill it, after a failure)."""
        for proc, _ in self.procs.values():
            if kill:
                proc.kill()
            else:
                proc.stdin.close()
            proc.wait(timeout=60)
        self.procs.clear()
        for f in self.logs:
            f.close()
        self.logs.clear()


def measure_peaks(overrides: list[str], work_dir: Path) -> dict[str, float]:
    """fp32 and bf16 matmul peak (GFLOP/s) with the torch threads the training runs use."""
    import torch

    from bench.common import compose_train_cfg
    from bench.flops import matmul_peak
    from safetuned.pipeline.build import configure_threads

    configure_threads(compose_train_cfg(overrides, work_dir))
    return {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}


def keyed(out: dict[str, Any], key: str, rounds: list[float]) -> None:
    """`key` = median of its rounds, `<key>_rounds` = the rounds themselves."""
    if rounds:
        out[key], out[f"{key}_rounds"] = median(rounds), list(rounds)


def _ratios(runs: dict[str, list[dict]], a: str, b: str, field: str = "tokens_per_s") -> list[float]:
    """Per-round ratios of two implementations' interleaved runs (rounds both ran)."""
    return [x[field] / y[field] for x, y in zip(runs.get(a, []), runs.get(b, []))]


def summarize(runs: dict[str, list[dict]], peaks: list[dict[str, float]]) -> dict[str, Any]:
    """Today's keys, the fair-peer and FLOP keys (each with `_rounds`), and one entry per lever."""
    def med(impl: str, field: str) -> float:
        return median([x[field] for x in runs[impl]])

    out: dict[str, Any] = {"train_tokens_per_s": med("ours", "tokens_per_s"),
                           "train_cells_per_s": median([x["cells"] / x["seconds"] for x in runs["ours"]]),
                           "nonpad_fraction": med("ours", "nonpad_fraction_epoch"),
                           "train_peak_rss_mb": med("ours", "peak_rss_mb"), "train_flops_per_s": med("ours", "flops_per_s"),
                           "train_runs": runs}
    if "hf" in runs:  # the paper's set-up (alpaca-lora: random batches)
        out.update({
            "train_tokens_per_s_baseline": med("hf", "tokens_per_s"),
            "train_tokens_per_s_ratio_vs_hf": med("ours", "tokens_per_s") / med("hf", "tokens_per_s"),
            "train_ratio_per_round": _ratios(runs, "ours", "hf"),
            "train_ratio_median_of_rounds": median(_ratios(runs, "ours", "hf")),
            "nonpad_fraction_baseline": med("hf", "nonpad_fraction_epoch"),
            "train_peak_rss_mb_baseline": med("hf", "peak_rss_mb"),
            "train_cells_per_s_baseline": median([x["cells"] / x["seconds"] for x in runs["hf"]]),
        })
    if PEER in runs:
        out["train_tokens_per_s_hf_grouped"] = med(PEER, "tokens_per_s")
        out["nonpad_fraction_hf_grouped"] = med(PEER, "nonpad_fraction_epoch")
        keyed(out, "train_tokens_per_s_ratio_vs_hf_grouped", _ratios(runs, "ours", PEER))
    keyed(out, "peak_matmul_gflops_fp32", [p["fp32"] for p in peaks])
    keyed(out, "peak_matmul_gflops_bf16", [p["bf16"] for p in peaks])
    keyed(out, "train_flops_fraction_of_peak_fp32",
          [x["flops_per_s"] / 1e9 / p["fp32"] for x, p in zip(runs["ours"], peaks)])
    if "ours+bf16" in runs:
        keyed(out, "train_flops_fraction_of_peak_bf16",
              [x["flops_per_s"] / 1e9 / p["bf16"] for x, p in zip(runs["ours+bf16"], peaks)])
    levers: dict[str, dict[str, Any]] = {}
    for impl in runs:
        if impl in CORE_IMPLS:
            continue
        entry: dict[str, Any] = {"tokens_per_s": med(impl, "tokens_per_s"), "flops_per_s": med(impl, "flops_per_s"),
                                 "nonpad_fraction": med(impl, "nonpad_fraction_epoch")}
        keyed(entry, "ratio_vs_ours", _ratios(runs, impl, "ours"))
        keyed(entry, "ratio_vs_hf_grouped", _ratios(runs, impl, PEER))
        loop, _, levers_of = impl.partition("+")
        same = f"{PEER}+{levers_of}"  # the peer with the same lever, where it supports it
        if loop == "ours" and same in runs:
            keyed(entry, "ratio_vs_hf_grouped_same_levers", _ratios(runs, impl, same))
        levers[impl] = entry
    out["train_levers"] = levers
    return out


def bench_training(o) -> dict[str, Any]:
    """Interleaved rounds of the core implementations and the levers (levers in the first `o.lever_rounds`)."""
    runs: dict[str, list[dict]] = {}
    peaks: list[dict[str, float]] = []
    work = Path(o.work_dir) / "train"
    overrides = [*o.overrides, f"data.safety_n={o.train_safety_n}"]
    workers, failed = Workers(work / "logs", o.in_process), True
    try:
        for r in range(o.rounds):
            peaks.append(measure_peaks(o.overrides, work))
            impls = list(o.impls) + (list(o.levers) if r < o.lever_rounds else [])
            order = impls[r % len(impls):] + impls[: r % len(impls)]
            print(f"  round {r + 1}/{o.rounds}: matmul peak fp32 {peaks[-1]['fp32']:.1f}, "
                  f"bf16 {peaks[-1]['bf16']:.1f} GFLOP/s", flush=True)
            for impl in order:
                spec = {"impl": impl, "overrides": overrides, "work_dir": str(work / impl.replace("+", "-")),
                        "steps": o.steps, "warmup": o.warmup}
                run = workers.run(spec)
                runs.setdefault(impl, []).append(run)
                print(f"    {impl:>20}: {run['tokens_per_s']:9.0f} tokens/s, {run['flops_per_s'] / 1e9:6.2f} GFLOP/s "
                      f"(nonpad {run['nonpad_fraction_timed']:.3f}, {run['seconds']:.1f}s)", flush=True)
        failed = False
    finally:
        workers.close(kill=failed)
    return summarize(runs, peaks)
