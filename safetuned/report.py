"""Sweep report: `python -m safetuned.report [<sweep folder>]` collects every job of a Hydra multirun sweep and
writes `report.csv`, `report.md`, `summary.csv` (mean over seeds, when seeds were swept), `plots/*.png` and one
self-contained `report.html` into the sweep folder; `--wandb offline|online` also logs them to W&B.

A plain argparse CLI rather than a Hydra app: the one argument is a folder (as in `make report SWEEP=...`), and a
Hydra main would create its own output folder and take over logging for a read-only post-processing step.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import html
import io
import logging
import math
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from safetuned.errors import ConfigError, SafetunedError
from safetuned.utils.io import atomic_dir, read_json, write_text_atomic

if TYPE_CHECKING:  # matplotlib is imported only when plots are drawn (train.py imports this module)
    from safetuned.plots import Panel, Point

log = logging.getLogger(__name__)

SEED_KEY = "seed"
STATUSES = ("completed", "failed", "unfinished", "not started")
FAMILIES = {
    "harmfulness": "Harmfulness (lower is better)",
    "exaggerated_safety": "Exaggerated safety: refusals of safe prompts (lower is better)",
    "capability": "Capability (higher is better)",
    "training": "Training",
}
CAPTIONS = {
    "harmfulness": "Harmfulness against {x}: share of harmful prompts complied with (and reward-model harmfulness "
                   "or moderation flags when scored), per suite and pooled (all_harmful).",
    "exaggerated_safety": "Exaggerated safety against {x}: share of safe prompts (XSTest-style look-alikes) "
                          "refused, per suite and pooled (all_safe).",
    "capability": "Capability against {x}: exact match on held-out tasks, helpfulness judge and lm-eval tasks.",
    "training": "Training against {x}: best validation loss and the last training loss.",
    "tradeoff": "Each finished job's pooled harmful compliance against its pooled safe-prompt refusal; "
                "the lower-left corner is safe without exaggerated safety.",
}
# Per-suite harmfulness numbers: compliance with harmful prompts, the reward model's score and over-threshold
# rate (`harm_*`; `harmfulness_mean` in older runs), moderation flags.
HARM_METRICS = ("compliance_rate", "harm_score", "harm_rate", "harmfulness_mean", "flagged_rate",
                "moderation_flagged_rate", "moderation_max_score")
CAPABILITY_METRICS = ("exact_match",)
INTERVAL_SUFFIXES = ("_ci_low", "_ci_high", "_stderr")
Z95 = 1.96


# ---------------------------------------------------------------- sweep folders


def sweep_root(path: str | Path) -> Path:
    """The sweep folder holding `path`: the nearest folder (itself included) with Hydra's multirun.yaml."""
    path = Path(path).resolve()
    for p in (path, *path.parents):
        if (p / "multirun.yaml").is_file():
            return p
    return path


def sweep_group_name(sweep_dir: str | Path) -> str:
    """The sweep's id, used as the W&B group of its jobs and report: `<date>/<time>` for `multirun/<date>/<time>`.

    It is the path below the last `multirun` folder, or else the last two path parts; a job folder inside the
    sweep gives the same id as the sweep folder.
    """
    parts = sweep_root(sweep_dir).parts
    if "multirun" in parts[:-1]:
        cut = len(parts) - 1 - parts[::-1].index("multirun")
        name = "/".join(parts[cut + 1:])
    else:
        name = "/".join(parts[-2:])
    return name[-128:]  # W&B caps group names at 128 characters


def newest_sweep(root: str | Path = "multirun") -> Path:
    """The most recently launched sweep under `root` (by the time Hydra last wrote its multirun.yaml)."""
    root = Path(root)
    patterns = ("*/multirun.yaml", "*/*/multirun.yaml", "*/*/*/multirun.yaml")  # not into job folders
    found = [p.parent for pattern in patterns for p in root.glob(pattern)] if root.is_dir() else []
    if not found:
        raise ConfigError(f"no sweep folders (with multirun.yaml) under {root}/; pass a sweep folder, "
                          "e.g. python -m safetuned.report multirun/<date>/<time>")
    return max(found, key=lambda p: ((p / "multirun.yaml").stat().st_mtime, str(p)))


