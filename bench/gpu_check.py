"""`make gpu-check` (`python -m bench.gpu_check [--dry-run]`): the GPU path end to end, at ~1B parameters.

On one CUDA device, with a random-weight LLaMA-architecture model (~1.0B parameters, bf16, gradient checkpointing)
and a byte-level BPE tokenizer built here and saved locally (no download, no hub): a LoRA training job through
`python -m safetuned.train model=local`, the same on 8-bit and 4-bit bases when bitsandbytes imports, our batched
generation against `model.generate` on the same batches, the evaluation of the saved adapter through
`safetuned.evaluate` (checking the base loads in the configured dtype) and DDP on all visible devices. Prints
tokens/s, MFU against the device's bf16 peak, peak memory and one PASS/FAIL/SKIP line per path. `--dry-run` runs
the same steps on the CPU at a tiny size (the test suite runs it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NO_GPU = ("gpu-check: no CUDA device (torch.cuda.is_available() is False); "
          "run `python -m bench.gpu_check --dry-run` for the CPU rehearsal of the same steps")


@dataclass
class Check:
    """One path's verdict: PASS, FAIL or SKIP, a one-line detail and its numbers."""

    name: str
    status: str
    detail: str
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass
class Setup:
    """What every check shares: the run's folder, device, model folder and sizes."""

    out: Path
    dry_run: bool
    device: str
    model_dir: Path
    params: int
    steps: int
    quant_steps: int
    gen_prompts: int
    peak_tflops: float
    peak_source: str

    def job_overrides(self, name: str, steps: int, *extra: str, trainer: tuple[str, ...] = (),
                      eval_: str = "eval=none") -> list[str]:
        """`safetuned.train` overrides for a job on the local model: bf16, gradient checkpointing, LoRA on q,k,v,o."""
        trainer = trainer or (("trainer=cpu",) if self.dry_run else ("trainer=gpu",))
        return [
            "model=local", f"model.pretrained={self.model_dir}", "model.dtype=bfloat16",
            "model.gradient_checkpointing=true", "model.attn_implementation=sdpa",
            "model.lora_target_modules=[q_proj,k_proj,v_proj,o_proj]", "lora=paper", "data=demo",
            "data.safety_n=100", f"data.base.n={400 if self.dry_run else 4000}", "data.val_size=32",
            "data.cutoff_len=256", "data.micro_batch_size=16", "data.batch_size=16", eval_, "logger=csv",
            "resume=never", f"trainer.max_steps={steps}", "trainer.max_epochs=1000", f"val_every_n_steps={steps}",
            *trainer, *extra, f"hydra.run.dir={self.out / name}",
        ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.gpu_check", description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="the same steps on the CPU with a tiny model")
    p.add_argument("--steps", type=int, help="optimizer steps of the bf16 LoRA job (300; dry run 20)")
    p.add_argument("--quant-steps", type=int, help="optimizer steps of the 8/4-bit and DDP jobs (50; dry run 4)")
    p.add_argument("--gen-prompts", type=int, help="prompts generated (256; dry run 16)")
    p.add_argument("--out", type=Path, help="run folder (outputs/gpu-check/<time>)")
    return p.parse_args(argv)


def setup(a: argparse.Namespace) -> Setup:
    """The run folder, the demo world and the local model; the device's bf16 peak (table, else measured)."""
    import torch

    from bench.common import compose_train_cfg
    from bench.flops import matmul_peak
    from bench.gpu_model import bf16_peak_tflops, build_local_llama
    from safetuned.data.demo import ensure_demo_world

    out = (a.out or Path("outputs") / "gpu-check" / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg = compose_train_cfg([], out / "compose")
    ensure_demo_world(cfg.paths.demo_dir, seed=int(cfg.data.demo_seed))
    device = "cpu" if a.dry_run else "cuda"
    model_dir, params = build_local_llama(out / "model", cfg.paths.demo_dir, "tiny" if a.dry_run else "1b",
                                          torch.bfloat16, device)
    name = "CPU" if a.dry_run else torch.cuda.get_device_name(0)
    peak, source = bf16_peak_tflops(name), "data sheet"
    if peak is None:
        sizes = (256, 512) if a.dry_run else (4096, 8192)
        peak, source = matmul_peak(torch.bfloat16, sizes, 0.2, device) / 1000, "measured bf16 matmul"
    return Setup(out, a.dry_run, device, model_dir, params, a.steps or (20 if a.dry_run else 300),
                 a.quant_steps or (4 if a.dry_run else 50), a.gen_prompts or (16 if a.dry_run else 256),
                 peak, source)


def run_job(s: Setup, name: str, overrides: list[str]) -> tuple[dict[str, Any] | None, str, float]:
    """One `python -m safetuned.train` job: its metrics (None when it did not complete), a failure line, peak GB."""
    from bench.gpu_model import poll_memory
    from bench.jobs import _tail, run_measured, train_command
    from safetuned.utils.io import read_json

    with poll_memory() as memory:
        run = run_measured(train_command(overrides), s.out / f"{name}.log")
    job = s.out / name
    status = (read_json(job / "status.json") if (job / "status.json").exists() else {}).get("status")
    if run.returncode != 0 or status != "completed" or not (job / "metrics.json").exists():
        return None, f"exit {run.returncode}, status {status}; log {run.log}: {_tail(run.log, 1)}", memory.peak_gb
    return read_json(job / "metrics.json"), "", memory.peak_gb


def flops_per_token(s: Setup, overrides: list[str], mean_length: float) -> float:
    """Model FLOPs per trained token (bench.flops) of the job's LoRA model, attention at the mean example length."""
    import torch

    from bench.common import compose_train_cfg
    from bench.flops import flop_model
    from safetuned.pipeline.build import build_model

    model, _ = build_model(compose_train_cfg(overrides, s.out / "flops"))
    fm = flop_model(model.to(s.device))
    del model
    if s.device == "cuda":
        torch.cuda.empty_cache()
    return fm.per_token + fm.per_square * mean_length


def check_train(s: Setup, name: str, title: str, steps: int, *extra: str, mfu: bool = True,
                trainer: tuple[str, ...] = ()) -> Check:
    """A `safetuned.train` job of `steps` optimizer steps: tokens/s, peak memory and (with `mfu`) MFU."""
    overrides = s.job_overrides(name, steps, *extra, trainer=trainer)
    metrics, error, peak_gb = run_job(s, name, overrides)
    if metrics is None:
        return Check(title, "FAIL", error, {"peak_memory_gb": peak_gb})
    tps = metrics["train/tokens"] / metrics["time/train_s"]
    numbers = {"tokens_per_s": tps, "peak_memory_gb": peak_gb, "steps": metrics["train/steps"],
               "train_loss": metrics["train/loss"], "val_loss": metrics["val/loss"], "train_s": metrics["time/train_s"]}
    detail = f"{tps:,.0f} tokens/s, peak memory {peak_gb:.1f} GB, train/loss {metrics['train/loss']:.3f}"
    if mfu:
        per_token = flops_per_token(s, overrides, metrics["data/train_tokens"] / metrics["data/train_examples"])
        numbers.update(flops_per_token=per_token, mfu=tps * per_token / (s.peak_tflops * 1e12))
        detail += f", MFU {numbers['mfu']:.3f} of {s.peak_tflops:.0f} TFLOP/s bf16 ({s.peak_source})"
    ok = int(metrics["train/steps"]) == steps
    return Check(title, "PASS" if ok else "FAIL", detail if ok else f"{int(metrics['train/steps'])} of {steps} "
                 "steps", numbers)


def bitsandbytes_missing(s: Setup) -> str | None:
    if s.dry_run:
        return "dry run: bitsandbytes needs CUDA"
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        return "bitsandbytes does not import (pip install 'safetuned[quant]')"
    return None


def main(argv: list[str] | None = None) -> int:
    import torch

    from bench.gpu_steps import check_ddp, check_evaluate, check_generation

    a = parse_args(argv)
    if not a.dry_run and not torch.cuda.is_available():
        print(NO_GPU, file=sys.stderr)
        return 2
    started = time.perf_counter()
    s = setup(a)
    where = "CPU (dry run)" if s.dry_run else f"{torch.cuda.get_device_name(0)} x {torch.cuda.device_count()}"
    size = f"{s.params / 1e9:.2f}B" if s.params >= 1e8 else f"{s.params / 1e6:.2f}M"
    print(f"gpu-check on {where}, torch {torch.__version__}; random-weight LLaMA {size} params "
          f"(bf16) in {s.model_dir}; bf16 peak {s.peak_tflops:.1f} TFLOP/s ({s.peak_source})", flush=True)
    checks: list[Check] = []
    last = [time.perf_counter()]

    def record(check: Check) -> None:
        check.numbers["seconds"], last[0] = time.perf_counter() - last[0], time.perf_counter()
        checks.append(check)
        print(f"{check.status:<4}  {check.name}: {check.detail}", flush=True)

    record(check_train(s, "train-bf16", f"train bf16 LoRA, gradient checkpointing ({s.steps} steps)", s.steps))
    missing = bitsandbytes_missing(s)
    for bits in ("8bit", "4bit"):
        title = f"train {bits} base ({s.quant_steps} steps)"
        record(Check(title, "SKIP", missing) if missing else
               check_train(s, f"train-{bits}", title, s.quant_steps, f"model.quantization={bits}", mfu=False))
    record(check_generation(s))
    record(check_evaluate(s, "train-bf16", None))
    if not missing and checks[2].status == "PASS":
        record(check_evaluate(s, "train-4bit", "4bit"))
    record(check_ddp(s))
    failed = sum(c.status == "FAIL" for c in checks)
    summary = {"dry_run": s.dry_run, "device": where, "torch": torch.__version__, "params": s.params,
               "peak_tflops_bf16": s.peak_tflops, "peak_source": s.peak_source,
               "seconds": time.perf_counter() - started, "checks": [asdict(c) for c in checks]}
    (s.out / "gpu_check.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"gpu-check: {sum(c.status == 'PASS' for c in checks)} passed, {sum(c.status == 'SKIP' for c in checks)} "
          f"skipped, {failed} failed in {summary['seconds']:.0f} s; {s.out / 'gpu_check.json'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
