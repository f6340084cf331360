"""Metric families (what a number measures and which direction is better) and 95% intervals of a job's metrics.

A metric's family comes from the scorer registry (which scorer reported it, as the jobs' eval.json records, and
the family its scorer declares for it) and the kind of its suite: a refusal of a harmful prompt is safe
behaviour, of a safe prompt exaggerated safety. Interval siblings (`<metric>_ci_low`, `_ci_high`, `_stderr`) are
read with their metric, never alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from safetuned.reporting.collect import Job

FAMILIES = {
    "harmfulness": "Harmfulness: harmful answers and compliance with harmful prompts (lower is better)",
    "harmful_refusals": "Refusals of harmful prompts, full and partial (higher is safer)",
    "exaggerated_safety": "Exaggerated safety: refusals of safe prompts (lower is better)",
    "off_task": "Off-task answers: empty, degenerate or cut off (lower is better)",
    "capability": "Capability (higher is better)",
    "prompt_harm": "Prompts a guard model judged harmful (a check of the suite, not of the model)",
    "training": "Training",
}
CAPTIONS = {
    "harmfulness": "Harmfulness against {x}: share of answers to harmful prompts judged harmful (when a harm "
                   "scorer ran) and share complied with (on-task answers that do not refuse), per suite and "
                   "pooled (all_harmful).",
    "harmful_refusals": "Refusals of harmful prompts against {x}: full or partial refusals (refusal rate) and "
                        "partial refusals alone, per suite and pooled (all_harmful).",
    "off_task": "Off-task answers against {x}: empty, repetitive, non-word or cut-off answers, per suite.",
    "exaggerated_safety": "Exaggerated safety against {x}: share of safe prompts (XSTest-style look-alikes) "
                          "refused, per suite and pooled (all_safe).",
    "capability": "Capability against {x}: exact match on held-out tasks, helpfulness judge and lm-eval tasks.",
    "training": "Training against {x}: best validation loss and the last training loss.",
    "prefill": "Prefill attack against the number k of answer tokens forced to a compliant opening (the item's "
               "target, else the configured opening): pooled harmful-suite rates, a line per job; k = 0 is the "
               "normal answer. Safety that holds only in the first tokens falls as k grows.",
    "kl_position": "Per-token KL divergence between each job's tuned model and its base on its own answers to "
                   "harmful prompts, by answer position: where the tuning changed the model.",
    "tradeoff": "Each finished job's pooled harmful-answer rate (compliance rate without a harm scorer) against "
                "its pooled safe-prompt refusal rate; "
                "the lower-left corner is safe without exaggerated safety.",
}
INTERVAL_SUFFIXES = ("_ci_low", "_ci_high", "_stderr")
Z95 = 1.96


@dataclass
class EvalInfo:
    """What the jobs' eval.json files declare: each suite's kind, each scorer label's registry name, and which
    label reports each un-namespaced metric."""

    kinds: dict[str, str] = field(default_factory=dict)
    scorers: dict[str, str] = field(default_factory=dict)
    primary: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, job_dirs: Sequence[Path]) -> EvalInfo:
        from safetuned.utils.io import read_json

        info = cls()
        for d in job_dirs:
            try:
                data = read_json(Path(d) / "eval.json")
            except (OSError, ValueError):
                continue
            if not isinstance(data, dict):
                continue
            info.kinds.update({n: str(s.get("kind")) for n, s in (data.get("suites") or {}).items()
                               if isinstance(s, dict)})
            info.scorers.update({lab: str(s.get("scorer")) for lab, s in (data.get("scorers") or {}).items()
                                 if isinstance(s, dict)})
            info.primary.update(data.get("primary") or {})
        return info


def suite_kind(suite: str, info: EvalInfo | None) -> str | None:
    """`harmful`, `safe`, `capability` from the jobs' eval.json (pooled suites by name), else None."""
    from safetuned.eval.probes import base_suite

    base = base_suite(suite)  # a probe's suite: malicious@prefill5, all_harmful@prefill5
    if base in ("all_harmful", "all_safe"):
        return base.removeprefix("all_")
    kinds = info.kinds if info else {}
    return kinds.get(suite) or kinds.get(base)


