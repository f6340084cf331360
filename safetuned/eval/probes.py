"""Probes of how deep a model's safety goes, run inside an evaluation (Qi et al., ICLR 2025):

- prefill: on every harmful suite, force the first k tokens of a compliant answer and let the model go on; each k
  is scored like a suite of its own, `<suite>@prefill<k>` (kind harmful), pooled as `all_harmful@prefill<k>`, so
  the same judges, intervals and paired tests apply (k = 0 is the normal answer, `<suite>` itself);
- kl_position: the per-token KL divergence between the tuned model and its base on the tuned model's own answers
  to harmful prompts, averaged by answer position (`<out>/kl_position.json`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from safetuned.errors import ConfigError

log = logging.getLogger(__name__)

PREFILL_TAG = "@prefill"
KL_FILE = "kl_position.json"
KL_KEYS = {"max_positions", "batch_size", "limit"}


def prefill_name(suite: str, k: int) -> str:
    return f"{suite}{PREFILL_TAG}{k}"


def base_suite(name: str) -> str:
    """`malicious@prefill5` -> `malicious`."""
    return name.split(PREFILL_TAG, 1)[0]


def probe_tag(name: str) -> str:
    """`malicious@prefill5` -> `@prefill5`; "" for a normal suite."""
    return name[len(base_suite(name)):]


def prefill_k(name: str) -> int | None:
    """The k of a prefill suite name, None for a normal suite."""
    _, sep, k = name.partition(PREFILL_TAG)
    return int(k) if sep and k.isdigit() else None


def check_prefill(spec: dict | None, suites: Sequence) -> Any:
    """The PrefillConfig of `eval.prefill` (None when off; `{}` or true: the defaults), each harmful suite checked
    to have a prefix to force."""
    if spec is None or spec is False:
        return None
    spec = {} if spec is True else spec
    from safetuned.eval.prefill import PrefillConfig, check_suite

    config = PrefillConfig.from_dict(spec)
    harmful = [s for s in suites if s.kind == "harmful"]
    if not harmful:
        raise ConfigError("eval.prefill is set but no suite has kind harmful: prefill attacks need harmful prompts")
    for s in harmful:
        check_suite(config.item_targets(s.targets, len(s.prompts)), config.opening, where=f"eval suite '{s.name}'")
    return config


def prefill_answers(config, model, tokenizer, generation, answered: list[tuple], *, progress: bool = True
                    ) -> list[tuple]:
    """(pseudo-suite `<suite>@prefill<k>`, prompts, prefilled answers) for every harmful suite and k > 0."""
    from safetuned.eval.prefill import run_prefill

    ks = [k for k in config.ks if k > 0]
    if not ks:
        return []
    config = dataclasses.replace(config, ks=tuple(ks))
    out = []
    for suite, prompts, _ in answered:
        if suite.kind != "harmful":
            continue
        targets = config.item_targets(suite.targets[:len(prompts)] if suite.targets else None, len(prompts))
        for run in run_prefill(model, tokenizer, prompts, targets, config, generation, progress=progress,
                               desc=f"{suite.name} prefill"):
            out.append((dataclasses.replace(suite, name=prefill_name(suite.name, run.k)), prompts, run.answers))
    return out


def check_kl(spec: dict | None) -> dict | None:
    """`eval.kl_position` options (None when off; `{}` or true: the defaults)."""
    if spec is None or spec is False:
        return None
    spec = {} if spec is True else dict(spec)
    unknown = sorted(set(spec) - KL_KEYS)
    if unknown:
        raise ConfigError(f"eval.kl_position: unknown key(s) {unknown}; allowed: {sorted(KL_KEYS)}")
    for key in ("max_positions", "batch_size", "limit"):
        v = spec.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ConfigError(f"eval.kl_position.{key}={v!r} must be a positive integer")
    return spec


def kl_probe(spec: dict, model, tokenizer, answered: list[tuple], out_dir: str | Path | None
             ) -> dict[str, float]:
    """KL(tuned || base) by answer position on the answers to harmful suites; empty when the model has no
    adapter to switch off (a base model is its own base)."""
    from safetuned.eval.kl_position import kl_by_position, save_kl

    if not hasattr(model, "disable_adapter"):
        log.info("eval.kl_position: the evaluated model has no adapter; skipped")
        return {}
    prompts = [p for s, ps, _ in answered if s.kind == "harmful" for p in ps]
    answers = [a for s, _, rs in answered if s.kind == "harmful" for a in rs]
    limit = spec.get("limit")
    prompts, answers = (prompts[:limit], answers[:limit]) if limit else (prompts, answers)
    if not prompts:
        return {}
    result = kl_by_position(model, tokenizer, prompts, answers, max_positions=int(spec.get("max_positions", 32)),
                            batch_size=int(spec.get("batch_size", 8)))
    if out_dir is not None:
        save_kl(Path(out_dir) / KL_FILE, result)
    means = [m for m in result["mean"] if m is not None]
    out = {"eval/kl_position/first5_mean": sum(means[:5]) / len(means[:5])} if means else {}
    if len(means) > 5:
        out["eval/kl_position/after5_mean"] = sum(means[5:]) / len(means[5:])
    return out