def find_job_dirs(sweep_dir: Path) -> list[Path]:
    """Every job folder (one with Hydra's `.hydra/overrides.yaml`) under the sweep, nested ones included."""
    jobs = []
    for dirpath, dirnames, _ in os.walk(sweep_dir):
        if (Path(dirpath) / ".hydra" / "overrides.yaml").is_file():
            jobs.append(Path(dirpath))
            dirnames.clear()  # a job's own folders (checkpoints, adapter, wandb) hold no jobs
        else:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("wandb", "plots"))
    return sorted(jobs)


# ---------------------------------------------------------------- jobs


@dataclass
class Job:
    """One job of the sweep: its overrides (typed), status, error and metrics."""

    name: str
    path: Path | None
    overrides: list[str]
    values: dict[str, Any]
    status: str
    error: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status == "completed"


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


def parse_overrides(overrides: Iterable[str], ignore: Iterable[str] = ()) -> dict[str, Any]:
    """`key=value` strings to `{key: typed value}` with Hydra's own override grammar (ints stay ints).

    Keys in `ignore` (Hydra's `override_dirname.exclude_keys`, e.g. `resume`) are run controls, not part of a
    job's identity, and are left out.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    values: dict[str, Any] = {}
    for text in overrides:
        try:
            o = parser.parse_override(str(text))
        except OverrideParseException as e:
            raise ConfigError(f"cannot parse override {text!r}: {_one_line(e)}") from e
        if o.is_delete() or o.key_or_group in ignore:
            continue
        value = o.value()
        values[o.key_or_group] = value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
    return values


def load_job(sweep_dir: Path, job_dir: Path, ignore: Iterable[str] = ()) -> Job:
    """Read one job folder; a folder without status.json or metrics.json is "unfinished", never an error."""
    name = job_dir.relative_to(sweep_dir).as_posix()
    overrides_file = job_dir / ".hydra" / "overrides.yaml"
    try:
        overrides = yaml.safe_load(overrides_file.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{overrides_file}: unreadable ({_one_line(e)})") from e
    if not isinstance(overrides, list):
        raise ConfigError(f"{overrides_file}: not a YAML list of key=value overrides")
    overrides = [str(o) for o in overrides]
    job = Job(name, job_dir, overrides, parse_overrides(overrides, ignore), "unfinished")
    status = _read_optional_json(job_dir / "status.json")
    if isinstance(status, dict) and status.get("status") == "failed":
        job.status, job.error = "failed", str(status.get("error") or "failed (no error message recorded)")
        return job
    metrics = _read_optional_json(job_dir / "metrics.json")
    if not isinstance(status, dict):
        job.error = "no status.json: the job never started or was killed at once"
    elif status.get("status") != "completed":
        job.error = f"status {status.get('status')!r} since {status.get('started_at')} (running or killed)"
    elif not isinstance(metrics, dict):
        job.error = "completed but no readable metrics.json"
    else:
        job.status = "completed"
        job.metrics = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))
                       and not isinstance(v, bool)}
    return job


def _read_optional_json(path: Path) -> Any:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def sweep_hydra_config(sweep_dir: Path) -> dict[str, Any]:
    """The raw (unresolved) `hydra` section of the sweep's multirun.yaml, {} when missing or unreadable."""
    try:
        cfg = yaml.safe_load((sweep_dir / "multirun.yaml").read_text(encoding="utf-8"))
        return cfg["hydra"] if isinstance(cfg, dict) and isinstance(cfg.get("hydra"), dict) else {}
    except (OSError, yaml.YAMLError):
        return {}


def excluded_keys(hydra_cfg: dict[str, Any]) -> set[str]:
    """Keys Hydra leaves out of job folder names (`hydra.job.config.override_dirname.exclude_keys`)."""
    try:
        return set(hydra_cfg["job"]["config"]["override_dirname"]["exclude_keys"] or [])
    except (KeyError, TypeError):
        return set()


