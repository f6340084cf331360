"""The report's tables: one typed row per job, seed groups and the mean-over-seeds table, and `summarize_sweep`,
which collects a sweep into a `SweepReport` and writes it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetuned.errors import ConfigError
from safetuned.pipeline.layout import sweep_group_name
from safetuned.reporting.agreement import agreement_rows
from safetuned.reporting.collect import STATUSES, Job, collect_jobs
from safetuned.reporting.metrics import EvalInfo, base_metrics, interval
from safetuned.reporting.paired import paired_comparisons

SEED_KEY = "seed"


@dataclass
class SweepReport:
    """Everything the report shows: jobs, tables (typed rows), plot files and the files written."""

    sweep_dir: Path
    jobs: list[Job]
    keys: list[str]
    swept: list[str]
    x_key: str | None
    metrics: list[str]
    columns: list[str]
    rows: list[dict[str, Any]]
    info: EvalInfo = field(default_factory=EvalInfo)
    paired: list = field(default_factory=list)
    agreement: list[dict[str, Any]] = field(default_factory=list)
    summary_columns: list[str] = field(default_factory=list)
    summary_rows: list[dict[str, Any]] = field(default_factory=list)
    plots: dict[str, Path] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return sweep_group_name(self.sweep_dir)

    @property
    def seed_mean(self) -> bool:
        """Plots average over seeds: `seed` was swept and is not itself the x axis."""
        return SEED_KEY in self.swept and self.x_key != SEED_KEY

    @property
    def plot_keys(self) -> list[str]:
        """The swept keys a plotted point is defined by (all but an averaged-over seed)."""
        return [k for k in self.swept if k != SEED_KEY or not self.seed_mean]

    def counts(self) -> dict[str, int]:
        return {s: n for s in STATUSES if (n := sum(j.status == s for j in self.jobs))}


def value_sort_key(v: Any) -> tuple:
    """Order of swept values: numbers by value, then everything else by its text (None as empty text)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, v, "")
    return (1, 0, "" if v is None else str(v))


def override_keys(jobs: Sequence[Job]) -> tuple[list[str], list[str]]:
    """(all override keys, swept first; the swept ones: keys whose value differs between jobs)."""
    keys = list(dict.fromkeys(k for j in jobs for k in j.values))
    swept = [k for k in keys if len({repr(j.values.get(k, "<unset>")) for j in jobs}) > 1]
    return swept + [k for k in keys if k not in swept], swept


def choose_x_key(jobs: Sequence[Job], swept: Sequence[str], x_key: str | None = None) -> str | None:
    """The plots' x axis: `x_key` if given, else the numeric swept key with the most values (seed excluded)."""
    if x_key is not None:
        if x_key not in swept:
            raise ConfigError(f"x_key={x_key!r} is not a swept key of this sweep; choose one of {list(swept)}")
        return x_key
    candidates = [k for k in swept if k != SEED_KEY]
    if not candidates:
        return None

    def numeric(k: str) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   for v in (j.values.get(k) for j in jobs) if v is not None)

    def n_values(k: str) -> int:
        return len({repr(j.values.get(k)) for j in jobs})

    return max(candidates, key=lambda k: (numeric(k), n_values(k), -candidates.index(k)))


def job_table(jobs: Sequence[Job], swept: Sequence[str], fixed: Sequence[str], metrics: Sequence[str]
              ) -> tuple[list[str], list[dict]]:
    """One typed row per job: swept keys, status, error, each metric with its interval columns, the overrides
    every job shares, job folder."""
    has = {k for j in jobs for k in j.metrics}
    keys = [*swept, *fixed]
    columns = [*swept, "status", "error"]
    interval_of: dict[str, bool] = {}
    for m in metrics:
        columns.append(m)
        interval_of[m] = any(interval(j.metrics, m) for j in jobs)
        if interval_of[m]:
            columns += [f"{m}_ci_low", f"{m}_ci_high"]
        if f"{m}_stderr" in has:
            columns.append(f"{m}_stderr")
    columns += [*fixed, "job"]
    rows = []
    for j in jobs:
        row: dict[str, Any] = {k: j.values.get(k) for k in keys}
        row.update(status=j.status, error=j.error, job=j.name)
        for m in metrics:
            row[m] = j.metrics.get(m)
            if interval_of[m]:
                ci = interval(j.metrics, m)
                row[f"{m}_ci_low"], row[f"{m}_ci_high"] = ci if ci else (None, None)
            if f"{m}_stderr" in has:
                row[f"{m}_stderr"] = j.metrics.get(f"{m}_stderr")
        rows.append(row)
    return columns, rows