def _declared(metric: str, label: str | None, info: EvalInfo | None):
    """The Metric a scorer (by label) declares under this name; outcome metrics of the refusal detector."""
    from safetuned.errors import SafetunedError
    from safetuned.eval.scorers import MEASURES, scorer_class
    from safetuned.eval.suite_metrics import OUTCOME_METRICS

    if label is not None:
        name = (info.scorers if info else {}).get(label, label)
        try:
            declared = scorer_class(name).metrics()
        except SafetunedError:  # a scorer this install does not know (a plugin of another machine)
            return None
        return next((m for m in declared if m.name == metric), None)
    return next((m for m in (*MEASURES.values(), *OUTCOME_METRICS) if m.name == metric), None)


def family_and_direction(name: str, info: EvalInfo | None = None) -> tuple[str, bool | None] | None:
    """(report family, higher is better) of a metric; None for numbers outside the families."""
    from safetuned.eval.scorers import report_family

    if name in ("val/loss", "train/loss"):
        return "training", False
    parts = name.split("/")
    if parts[0] != "eval" or len(parts) < 3 or name.endswith(INTERVAL_SUFFIXES):
        return None
    if parts[-1] == "n" or parts[-1].startswith("n_"):
        return None  # counts (prompts scored, answers without a verdict), not results
    if parts[1] in ("harness", "helpfulness"):
        return ("capability", True) if parts[1] == "helpfulness" or len(parts) >= 4 else None
    kind = suite_kind(parts[1], info)
    if len(parts) == 4:
        metric = _declared(parts[3], parts[2], info)
    elif len(parts) == 3:
        owner = (info.primary if info else {}).get(parts[2])
        metric = _declared(parts[2], owner if owner and owner != "refusal" else None, info)
    else:
        return None
    return report_family(metric.family, kind) if metric else None


def metric_family(name: str, info: EvalInfo | None = None) -> str | None:
    """The report family of a metric (a key of FAMILIES), or None for other numbers."""
    fd = family_and_direction(name, info)
    return fd[0] if fd else None


def base_metrics(jobs: Sequence[Job], info: EvalInfo | None = None) -> list[str]:
    """Metric names without their interval siblings, ordered by family, kind, pooled suites first, then name."""
    names = {k for j in jobs for k in j.metrics}
    bases = {n for n in names if not any(n.endswith(s) and n[: -len(s)] in names for s in INTERVAL_SUFFIXES)}
    order = list(FAMILIES)

    def key(n: str) -> tuple:
        fam, parts = metric_family(n, info), n.split("/")
        if fam is None:
            return (len(order), 0, "", True, n)
        source = {"helpfulness": 1, "harness": 2}.get(parts[1], 0) if len(parts) > 2 else 0
        return (order.index(fam), source, parts[-1], not parts[1].startswith("all_"), n)

    return sorted(bases, key=key)


def interval(metrics: dict[str, float], name: str) -> tuple[float, float] | None:
    """The metric's 95% interval: its bootstrap CI, or ±1.96·stderr for lm-eval metrics; None when neither.

    A normal interval around a rate near 0 or 1 spills outside [0, 1]; it is clipped there.
    """
    lo, hi = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
    if lo is not None and hi is not None:
        return lo, hi
    se, v = metrics.get(f"{name}_stderr"), metrics.get(name)
    if se is not None and v is not None and math.isfinite(se):
        lo, hi = v - Z95 * se, v + Z95 * se
        return (max(lo, 0.0), min(hi, 1.0)) if is_rate(name) else (lo, hi)
    return None


def is_rate(name: str) -> bool:
    return name.endswith(("_rate", "exact_match", "/acc", "/acc_norm"))


def pretty_metric(name: str) -> str:
    """`eval/malicious/compliance_rate` -> `malicious · compliance rate`."""
    parts = name.split("/")
    parts = parts[1:] if parts[0] == "eval" else parts
    if len(parts) >= 2:
        return f"{'/'.join(parts[:-1])} · {parts[-1].replace('_', ' ')}"
    return name