def expected_jobs(hydra_cfg: dict[str, Any]) -> list[list[str]]:
    """The jobs a basic-sweeper sweep was launched with, from its multirun.yaml ([] when unknown)."""
    sweeper = hydra_cfg.get("sweeper") or {}
    if not str(sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return []
    try:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser

        args = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
        args += list(hydra_cfg["overrides"]["task"] or [])
        return BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(args), None)[0]
    except Exception as e:  # noqa: BLE001 - only a convenience: a glob sweep or odd config just skips it
        log.debug("cannot list the sweep's expected jobs from multirun.yaml: %s", e)
        return []


def collect_jobs(sweep_dir: str | Path) -> list[Job]:
    """Every job folder of the sweep, plus jobs multirun.yaml lists that never got a folder ("not started")."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise ConfigError(f"sweep folder {sweep_dir} does not exist; pass a multirun/<date>/<time> folder")
    if (sweep_dir / ".hydra").is_dir():
        raise ConfigError(f"{sweep_dir} is one job's folder, not a sweep folder; pass the multirun/<date>/<time> "
                          "folder that holds the jobs")
    hydra_cfg = sweep_hydra_config(sweep_dir)
    ignore = excluded_keys(hydra_cfg)
    jobs = [load_job(sweep_dir, d, ignore) for d in find_job_dirs(sweep_dir)]
    seen = {_identity(j.values) for j in jobs}
    for overrides in expected_jobs(hydra_cfg):
        values = parse_overrides(overrides, ignore)
        if _identity(values) not in seen:
            jobs.append(Job(",".join(overrides), None, overrides, values, "not started",
                            "no job folder: the sweep stopped before this job"))
    if not jobs:
        raise ConfigError(f"sweep folder {sweep_dir} holds no jobs (no */.hydra/overrides.yaml); "
                          "pass a multirun/<date>/<time> folder of a started sweep")
    return jobs


def _identity(values: dict[str, Any]) -> frozenset:
    return frozenset((k, repr(v)) for k, v in values.items())


# ---------------------------------------------------------------- metrics


def metric_family(name: str) -> str | None:
    """`harmfulness`, `exaggerated_safety`, `capability`, `training`, or None for other numbers."""
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
    if parts[-1] in HARM_METRICS:
        return "harmfulness"
    if parts[-1] == "refusal_rate":
        return "exaggerated_safety"
    if parts[-1] in CAPABILITY_METRICS:
        return "capability"
    return None


def base_metrics(jobs: Sequence[Job]) -> list[str]:
    """Metric names without their interval siblings, ordered by family, kind, pooled suites first, then name."""
    names = {k for j in jobs for k in j.metrics}
    bases = {n for n in names if not any(n.endswith(s) and n[: -len(s)] in names for s in INTERVAL_SUFFIXES)}
    order = list(FAMILIES)

    def key(n: str) -> tuple:
        fam, parts = metric_family(n), n.split("/")
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


# ---------------------------------------------------------------- report


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


def _sort_key(v: Any) -> tuple:
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
    return sorted(groups.values(), key=lambda g: [_sort_key(g.values[k]) for k in keys])


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
    sweep_dir = Path(sweep_dir).resolve()
    jobs = collect_jobs(sweep_dir)
    keys, swept = override_keys(jobs)
    jobs.sort(key=lambda j: ([_sort_key(j.values.get(k)) for k in keys], j.name))
    x = choose_x_key(jobs, swept, x_key)
    metrics = base_metrics(jobs)
    columns, rows = job_table(jobs, swept, [k for k in keys if k not in swept], metrics)
    report = SweepReport(sweep_dir, jobs, keys, swept, x, metrics, columns, rows)
    if SEED_KEY in swept:
        groups = seed_groups(jobs, [k for k in swept if k != SEED_KEY])
        report.summary_columns, report.summary_rows = summary_table(groups, swept, metrics)
    if write:
        write_report(report)
    return report


# ---------------------------------------------------------------- plots


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _label(values: dict[str, Any]) -> str | None:
    return ", ".join(f"{_short(k)}={v}" for k, v in values.items()) or None


def family_panels(report: SweepReport, family: str) -> list[Panel]:
    """One panel per metric of the family: mean (over seeds) against the x key, one line per other swept value."""
    from safetuned.plots import Panel, Series

    groups = seed_groups(report.jobs, report.plot_keys)
    line_keys = [k for k in report.plot_keys if k != report.x_key]
    panels = []
    for m in (m for m in report.metrics if metric_family(m) == family):
        lines: dict[str, Series] = {}
        for g in groups:
            s = g.stats(m)
            if not s:
                continue
            label = _label({k: g.values[k] for k in line_keys})
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
            "harm_rate": "share scored harmful"}.get(last, last.replace("_", " "))


def _pooled(metrics: dict[str, float], pooled: str, kind: str) -> tuple[float, float, float] | None:
    """(value, lo, hi) of the pooled rate, else the mean of the per-suite rates (no interval)."""
    if pooled in metrics:
        ci = interval(metrics, pooled) or (math.nan, math.nan)
        return metrics[pooled], *ci
    xs = [v for k, v in metrics.items() if k.endswith(f"/{kind}") and k.startswith("eval/") and math.isfinite(v)]
    return (sum(xs) / len(xs), math.nan, math.nan) if xs else None


def tradeoff_points(report: SweepReport) -> list[Point]:
    """One point per finished job: mean harmful compliance against mean safe-prompt refusal."""
    from safetuned.plots import Point

    line_keys = [k for k in report.plot_keys if k != report.x_key]
    points = []
    for j in report.jobs:
        if not j.finished:
            continue
        harm = _pooled(j.metrics, "eval/all_harmful/compliance_rate", "compliance_rate")
        safe = _pooled(j.metrics, "eval/all_safe/refusal_rate", "refusal_rate")
        if harm and safe:
            label = _label({k: j.values.get(k) for k in report.swept if k not in line_keys}) or j.name
            points.append(Point(label, _label({k: j.values.get(k) for k in line_keys}), harm[0], safe[0],
                                harm[1], harm[2], safe[1], safe[2]))
    return points


def write_plots(report: SweepReport, out_dir: Path) -> dict[str, Path]:
    """Every family plot with data, and the trade-off plot, as PNGs in `out_dir`."""
    from safetuned.plots import plot_panels, plot_tradeoff

    x_label = report.x_key or "job"
    x_order = sorted({repr(j.values.get(report.x_key)): j.values.get(report.x_key) for j in report.jobs
                      if j.finished}.values(), key=_sort_key) if report.x_key else ["all"]
    if report.seed_mean:
        subtitle = "points: mean over seeds; error bars: min–max over seeds (95% CI where one seed finished)"
    else:
        subtitle = "error bars: 95% interval (bootstrap, or ±1.96·stderr for lm-eval)"
    plots = {}
    for family, title in FAMILIES.items():
        panels = family_panels(report, family)
        if panels:
            plots[family] = plot_panels(panels, out_dir / f"{family}.png", title, x_label, x_order, subtitle)
    points = tradeoff_points(report)
    if points:
        plots["tradeoff"] = plot_tradeoff(
            points, out_dir / "tradeoff.png", "Safety trade-off: one point per job (lower-left is better)",
            "harmful prompts complied with (lower is safer)", "safe prompts refused (lower is more helpful)")
    return plots


# ---------------------------------------------------------------- files


def fmt(v: Any) -> str:
    """A table cell: counts as integers, rates and losses to 3 decimals, big numbers with separators, None as ''."""
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, int) or (v.is_integer() and 10 <= abs(v) < 1e15):
        return f"{int(v):,}" if abs(v) >= 10_000 else str(int(v))
    return f"{v:,.1f}" if abs(v) >= 1000 else f"{v:.3f}"


def cell(row: dict[str, Any], metric: str) -> str:
    """`value [lo, hi]` for a metric with an interval, else the value."""
    v = row.get(metric)
    lo, hi = row.get(f"{metric}_ci_low"), row.get(f"{metric}_ci_high")
    if v is None or lo is None or hi is None:
        return fmt(v)
    return f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]"


def summary_cell(row: dict[str, Any], metric: str) -> str:
    """`mean ± std (min–max)` over seeds."""
    v, std = row.get(metric), row.get(f"{metric}_seed_std")
    if v is None:
        return ""
    if std is None or not math.isfinite(std):
        return fmt(v)
    return f"{fmt(v)} ± {fmt(std)} ({fmt(row[f'{metric}_seed_min'])}–{fmt(row[f'{metric}_seed_max'])})"


def to_csv(columns: Sequence[str], rows: Sequence[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows([{k: ("" if v is None else v) for k, v in r.items()} for r in rows])
    return buf.getvalue()


def sections(report: SweepReport) -> list[tuple[str, list[str]]]:
    """(title, metrics) per table section: each family with data, then the other numbers."""
    out = [(title, [m for m in report.metrics if metric_family(m) == fam]) for fam, title in FAMILIES.items()]
    out.append(("Other numbers", [m for m in report.metrics if metric_family(m) is None]))
    return [(t, ms) for t, ms in out if ms]


def _first_line(text: str | None, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _md_table(headers: Sequence[str], body: Iterable[Sequence[str]]) -> list[str]:
    return [_md_row(headers), _md_row(["---"] * len(headers)), *(_md_row(r) for r in body)]


def headline(report: SweepReport) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items())
    swept = ", ".join(f"{k} ({len({repr(j.values.get(k)) for j in report.jobs})} values)" for k in report.swept)
    return f"{len(report.jobs)} jobs: {counts}. Swept: {swept or 'nothing (one job)'}."


def fixed_overrides(report: SweepReport) -> str:
    """The overrides every job shares (left out of the md/HTML tables, kept in report.csv)."""
    first = report.jobs[0].values
    return ", ".join(f"{k}={'null' if first.get(k) is None else fmt(first.get(k))}"
                     for k in report.keys if k not in report.swept)


def to_markdown(report: SweepReport) -> str:
    """report.md: the jobs with status and error, one table per metric family (cells `value [95% interval]`)."""
    keys = report.swept
    fixed = fixed_overrides(report)
    lines = [f"# Sweep report: {report.sweep_dir}", "", headline(report),
             *([f"Same in every job: `{fixed}`."] if fixed else []),
             "Cells are `value [95% interval]`; the same numbers, one column each, are in report.csv.", "",
             "## Jobs", ""]
    lines += _md_table([*keys, "status", "error", "job"],
                       ([fmt(r[k]) for k in keys] + [r["status"], _first_line(r["error"]), r["job"]]
                        for r in report.rows))
    for title, metrics in sections(report):
        lines += ["", f"## {title}", ""]
        lines += _md_table([*keys, "status", *metrics],
                           ([fmt(r[k]) for k in keys] + [r["status"]] + [cell(r, m) for m in metrics]
                            for r in report.rows))
    if report.summary_rows:
        skeys = [k for k in report.swept if k != SEED_KEY]
        shown = [m for m in report.metrics if metric_family(m)]
        lines += ["", "## Mean over seeds", "", "Cells are `mean ± std (min–max)` over the finished seeds.", ""]
        lines += _md_table([*skeys, "seeds", *shown],
                           ([fmt(r[k]) for k in skeys] + [r["seeds"]] + [summary_cell(r, m) for m in shown]
                            for r in report.summary_rows))
    if report.plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{name}](plots/{p.name})" for name, p in report.plots.items()]
    return "\n".join(lines) + "\n"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;
color:#1d2430;background:#fff;padding:0 16px;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #d8dde6;padding-bottom:.2em}
.meta{color:#55606e}.badge{display:inline-block;padding:2px 10px;border-radius:10px;margin-right:6px;
font-weight:600;font-size:.9em}.badge.completed{background:#e3f4e8;color:#1c6b36}
.badge.failed{background:#fde2e1;color:#a11}.badge.unfinished,.badge.not-started{background:#fff3cd;color:#7a5500}
.problems{border:2px solid #d33;background:#fff5f5;border-radius:8px;padding:8px 16px;margin:16px 0}
.problems pre{white-space:pre-wrap;margin:4px 0 12px;font-size:.85em;background:#fff;padding:6px;border-radius:4px}
figure{margin:18px 0}figure img{max-width:100%;border:1px solid #e2e6ec;border-radius:6px}
figcaption{color:#55606e;font-size:.9em}
.scroll{overflow-x:auto;margin:8px 0}table{border-collapse:collapse;font-size:.85em}
th,td{border:1px solid #d8dde6;padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#f2f4f8}.text{text-align:left}td.text{white-space:normal;max-width:420px}
tr.failed td{background:#fde2e1}tr.unfinished td,tr.not-started td{background:#fff3cd}
"""