@dataclass
class Group:
    """Finished jobs sharing every swept value except the seed."""

    values: dict[str, Any]
    jobs: list[Job]

    def stats(self, metric: str) -> dict[str, float]:
        """Mean over seeds, with the seeds' std/min/max; the error bar is min..max over seeds, or the CI of one."""
        xs = [j.metrics[metric] for j in self.jobs if math.isfinite(j.metrics.get(metric, math.nan))]
        if not xs:
            return {}
        mean = sum(xs) / len(xs)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else math.nan
        out = {"mean": mean, "std": std, "min": min(xs), "max": max(xs), "n": len(xs)}
        ci = interval(self.jobs[0].metrics, metric) if len(self.jobs) == 1 else None
        out["lo"], out["hi"] = ci if ci else ((min(xs), max(xs)) if len(xs) > 1 else (math.nan, math.nan))
        return out


def seed_groups(jobs: Sequence[Job], keys: Sequence[str]) -> list[Group]:
    """Finished jobs grouped by their values of `keys` (the swept keys but the seed), in sorted value order."""
    groups: dict[tuple, Group] = {}
    for j in jobs:
        if j.finished:
            values = {k: j.values.get(k) for k in keys}
            groups.setdefault(tuple(repr(values[k]) for k in keys), Group(values, [])).jobs.append(j)
    return sorted(groups.values(), key=lambda g: [value_sort_key(g.values[k]) for k in keys])


def summary_table(groups: Sequence[Group], swept: Sequence[str], metrics: Sequence[str]) -> tuple[list, list]:
    """One row per group: swept values but seed, the seeds used, and mean/std/min/max over seeds per metric."""
    keys = [k for k in swept if k != SEED_KEY]
    columns = [*keys, "n_seeds", "seeds"]
    for m in metrics:
        columns += [m, f"{m}_seed_std", f"{m}_seed_min", f"{m}_seed_max"]
    rows = []
    for g in groups:
        row: dict[str, Any] = {**g.values, "n_seeds": len(g.jobs),
                               "seeds": ",".join(str(j.values.get(SEED_KEY)) for j in g.jobs)}
        for m in metrics:
            s = g.stats(m)
            row.update({m: s.get("mean"), f"{m}_seed_std": s.get("std"), f"{m}_seed_min": s.get("min"),
                        f"{m}_seed_max": s.get("max")})
        rows.append(row)
    return columns, rows


def summarize_sweep(sweep_dir: str | Path, x_key: str | None = None, write: bool = True) -> SweepReport:
    """Collect every job of the sweep and (unless `write=False`) write its tables, plots and HTML into it."""
    from safetuned.reporting.render import write_report  # render imports this module

    sweep_dir = Path(sweep_dir).resolve()
    jobs = collect_jobs(sweep_dir)
    keys, swept = override_keys(jobs)
    jobs.sort(key=lambda j: ([value_sort_key(j.values.get(k)) for k in keys], j.name))
    x = choose_x_key(jobs, swept, x_key)
    info = EvalInfo.read([j.path for j in jobs if j.finished])
    metrics = base_metrics(jobs, info)
    columns, rows = job_table(jobs, swept, [k for k in keys if k not in swept], metrics)
    report = SweepReport(sweep_dir, jobs, keys, swept, x, metrics, columns, rows, info,
                         paired_comparisons(jobs, swept, x), agreement_rows(jobs))
    if SEED_KEY in swept:
        groups = seed_groups(jobs, [k for k in swept if k != SEED_KEY])
        report.summary_columns, report.summary_rows = summary_table(groups, swept, metrics)
    if write:
        write_report(report)
    return report
