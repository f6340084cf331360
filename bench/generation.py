"""Evaluation generation, greedy: our batched loop vs `model.generate` on the same batches vs one prompt at a time.

All ways get the same rendered prompts; ours and `model.generate` the same length-sorted, left-padded batches
(`generate(..., greedy_loop=False)` sends them through `model.generate`). Greedy texts must be identical; where
they are not, the prompt and the first differing character are reported.
"""

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
GEN_LEVERS = ("fused",)  # generate(fused=True): the fused greedy decode step
WAYS = ("ours", "hf_generate", "sequential")


@dataclass
class GenerationBench:
    """Times of each interleaved round, and whether every way wrote the same texts."""

    suite: str
    prompts: int
    max_new_tokens: int
    batch_size: int
    batched_s: list[float] = field(default_factory=list)  # ours
    hf_generate_s: list[float] = field(default_factory=list)  # model.generate on the same batches
    sequential_s: list[float] = field(default_factory=list)
    lever_s: dict[str, list[float]] = field(default_factory=dict)
    identical: bool = True  # ours == sequential == model.generate (and every lever)
    mismatches: list[int] = field(default_factory=list)  # prompt indices where ours differs from sequential
    differences: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # way -> first differences
    new_tokens_mean: float = 0.0
    greedy_loop: bool = False  # whether `generate` ran its own greedy loop (else model.generate batches)
    generate_calls_batched: int = 0  # generation calls of one pass: model.generate or greedy-loop batches
    generate_calls_hf_generate: int = 0
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

    def ratios_vs_hf_generate(self) -> list[float]:
        """Per round: model.generate's seconds over ours."""
        return [h / b for h, b in zip(self.hf_generate_s, self.batched_s)]

    def lever_summary(self) -> dict[str, dict[str, Any]]:
        out = {}
        for lever, seconds in self.lever_s.items():
            vs_ours = [b / s for b, s in zip(self.batched_s, seconds)]
            vs_hf = [h / s for h, s in zip(self.hf_generate_s, seconds)]
            out[lever] = {"seconds": median(seconds), "speedup_vs_ours": median(vs_ours),
                          "speedup_vs_ours_rounds": vs_ours, "speedup_vs_hf_generate": median(vs_hf),
                          "speedup_vs_hf_generate_rounds": vs_hf}
        return out

    def difference_lines(self) -> list[str]:
        return [f"{way} vs ours, prompt #{d['prompt']}: from char {d['at']}: ours {d['ours']!r} / {d['other']!r}"
                for way, diffs in self.differences.items() for d in diffs[:3]]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "speedup": self.speedup, "speedup_ceiling": self.speedup_ceiling,
                "speedup_vs_hf_generate_rounds": self.ratios_vs_hf_generate()}

    def compare(self, way: str, ours: list[str], other: list[str]) -> None:
        """Record where `other` differs from ours: the prompt, the first differing character and the text there."""
        bad = [i for i, (a, b) in enumerate(zip(ours, other)) if a != b]
        if len(ours) != len(other):
            bad.append(min(len(ours), len(other)))
        self.identical = self.identical and not bad
        if way == "sequential":
            self.mismatches = sorted(set(self.mismatches) | set(bad))
        seen = {d["prompt"] for d in self.differences.get(way, [])}
        for i in bad[:10]:
            if i in seen or i >= min(len(ours), len(other)):
                continue
            a, b = ours[i], other[i]
            at = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            self.differences.setdefault(way, []).append(
                {"prompt": i, "at": at, "ours": a[max(0, at - 20): at + 40], "other": b[max(0, at - 20): at + 40]})


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
    """Count generation calls (in a one-item list the caller resets) to show every way really ran.

    A call is one `model.generate` or one batch of `generate`'s own greedy loop (`greedy.greedy_batch`).
    """
    from safetuned.eval import greedy

    calls, original_generate, original_loop = [0], model.generate, greedy.greedy_batch

    def counted(original):
        def call(*args, **kwargs):
            calls[0] += 1
            return original(*args, **kwargs)
        return call

    model.generate, greedy.greedy_batch = counted(original_generate), counted(original_loop)
    try:
        yield calls
    finally:
        model.generate, greedy.greedy_batch = original_generate, original_loop


