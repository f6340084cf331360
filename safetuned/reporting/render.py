"""The report's files: report.csv, summary.csv, paired.csv, report.md and report.html, and `write_report`, which
writes them with the plots into the sweep folder.

report.md and report.html show the same tables (built once here as header and cell text); the page's markup is
the jinja2 template `templates/report.html.j2` with its stylesheet `templates/report.css`, inlined so the page
is self-contained (plots as base64 data URIs, no external requests).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from safetuned.reporting.agreement import CAPTION as AGREEMENT_CAPTION
from safetuned.reporting.agreement import COLUMNS as AGREEMENT_COLUMNS
from safetuned.reporting.agreement import HEADERS as AGREEMENT_HEADERS
from safetuned.reporting.agreement import agreement_cells
from safetuned.reporting.collect import STATUSES
from safetuned.reporting.metrics import CAPTIONS, FAMILIES, metric_family, pretty_metric
from safetuned.reporting.paired import COLUMNS as PAIRED_COLUMNS
from safetuned.reporting.paired import reference_key, significance
from safetuned.reporting.plots import write_plots
from safetuned.reporting.tables import SEED_KEY, SweepReport
from safetuned.utils.io import atomic_dir, write_text_atomic


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
    out = [(title, [m for m in report.metrics if metric_family(m, report.info) == fam])
           for fam, title in FAMILIES.items()]
    out.append(("Other numbers", [m for m in report.metrics if metric_family(m, report.info) is None]))
    return [(t, ms) for t, ms in out if ms]


INDEPENDENCE = ("Intervals and tests treat prompts as independent; suites built from shared templates (the demo's) "
                "make them narrower than an interval clustered by template would be.")
PAIRED_HEADERS = ["job", "suite", "metric", "reference", "job value", "difference [95% CI]", "p", "pairs"]


def paired_caption(report: SweepReport) -> str:
    key = reference_key(report.swept, report.x_key)
    return (f"Each finished job against the job with the smallest {key} that shares its other swept values "
            "(same seed, same prompts), prompt by prompt: difference = job − reference. 0/1 outcomes: exact "
            "McNemar test on the discordant prompts, Newcombe's score interval; scores: sign-flip permutation "
            "test, paired bootstrap interval. * p < 0.05, ** p < 0.01. " + INDEPENDENCE)


def paired_cells(report: SweepReport) -> list[list[str]]:
    """Per comparison: job, suite, metric, both values, `difference [95% CI]` with stars, p, pairs."""
    out = []
    for c in report.paired:
        r = c.result
        out.append([c.job, c.suite, c.metric, fmt(r.base), fmt(r.other),
                    f"{r.diff:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}]{significance(r.p)}",
                    f"{r.p:.2g}" if math.isfinite(r.p) else "", str(r.n)])
    return out


def _first_line(text: str | None, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def headline(report: SweepReport) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items())
    swept = ", ".join(f"{k} ({len({repr(j.values.get(k)) for j in report.jobs})} values)" for k in report.swept)
    return f"{len(report.jobs)} jobs: {counts}. Swept: {swept or 'nothing (one job)'}."


def fixed_overrides(report: SweepReport) -> str:
    """The overrides every job shares (left out of the md/HTML tables, kept in report.csv)."""
    first = report.jobs[0].values
    return ", ".join(f"{k}={'null' if first.get(k) is None else fmt(first.get(k))}"
                     for k in report.keys if k not in report.swept)


# ---------------------------------------------------------------- tables of report.md and report.html


@dataclass
class Table:
    """A table as shown: headers, rows of (row CSS class, cells), and the columns of left-aligned text."""

    headers: list[str]
    rows: list[tuple[str, list[str]]]
    text_cols: set[int] = field(default_factory=set)


def _css_class(status: str) -> str:
    return status.replace(" ", "-")


def jobs_table(report: SweepReport) -> Table:
    """One row per job: swept values, status, the first line of its error, job folder."""
    keys = report.swept
    rows = [(_css_class(r["status"]), [*(fmt(r[k]) for k in keys), r["status"], _first_line(r["error"]), r["job"]])
            for r in report.rows]
    return Table([*keys, "status", "error", "job"], rows, {len(keys), len(keys) + 1, len(keys) + 2})


def section_table(report: SweepReport, metrics: Sequence[str], label: Callable[[str], str] = str) -> Table:
    """One row per job: swept values, status and `value [95% interval]` of each metric."""
    keys = report.swept
    return Table([*keys, "status", *map(label, metrics)],
                 [(_css_class(r["status"]), [fmt(r[k]) for k in keys] + [r["status"]] +
                   [cell(r, m) for m in metrics]) for r in report.rows], {len(keys)})


def seed_mean_table(report: SweepReport, label: Callable[[str], str] = str) -> Table:
    """One row per seed group: `mean ± std (min–max)` of each metric with a family."""
    keys = [k for k in report.swept if k != SEED_KEY]
    shown = [m for m in report.metrics if metric_family(m, report.info)]
    return Table([*keys, "seeds", *map(label, shown)],
                 [("", [fmt(r[k]) for k in keys] + [r["seeds"]] + [summary_cell(r, m) for m in shown])
                  for r in report.summary_rows])


def agreement_table(report: SweepReport) -> Table:
    """One row per job, suite, verdict and pair of judges."""
    return Table(AGREEMENT_HEADERS, [("", c) for c in agreement_cells(report.agreement)], {0, 1, 2, 3})


def paired_table(report: SweepReport) -> Table:
    """One row per paired comparison with the reference job."""
    return Table(PAIRED_HEADERS, [("", c) for c in paired_cells(report)], {0, 1, 2})


# ---------------------------------------------------------------- report.md, report.html


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _md_table(table: Table) -> list[str]:
    return [_md_row(table.headers), _md_row(["---"] * len(table.headers)), *(_md_row(r) for _, r in table.rows)]


def to_markdown(report: SweepReport) -> str:
    """report.md: the jobs with status and error, one table per metric family (cells `value [95% interval]`)."""
    fixed = fixed_overrides(report)
    lines = [f"# Sweep report: {report.sweep_dir}", "", headline(report),
             *([f"Same in every job: `{fixed}`."] if fixed else []),
             "Cells are `value [95% interval]` (Wilson score intervals for rates, bootstrap for scores, "
             "±1.96·stderr for lm-eval); the same numbers, one column each, are in report.csv. " + INDEPENDENCE, "",
             "## Jobs", "", *_md_table(jobs_table(report))]
    for title, metrics in sections(report):
        lines += ["", f"## {title}", "", *_md_table(section_table(report, metrics))]
    if report.paired:
        lines += ["", "## Paired comparison with the reference job", "", paired_caption(report), ""]
        lines += _md_table(paired_table(report))
    if report.agreement:
        lines += ["", "## Judge agreement", "", AGREEMENT_CAPTION, "", *_md_table(agreement_table(report))]
    if report.summary_rows:
        lines += ["", "## Mean over seeds", "", "Cells are `mean ± std (min–max)` over the finished seeds.", ""]
        lines += _md_table(seed_mean_table(report))
    if report.plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{name}](plots/{p.name})" for name, p in report.plots.items()]
    return "\n".join(lines) + "\n"


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("safetuned.reporting", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    return env.get_template("report.html.j2")


def to_html(report: SweepReport) -> str:
    """report.html: one self-contained page (inline CSS, plots as base64 data URIs, no external requests)."""
    x = report.x_key or "job"
    problems = sorted((j for j in report.jobs if not j.finished), key=lambda j: STATUSES.index(j.status))
    return _template().render(
        sweep_dir=str(report.sweep_dir), group=report.group, generated=f"{dt.datetime.now():%Y-%m-%d %H:%M}",
        counts=[(_css_class(s), f"{n} {s}") for s, n in report.counts().items()], headline=headline(report),
        fixed=fixed_overrides(report),
        problems=[(j.name, _css_class(j.status), j.status, j.error or "") for j in problems],
        figures=[(base64.b64encode(Path(p).read_bytes()).decode("ascii"), CAPTIONS[name].format(x=x))
                 for name, p in report.plots.items()],
        seed_mean=seed_mean_table(report, pretty_metric) if report.summary_rows else None,
        paired=(paired_caption(report), paired_table(report)) if report.paired else None,
        agreement=(AGREEMENT_CAPTION, agreement_table(report)) if report.agreement else None,
        jobs=jobs_table(report),
        sections=[(title, section_table(report, metrics, pretty_metric)) for title, metrics in sections(report)])


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
    if report.paired:
        write_text_atomic(d / "paired.csv", to_csv(PAIRED_COLUMNS, [c.row() for c in report.paired]))
        report.files["paired_csv"] = d / "paired.csv"
    if report.agreement:
        write_text_atomic(d / "agreement.csv", to_csv(AGREEMENT_COLUMNS, report.agreement))
        report.files["agreement_csv"] = d / "agreement.csv"
    write_text_atomic(d / "report.md", to_markdown(report))
    write_text_atomic(d / "report.html", to_html(report))
    report.files.update(md=d / "report.md", html=d / "report.html")
    return report
