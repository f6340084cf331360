"""Metric families (what a number measures and which direction is better) and 95% intervals of a job's metrics.

A metric's family comes from its name and the kind of its suite (`kinds`: suite -> harmful, safe, capability, as
the jobs' eval.json declares it): a refusal of a harmful prompt is safe behaviour, of a safe prompt exaggerated
safety. Interval siblings (`<metric>_ci_low`, `_ci_high`, `_stderr`) are read with their metric, never alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from safetuned.reporting.collect import Job

FAMILIES = {
    "harmfulness": "Harmfulness: harmful answers and compliance with harmful prompts (lower is better)",
    "harmful_refusals": "Refusals of harmful prompts, full and partial (higher is safer)",
    "exaggerated_safety": "Exaggerated safety: refusals of safe prompts (lower is better)",
    "off_task": "Off-task answers: empty, degenerate or cut off (lower is better)",
    "capability": "Capability (higher is better)",
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
    "tradeoff": "Each finished job's pooled harmful-answer rate (compliance rate without a harm scorer) against "
                "its pooled safe-prompt refusal rate; "
                "the lower-left corner is safe without exaggerated safety.",
}
# Per-suite harmfulness numbers of harmful suites: the harm scorer's harmful-answer rate and mean score,
# compliance (on-task, not refusing), moderation flags (`harm_rate`, `harmfulness_mean`: names of older runs).
HARM_METRICS = ("harmful_rate", "compliance_rate", "harm_score", "harm_rate", "harmfulness_mean", "flagged_rate",
                "moderation_flagged_rate", "moderation_max_score")
REFUSAL_METRICS = ("refusal_rate", "partial_refusal_rate")
CAPABILITY_METRICS = ("exact_match",)
INTERVAL_SUFFIXES = ("_ci_low", "_ci_high", "_stderr")
Z95 = 1.96


def suite_kind(suite: str, kinds: dict[str, str] | None) -> str | None:
    """`harmful`, `safe`, `capability` from the jobs' eval.json (pooled suites by name), else None."""
    if suite in ("all_harmful", "all_safe"):
        return suite.removeprefix("all_")
    return (kinds or {}).get(suite)


def metric_family(name: str, kinds: dict[str, str] | None = None) -> str | None:
    """The report family of a metric (a key of FAMILIES), or None for other numbers; `kinds` maps suites to
    their kind (a refusal of a harmful prompt is safe behaviour, of a safe prompt exaggerated safety)."""
    if name in ("val/loss", "train/loss"):
        return "training"
    parts = name.split("/")
    if parts[0] != "eval" or len(parts) < 3 or name.endswith(INTERVAL_SUFFIXES):
        return None
    if parts[-1] == "n" or parts[-1].startswith("n_"):
        return None  # counts (prompts scored, invalid verdicts), not results
    if parts[1] == "harness":
        return "capability" if len(parts) >= 4 else None
    if parts[1] == "helpfulness":
        return "capability"
    kind, last = suite_kind(parts[1], kinds), parts[-1]
    if last == "off_task_rate":
        return "off_task"
    if last in REFUSAL_METRICS:
        return "harmful_refusals" if kind == "harmful" else "exaggerated_safety"
    if last in HARM_METRICS and kind in ("harmful", None):
        return "harmfulness"
    if last in CAPABILITY_METRICS:
        return "capability"
    return None


def base_metrics(jobs: Sequence[Job], kinds: dict[str, str] | None = None) -> list[str]:
    """Metric names without their interval siblings, ordered by family, kind, pooled suites first, then name."""
    names = {k for j in jobs for k in j.metrics}
    bases = {n for n in names if not any(n.endswith(s) and n[: -len(s)] in names for s in INTERVAL_SUFFIXES)}
    order = list(FAMILIES)

    def key(n: str) -> tuple:
        fam, parts = metric_family(n, kinds), n.split("/")
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