def bench_generation(cfg: DictConfig, suite: str, rounds: int, limit: int | None = None,
                     max_new_tokens: int | None = None, levers: list[str] = ()) -> GenerationBench:
    """Time ours, model.generate on the same batches, sequential (and levers), rotating their order per round."""
    from safetuned.data.prompts import get_prompt_style
    from safetuned.eval.generate import GenerationConfig, generate, generate_sequential, uses_greedy_loop
    from safetuned.pipeline.build import build_model

    if rounds < 1:
        raise ConfigError(f"--rounds={rounds} must be >= 1")
    bad = [x for x in levers if x not in GEN_LEVERS]
    if bad:
        raise ConfigError(f"--gen-levers {bad}: unknown; allowed: {', '.join(GEN_LEVERS)}")
    gen_cfg = GenerationConfig.from_dict(OmegaConf.to_container(cfg.eval.generation, resolve=True))
    # Greedy, whatever the config says: only then must every way write the same texts.
    gen_cfg.do_sample, gen_cfg.num_beams = False, 1
    if max_new_tokens is not None:
        gen_cfg.max_new_tokens = int(max_new_tokens)
    model, tokenizer = build_model(cfg)  # the peft-wrapped model, as the evaluation runs it
    style = get_prompt_style(cfg.prompt.name, tokenizer=tokenizer)
    prompts = suite_prompts(cfg, suite, style, limit)
    result = GenerationBench(suite, len(prompts), gen_cfg.max_new_tokens, gen_cfg.batch_size,
                             greedy_loop=uses_greedy_loop(model, gen_cfg))
    ways = {
        "ours": lambda: generate(model, tokenizer, prompts, gen_cfg, progress=False),
        "hf_generate": lambda: generate(model, tokenizer, prompts, gen_cfg, progress=False, greedy_loop=False),
        "sequential": lambda: generate_sequential(model, tokenizer, prompts, gen_cfg, progress=False),
        **{lever: (lambda: generate(model, tokenizer, prompts, gen_cfg, progress=False, fused=True))
           for lever in levers},
    }
    # Untimed warm-up of every way: the first calls pay one-off costs (lazy inits, kernels for new shapes).
    head = prompts[: gen_cfg.batch_size]
    generate(model, tokenizer, head, gen_cfg, progress=False)
    generate(model, tokenizer, head, gen_cfg, progress=False, greedy_loop=False)
    generate_sequential(model, tokenizer, prompts[:WARMUP_PROMPTS], gen_cfg, progress=False)
    if levers:
        generate(model, tokenizer, head, gen_cfg, progress=False, fused=True)
    names = list(ways)
    with _count_calls(model) as calls:
        for r in range(rounds):
            texts: dict[str, list[str]] = {}
            for name in names[r % len(names):] + names[: r % len(names)]:
                calls[0], t0 = 0, time.perf_counter()
                texts[name] = ways[name]()
                seconds = time.perf_counter() - t0
                if name == "ours":
                    result.batched_s.append(seconds)
                    result.generate_calls_batched = calls[0]
                elif name in WAYS:
                    getattr(result, f"{name}_s").append(seconds)
                    setattr(result, f"generate_calls_{name}", calls[0])
                else:
                    result.lever_s.setdefault(name, []).append(seconds)
            for name in names[1:]:
                result.compare(name, texts["ours"], texts[name])
    one = replace(gen_cfg, max_new_tokens=1)
    t0 = time.perf_counter()
    generate(model, tokenizer, prompts, one, progress=False)
    t1 = time.perf_counter()
    generate_sequential(model, tokenizer, prompts, one, progress=False)
    result.prefill_batched_s, result.prefill_sequential_s = t1 - t0, time.perf_counter() - t1
    sequential = texts["sequential"]
    result.new_tokens_mean = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"])
                                 for t in sequential) / max(len(sequential), 1)
    return result
