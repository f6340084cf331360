"""Evaluation generation: batched `generate` vs `generate_sequential` (the paper's one-prompt loop), greedy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from omegaconf import DictConfig, OmegaConf

from bench.common import median
from safetuned.errors import ConfigError

WARMUP_PROMPTS = 16


@dataclass
class GenerationBench:
    """Times of each interleaved round, and whether both ways wrote the same texts."""

    suite: str
    prompts: int
    max_new_tokens: int
    batch_size: int
    batched_s: list[float] = field(default_factory=list)
    sequential_s: list[float] = field(default_factory=list)
    identical: bool = True
    mismatches: list[int] = field(default_factory=list)  # prompt indices whose texts differ
    new_tokens_mean: float = 0.0
    greedy_loop: bool = False  # whether `generate` ran its own greedy loop (else model.generate batches)
    generate_calls_batched: int = 0  # generation calls of one pass: model.generate or greedy-loop batches
    generate_calls_sequential: int = 0
    # One pass each with max_new_tokens=1: the prompt (prefill) cost alone. Batching cannot make decoding cheaper
    # than free, so sequential_s / prefill_batched_s bounds the speedup from above.
    prefill_batched_s: float = 0.0
    prefill_sequential_s: float = 0.0

    @property
    def speedup(self) -> float:
        return median(self.sequential_s) / median(self.batched_s)

    @property
    def speedup_ceiling(self) -> float:
        return median(self.sequential_s) / self.prefill_batched_s if self.prefill_batched_s else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "speedup": self.speedup, "speedup_ceiling": self.speedup_ceiling}


def suite_prompts(cfg: DictConfig, suite: str, style, limit: int | None) -> list[str]:
    """The rendered prompts of one configured eval suite, as the evaluation renders them."""
    from safetuned.eval.suites import load_suites

    suites = OmegaConf.to_container(cfg.eval.suites, resolve=True) or {}
    if suite not in suites:
        raise ConfigError(f"--gen-suite={suite!r} is not one of the configured eval suites {sorted(suites)}")
    (loaded,) = load_suites({suite: {**suites[suite], "limit": limit}})
    return [style.render(p, i) for p, i in zip(loaded.prompts, loaded.inputs)]


@contextmanager
def _count_calls(model) -> Iterator[list[int]]:
    """Count generation calls (in a one-item list the caller resets) to show both ways really ran.

    A call is one `model.generate` or one batch of `generate`'s own greedy loop (`_greedy_batch`).
    """
    from safetuned.eval import generate as gen

    calls, original_generate, original_loop = [0], model.generate, gen._greedy_batch

    def counted(original):
        def call(*args, **kwargs):
            calls[0] += 1
            return original(*args, **kwargs)
        return call

    model.generate, gen._greedy_batch = counted(original_generate), counted(original_loop)
    try:
        yield calls
    finally:
        model.generate, gen._greedy_batch = original_generate, original_loop


def bench_generation(cfg: DictConfig, suite: str, rounds: int, limit: int | None = None,
                     max_new_tokens: int | None = None) -> GenerationBench:
    """Time batched and sequential greedy generation on the same prompts, alternating B/S per round."""
    from safetuned.data.prompts import get_prompt_style
    from safetuned.eval.generate import GenerationConfig, generate, generate_sequential, uses_greedy_loop
    from safetuned.train import build_model

    if rounds < 1:
        raise ConfigError(f"--rounds={rounds} must be >= 1")
    gen_cfg = GenerationConfig.from_dict(OmegaConf.to_container(cfg.eval.generation, resolve=True))
    # Greedy, whatever the config says: only then must both ways write the same texts.
    gen_cfg.do_sample, gen_cfg.num_beams = False, 1
    if max_new_tokens is not None:
        gen_cfg.max_new_tokens = int(max_new_tokens)
    model, tokenizer = build_model(cfg)  # the peft-wrapped model, as the evaluation runs it
    style = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer)
    prompts = suite_prompts(cfg, suite, style, limit)
    result = GenerationBench(suite, len(prompts), gen_cfg.max_new_tokens, gen_cfg.batch_size,
                             greedy_loop=uses_greedy_loop(model, gen_cfg))
    # Untimed warm-up of both ways: the first calls pay one-off costs (lazy inits, kernels for new shapes).
    generate(model, tokenizer, prompts[: gen_cfg.batch_size], gen_cfg, progress=False)
    generate_sequential(model, tokenizer, prompts[:WARMUP_PROMPTS], gen_cfg, progress=False)
    with _count_calls(model) as calls:
        for _ in range(rounds):
            calls[0], t0 = 0, time.perf_counter()
            batched = generate(model, tokenizer, prompts, gen_cfg, progress=False)
            t1, result.generate_calls_batched, calls[0] = time.perf_counter(), calls[0], 0
            sequential = generate_sequential(model, tokenizer, prompts, gen_cfg, progress=False)
            t2, result.generate_calls_sequential = time.perf_counter(), calls[0]
            result.batched_s.append(t1 - t0)
            result.sequential_s.append(t2 - t1)
            bad = [i for i, (a, b) in enumerate(zip(batched, sequential)) if a != b]
            result.identical = result.identical and not bad and len(batched) == len(sequential)
            result.mismatches = sorted(set(result.mismatches) | set(bad))
    one = replace(gen_cfg, max_new_tokens=1)
    t0 = time.perf_counter()
    generate(model, tokenizer, prompts, one, progress=False)
    t1 = time.perf_counter()
    generate_sequential(model, tokenizer, prompts, one, progress=False)
    result.prefill_batched_s, result.prefill_sequential_s = t1 - t0, time.perf_counter() - t1
    result.new_tokens_mean = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in sequential) / max(len(sequential), 1)
    return result