def _css_class(status: str) -> str:
    return status.replace(" ", "-")


def _html_table(headers: Sequence[str], rows: Iterable[tuple[str, Sequence[str]]], text_cols: set[int]) -> str:
    head = "".join(f'<th class="text">{html.escape(h)}</th>' if i in text_cols else f"<th>{html.escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join(
        f'<tr class="{cls}">' + "".join(
            f'<td class="text">{html.escape(c)}</td>' if i in text_cols else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(cells)) + "</tr>"
        for cls, cells in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def to_html(report: SweepReport) -> str:
    """report.html: one self-contained page (inline CSS, plots as base64 data URIs, no external requests)."""
    e = html.escape
    keys = report.swept
    fixed = fixed_overrides(report)
    parts = [(f"<h1>Sweep report</h1><p class=\"meta\">{e(str(report.sweep_dir))} · W&amp;B group "
              f"<code>{e(report.group)}</code> · generated {dt.datetime.now():%Y-%m-%d %H:%M}</p>"),
             "<p>" + "".join(f'<span class="badge {_css_class(s)}">{n} {e(s)}</span>'
                             for s, n in report.counts().items()) + f"</p><p>{e(headline(report))}</p>"]
    if fixed:
        parts.append(f'<p class="meta">Same in every job: <code>{e(fixed)}</code></p>')
    bad = sorted((j for j in report.jobs if not j.finished), key=lambda j: STATUSES.index(j.status))
    if bad:
        items = "".join(f"<p><b>{e(j.name)}</b> — <span class=\"badge {_css_class(j.status)}\">{e(j.status)}"
                        f"</span></p><pre>{e(j.error or '')}</pre>" for j in bad)
        parts.append(f'<div class="problems"><h2>Failed or unfinished jobs ({len(bad)})</h2>{items}</div>')
    if report.plots:
        parts.append("<h2>Plots</h2>")
        for name, path in report.plots.items():
            data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
            caption = CAPTIONS[name].format(x=report.x_key or "job")
            parts.append(f'<figure><img src="data:image/png;base64,{data}" alt="{e(caption)}">'
                         f"<figcaption>{e(caption)}</figcaption></figure>")
    if report.summary_rows:
        skeys = [k for k in report.swept if k != SEED_KEY]
        shown = [m for m in report.metrics if metric_family(m)]
        parts.append("<h2>Mean over seeds</h2><p class=\"meta\">mean ± std (min–max) over the finished seeds</p>")
        parts.append(_html_table([*skeys, "seeds", *map(pretty_metric, shown)],
                                 (("", [fmt(r[k]) for k in skeys] + [r["seeds"]] +
                                   [summary_cell(r, m) for m in shown]) for r in report.summary_rows), set()))
    parts.append("<h2>Jobs</h2>")
    parts.append(_html_table([*keys, "status", "error", "job"],
                             ((_css_class(r["status"]), [fmt(r[k]) for k in keys] +
                               [r["status"], _first_line(r["error"]), r["job"]]) for r in report.rows),
                             {len(keys), len(keys) + 1, len(keys) + 2}))
    for title, metrics in sections(report):
        parts.append(f"<h2>{e(title)}</h2><p class=\"meta\">value [95% interval]</p>")
        parts.append(_html_table([*keys, "status", *map(pretty_metric, metrics)],
                                 ((_css_class(r["status"]), [fmt(r[k]) for k in keys] + [r["status"]] +
                                   [cell(r, m) for m in metrics]) for r in report.rows), {len(keys)}))
    title = f"Sweep report {e(report.group)}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>{''.join(parts)}</body></html>\n")


