"""Plots of the safety-depth probes (safetuned.eval.probes): the prefill curve (pooled harmful-suite rates against
the number of forced answer tokens k, a line per job) and the per-position KL between each tuned job and its base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from safetuned.eval.probes import KL_FILE, PREFILL_TAG, prefill_k
from safetuned.reporting.metrics import interval
from safetuned.reporting.plots import Panel, Series, label_of

if TYPE_CHECKING:
    from safetuned.reporting.tables import SweepReport

PREFILL_METRICS = ("harmful_rate", "compliance_rate", "refusal_rate")


def _job_label(report: SweepReport, job) -> str:
    return label_of({k: job.values.get(k) for k in report.swept}) or job.name


def prefill_ks(report: SweepReport) -> list[int]:
    """Every k with pooled prefill numbers in some finished job (0 = the normal answers)."""
    ks = {prefill_k(k.split("/")[1]) for j in report.jobs if j.finished
          for k in j.metrics if k.startswith(f"eval/all_harmful{PREFILL_TAG}")} - {None}
    return [0, *sorted(ks)] if ks else []


def prefill_panels(report: SweepReport) -> list[Panel]:
    """One panel per pooled rate (harmful answers when a harm judge ran, compliance, refusal) against k."""
    ks = prefill_ks(report)
    panels = []
    for metric in PREFILL_METRICS:
        series = []
        for job in (j for j in report.jobs if j.finished):
            names = [f"eval/all_harmful{PREFILL_TAG}{k}/{metric}" if k else f"eval/all_harmful/{metric}" for k in ks]
            points = [(k, job.metrics[n], interval(job.metrics, n)) for k, n in zip(ks, names) if n in job.metrics]
            if points:
                series.append(Series(_job_label(report, job), [k for k, _, _ in points], [v for _, v, _ in points],
                                     [ci[0] if ci else v for _, v, ci in points],
                                     [ci[1] if ci else v for _, v, ci in points]))
        if series:
            panels.append(Panel(f"all harmful · {metric.replace('_', ' ')}", "share of answers", series, rate=True))
    return panels


def kl_panel(report: SweepReport) -> Panel | None:
    """Mean KL(tuned || base) by answer position with its bootstrap interval, a line per job."""
    from safetuned.errors import DataError
    from safetuned.eval.kl_position import load_kl

    series = []
    for job in (j for j in report.jobs if j.finished and (j.path / KL_FILE).is_file()):
        try:
            kl = load_kl(job.path / KL_FILE)
        except DataError:
            continue
        pts = [(p, m, lo, hi) for p, m, lo, hi in zip(kl["positions"], kl["mean"], kl["lo"], kl["hi"]) if m is not None]
        if pts:
            series.append(Series(_job_label(report, job), [p for p, *_ in pts], [m for _, m, _, _ in pts],
                                 [m if lo is None else lo for _, m, lo, _ in pts],
                                 [m if hi is None else hi for _, m, _, hi in pts]))
    return Panel("KL(tuned ‖ base) by answer position", "nats per token", series) if series else None
