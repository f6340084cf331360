"""Plot data of the report: one panel per metric of a family against the x key (a line per other swept value,
mean over seeds), and one point per job on the safety trade-off; `write_plots` draws them with `draw`.

matplotlib is imported only when plots are drawn (train.py imports the report package for a naming helper).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetuned.reporting.metrics import FAMILIES, interval, is_rate, metric_family, pretty_metric
from safetuned.reporting.tables import seed_groups, value_sort_key

if TYPE_CHECKING:
    from safetuned.reporting.tables import SweepReport


@dataclass
class Series:
    """One line of a panel: y (with an optional [lo, hi] band per point) against x."""

    label: str | None
    x: list[Any]
    y: list[float]
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)


@dataclass
class Panel:
    """One subplot: a metric, its lines, and the x values in display order."""

    title: str
    ylabel: str
    series: list[Series]
    rate: bool = False


@dataclass
class Point:
    """One job on the trade-off plot."""

    label: str
    group: str | None
    x: float
    y: float
    x_lo: float = math.nan
    x_hi: float = math.nan
    y_lo: float = math.nan
    y_hi: float = math.nan


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def label_of(values: dict[str, Any]) -> str | None:
    return ", ".join(f"{_short(k)}={v}" for k, v in values.items()) or None


def _plotted(metric: str) -> bool:
    """Plotted: the primary judges' numbers per suite, other judges' pooled only; probes have their own plots."""
    parts = metric.split("/")
    return "@" not in metric and (len(parts) < 4 or parts[0] != "eval" or parts[1].startswith(("all_", "harness")))


def family_panels(report: SweepReport, family: str) -> list[Panel]:
    """One panel per metric of the family: mean (over seeds) against the x key, one line per other swept value."""
    groups = seed_groups(report.jobs, report.plot_keys)
    line_keys = [k for k in report.plot_keys if k != report.x_key]
    panels = []
    for m in (m for m in report.metrics if metric_family(m, report.info) == family and _plotted(m)):
        lines: dict[str, Series] = {}
        for g in groups:
            s = g.stats(m)
            if not s:
                continue
            label = label_of({k: g.values[k] for k in line_keys})
            line = lines.setdefault(repr(label), Series(label, [], [], [], []))
            line.x.append(g.values.get(report.x_key, "all") if report.x_key else "all")
            line.y.append(s["mean"])
            line.lo.append(s["lo"])
            line.hi.append(s["hi"])
        if lines:
            panels.append(Panel(pretty_metric(m), _ylabel(m), list(lines.values()), rate=is_rate(m)))
    return panels


def _ylabel(metric: str) -> str:
    last = metric.rsplit("/", 1)[-1]
    return {"harmfulness_mean": "harmfulness score", "harm_score": "harmfulness score",
            "harm_rate": "share scored harmful", "harmful_rate": "share judged harmful"}.get(
        last, last.replace("_", " "))


def _pooled(metrics: dict[str, float], pooled: str, kind: str) -> tuple[float, float, float] | None:
    """(value, lo, hi) of the pooled rate, else the mean of the per-suite rates (no interval)."""
    if pooled in metrics:
        ci = interval(metrics, pooled) or (math.nan, math.nan)
        return metrics[pooled], *ci
    xs = [v for k, v in metrics.items() if k.endswith(f"/{kind}") and k.startswith("eval/") and math.isfinite(v)]
    return (sum(xs) / len(xs), math.nan, math.nan) if xs else None


def tradeoff_points(report: SweepReport) -> list[Point]:
    """One point per finished job: harmful-answer (else compliance) rate against safe-prompt refusal rate."""
    line_keys = [k for k in report.plot_keys if k != report.x_key]
    points = []
    for j in report.jobs:
        if not j.finished:
            continue
        harm = (_pooled(j.metrics, "eval/all_harmful/harmful_rate", "harmful_rate")
                or _pooled(j.metrics, "eval/all_harmful/compliance_rate", "compliance_rate"))
        safe = _pooled(j.metrics, "eval/all_safe/refusal_rate", "refusal_rate")
        if harm and safe:
            label = label_of({k: j.values.get(k) for k in report.swept if k not in line_keys}) or j.name
            points.append(Point(label, label_of({k: j.values.get(k) for k in line_keys}), harm[0], safe[0],
                                harm[1], harm[2], safe[1], safe[2]))
    return points


def write_plots(report: SweepReport, out_dir: Path) -> dict[str, Path]:
    """Every family plot with data, and the trade-off plot, as PNGs in `out_dir`."""
    from safetuned.reporting.draw import plot_panels, plot_tradeoff

    x_label = report.x_key or "job"
    x_order = sorted({repr(j.values.get(report.x_key)): j.values.get(report.x_key) for j in report.jobs
                      if j.finished}.values(), key=value_sort_key) if report.x_key else ["all"]
    if report.seed_mean:
        subtitle = "points: mean over seeds; error bars: min–max over seeds (95% CI where one seed finished)"
    else:
        subtitle = "error bars: 95% interval (Wilson for rates, bootstrap for scores, ±1.96·stderr for lm-eval)"
    plots = {}
    for family, title in FAMILIES.items():
        panels = family_panels(report, family)
        if panels:
            plots[family] = plot_panels(panels, out_dir / f"{family}.png", title, x_label, x_order, subtitle)
    from safetuned.reporting.probe_plots import kl_panel, prefill_ks, prefill_panels

    if panels := prefill_panels(report):
        plots["prefill"] = plot_panels(panels, out_dir / "prefill.png", "Prefill attack: the first k answer tokens "
                                       "forced to a compliant opening", "k (forced tokens)", prefill_ks(report),
                                       "pooled over harmful suites; error bars: 95% Wilson interval")
    if kl := kl_panel(report):
        positions = sorted({x for s in kl.series for x in s.x})
        plots["kl_position"] = plot_panels([kl], out_dir / "kl_position.png", "Where the tuning sits: KL to the "
                                           "base model by answer position", "answer token position", positions,
                                           "on each job's own answers to harmful prompts; 95% bootstrap interval")
    points = tradeoff_points(report)
    if points:
        plots["tradeoff"] = plot_tradeoff(
            points, out_dir / "tradeoff.png", "Safety trade-off: one point per job (lower-left is better)",
            "harmful answers, or harmful prompts complied with (lower is safer)",
            "safe prompts refused (lower is more helpful)")
    return plots