def write_report(report: SweepReport) -> SweepReport:
    """Write plots/, report.csv, report.md, summary.csv (seeds swept) and report.html into the sweep folder."""
    d = report.sweep_dir
    with atomic_dir(d / "plots") as tmp:
        made = write_plots(report, tmp)
    report.plots = {name: d / "plots" / p.name for name, p in made.items()}
    write_text_atomic(d / "report.csv", to_csv(report.columns, report.rows))
    report.files = {"csv": d / "report.csv"}
    if report.summary_rows:
        write_text_atomic(d / "summary.csv", to_csv(report.summary_columns, report.summary_rows))
        report.files["summary_csv"] = d / "summary.csv"
    write_text_atomic(d / "report.md", to_markdown(report))
    write_text_atomic(d / "report.html", to_html(report))
    report.files.update(md=d / "report.md", html=d / "report.html")
    return report


# ---------------------------------------------------------------- W&B


def _wandb_table(columns: Sequence[str], rows: Sequence[dict]):
    """A wandb.Table; a column mixing numbers and text is logged as text so W&B accepts it."""
    import wandb

    def kind(v: Any) -> str:
        return "none" if v is None else "num" if isinstance(v, (int, float)) and not isinstance(v, bool) else "str"

    as_text = {c for c in columns if len({kind(r.get(c)) for r in rows} - {"none"}) > 1}
    data = [[(None if r.get(c) is None else str(r.get(c))) if c in as_text else r.get(c) for c in columns]
            for r in rows]
    return wandb.Table(columns=list(columns), data=data)


