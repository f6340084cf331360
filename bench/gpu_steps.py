"""The in-process checks of `bench.gpu_check`: generation vs `model.generate`, evaluation of a saved adapter, DDP."""

from __future__ import annotations

import time

import torch

from bench.gpu_check import Check, Setup, check_train


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def check_generation(s: Setup) -> Check:
    """Our greedy loop (and its fused step) vs `model.generate` on the same batches, the trained adapter, bf16."""
    from bench.common import compose_train_cfg
    from bench.generation import suite_prompts
    from safetuned.eval.generate import GenerationConfig, generate
    from safetuned.model.export import load_adapted_as_configured

    title = "generation: our batched greedy loop vs model.generate, same batches"
    adapter = s.out / "train-bf16" / "adapter"
    if not (adapter / "adapter_config.json").exists():
        return Check(title, "SKIP", "no adapter: the bf16 training job did not finish")
    cfg = compose_train_cfg(s.job_overrides("generation", 1, eval_="eval=demo"), s.out / "generation")
    model, tokenizer, style, _ = load_adapted_as_configured(adapter, cfg.model)
    model.to(s.device).eval()
    prompts = suite_prompts(cfg, "malicious", style, s.gen_prompts)
    gen = GenerationConfig(max_new_tokens=16 if s.dry_run else 64, batch_size=8 if s.dry_run else 64)

    def timed(**kwargs) -> tuple[list[str], float]:
        generate(model, tokenizer, prompts[: gen.batch_size], gen, progress=False, **kwargs)  # warm-up
        _sync(s.device)
        started = time.perf_counter()
        texts = generate(model, tokenizer, prompts, gen, progress=False, **kwargs)
        _sync(s.device)
        return texts, time.perf_counter() - started

    ours, ours_s = timed()
    fused, fused_s = timed(fused=True)
    peer, peer_s = timed(greedy_loop=False)
    same = sum(a == b for a, b in zip(ours, peer))
    same_fused = sum(a == b for a, b in zip(ours, fused))
    new_tokens = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in ours)
    numbers = {"prompts": len(prompts), "ours_s": ours_s, "fused_s": fused_s, "hf_generate_s": peer_s,
               "speedup_vs_hf_generate": peer_s / ours_s, "fused_speedup_vs_hf_generate": peer_s / fused_s,
               "identical": same, "identical_fused": same_fused, "new_tokens_per_s": new_tokens / ours_s}
    detail = (f"{peer_s / ours_s:.2f}x ({ours_s:.2f} s vs {peer_s:.2f} s, {new_tokens / ours_s:,.0f} new tokens/s), "
              f"fused step {peer_s / fused_s:.2f}x; texts identical {same}/{len(prompts)} (fused {same_fused})")
    # bf16 on a GPU: kernels chosen by batch shape may round differently, so a rare greedy tie can flip
    ok = same >= 0.9 * len(prompts) and same_fused == len(prompts)
    return Check(title, "PASS" if ok else "FAIL", detail, numbers)


def check_evaluate(s: Setup, job: str, quantization: str | None) -> Check:
    """`safetuned.evaluate` on a saved adapter: the base must load in bf16 (or 4-bit) on the device."""
    from bench.common import compose_train_cfg
    from safetuned.eval.runner import EvalPlan
    from safetuned.evaluate import evaluate

    title = f"evaluate saved adapter ({quantization or 'bfloat16'} base) through safetuned.evaluate"
    if not (s.out / job / "adapter" / "adapter_config.json").exists():
        return Check(title, "SKIP", f"no adapter: the {job} job did not finish")
    harness = ["eval.harness.tasks=[]"] if s.dry_run else ["eval.harness.limit=8"]
    overrides = [f"adapter={s.out / job}", "model=local", f"model.pretrained={s.model_dir}", "model.dtype=bfloat16",
                 "model.attn_implementation=sdpa", "eval=demo", "eval.limit=8", *harness, "logger=none",
                 *([f"model.quantization={quantization}"] if quantization else [])]
    out = s.out / f"evaluate-{job}"
    cfg = compose_train_cfg(overrides, out, config_name="evaluate")
    seen, original = [], EvalPlan.run

    def spy(self, model, *args, **kwargs):
        seen.append(model)
        return original(self, model, *args, **kwargs)

    EvalPlan.run = spy
    started = time.perf_counter()
    try:
        metrics = evaluate(cfg, out)
    except Exception as e:  # noqa: BLE001 - one FAIL line, the check goes on
        return Check(title, "FAIL", f"{type(e).__name__}: {(str(e).splitlines() or [''])[0]}")
    finally:
        EvalPlan.run = original
    base = seen[0].get_base_model()
    dtypes = sorted({str(p.dtype).replace("torch.", "") for n, p in base.named_parameters() if "lora_" not in n})
    device = next(base.parameters()).device.type
    if quantization:
        ok = bool(getattr(base, f"is_loaded_in_{quantization[0]}bit", False))
        loaded = f"{quantization} base ({', '.join(dtypes)} tensors)"
    else:
        ok, loaded = dtypes == ["bfloat16"], f"base tensors {', '.join(dtypes)}"
    ok = ok and device == s.device and (out / "metrics.json").exists()
    detail = f"{loaded} on {device}, {len(metrics)} metrics in {time.perf_counter() - started:.0f} s"
    return Check(title, "PASS" if ok else "FAIL", detail, {"dtypes": dtypes, "device": device})


def check_ddp(s: Setup) -> Check:
    """A LoRA job under DDP on every visible device (2 gloo processes in the dry run)."""
    n = 2 if s.dry_run else torch.cuda.device_count()
    trainer = ("trainer=ddp_cpu", "trainer.devices=2") if s.dry_run else ("trainer=ddp", f"trainer.devices={n}")
    title = f"train under DDP on {n} {'CPU processes' if s.dry_run else 'device(s)'} ({s.quant_steps} steps)"
    return check_train(s, "train-ddp", title, s.quant_steps, f"data.batch_size={16 * n}", trainer=trainer,
                       mfu=False)