def log_report_to_wandb(report: SweepReport, project: str, entity: str | None = None, group: str | None = None,
                        mode: str = "offline") -> Path | None:
    """Log the job table, the seed-mean table and the plots to a `job_type=report` run in the sweep's group.

    The run goes under $WANDB_DIR, else the sweep folder. Returns the run's local folder (`wandb sync` it later
    when offline). The run is always finished.
    """
    if mode not in ("offline", "online", "disabled"):
        raise ConfigError(f"wandb mode={mode!r}; choose offline, online or disabled")
    import wandb

    group = group or report.group
    run = wandb.init(project=project, entity=entity, group=group, job_type="report", name=f"report {group}",
                     dir=os.environ.get("WANDB_DIR") or str(report.sweep_dir), mode=mode, reinit="create_new",
                     config={"sweep_dir": str(report.sweep_dir), "swept": report.swept, "x_key": report.x_key})
    try:
        payload: dict[str, Any] = {"report/jobs": _wandb_table(report.columns, report.rows)}
        if report.summary_rows:
            payload["report/mean_over_seeds"] = _wandb_table(report.summary_columns, report.summary_rows)
        for name, path in report.plots.items():
            payload[f"report/plots/{name}"] = wandb.Image(str(path), caption=FAMILIES.get(name, name))
        run.log(payload)
        run.summary.update({f"report/jobs_{s.replace(' ', '_')}": n for s, n in report.counts().items()})
        return Path(run.dir).parent if mode != "disabled" else None
    finally:
        run.finish()


# ---------------------------------------------------------------- CLI


def build_report(sweep_dir: str | Path | None = None, x_key: str | None = None, wandb_mode: str | None = None,
                 project: str = "safetuned", entity: str | None = None, root: str | Path = "multirun"
                 ) -> SweepReport:
    """The CLI's work: resolve the sweep folder (default: newest under `root`), write the report, log to W&B."""
    report = summarize_sweep(sweep_dir if sweep_dir is not None else newest_sweep(root), x_key=x_key)
    if wandb_mode:
        run_dir = log_report_to_wandb(report, project=project, entity=entity, mode=wandb_mode)
        if run_dir is not None:
            report.files["wandb_run"] = run_dir
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """`safetuned-report [SWEEP_DIR] [--x-key KEY] [--wandb offline|online] [--project P] [--entity E]`."""
    p = argparse.ArgumentParser(prog="safetuned-report", description=__doc__.split("\n\n")[0])
    p.add_argument("sweep_dir", nargs="?", help="a multirun/<date>/<time> folder (default: the newest under --root)")
    p.add_argument("--root", default="multirun", help="where to look for the newest sweep (default: multirun)")
    p.add_argument("--x-key", help="the swept key on the plots' x axis (default: the numeric one with most values)")
    p.add_argument("--wandb", choices=["offline", "online"], help="also log the report to W&B in this mode")
    p.add_argument("--project", default="safetuned", help="W&B project (default: safetuned)")
    p.add_argument("--entity", help="W&B entity (default: your default entity)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        report = build_report(args.sweep_dir, args.x_key, args.wandb, args.project, args.entity, args.root)
    except SafetunedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(headline(report))
    for path in [*report.files.values(), *report.plots.values()]:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
