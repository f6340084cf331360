"""How far the judges of a sweep agree: pairwise agreement and Cohen's kappa on the same answers, per job and suite.

Each job's eval.json holds the table its evaluation computed (`safetuned.eval.suite_metrics.judge_agreement`);
the report gathers them into agreement.csv, a section of report.md/report.html and a W&B table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from safetuned.utils.io import read_json

COLUMNS = ["job", "suite", "verdict", "judge_a", "judge_b", "n", "agreement", "agreement_ci_low",
           "agreement_ci_high", "kappa", "rate_a", "rate_b"]
CAPTION = ("Two judges' 0/1 verdicts (`refused`: the answer refuses, `harmful`: the answer is harmful) on the same "
           "answers, where both gave one: share of answers they agree on [95% Wilson interval], Cohen's kappa "
           "(agreement beyond chance; undefined when one judge gives a single verdict) and each judge's rate.")


def agreement_rows(jobs: Sequence) -> list[dict[str, Any]]:
    """One row per (finished job, suite, verdict field, judge pair)."""
    rows = []
    for job in jobs:
        if not job.finished:
            continue
        try:
            data = read_json(job.path / "eval.json")
        except (OSError, ValueError):
            continue
        for suite, pairs in sorted(((data or {}).get("agreement") or {}).items()):
            for p in pairs:
                rows.append({"job": job.name, "suite": suite, "verdict": p["field"], "judge_a": p["a"],
                             "judge_b": p["b"], "n": p["n"], "agreement": p["agreement"],
                             "agreement_ci_low": p["agreement_ci_low"], "agreement_ci_high": p["agreement_ci_high"],
                             "kappa": p["kappa"], "rate_a": p["a_rate"], "rate_b": p["b_rate"]})
    return rows


def agreement_cells(rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    """The rows as shown: `0.875 [0.71, 0.95]`, kappa to 3 decimals ('–' when undefined)."""
    def f(x: Any) -> str:
        return "–" if x is None else f"{x:.3f}"

    return [[r["job"], r["suite"], r["verdict"], f"{r['judge_a']} vs {r['judge_b']}", str(r["n"]),
             f"{r['agreement']:.3f} [{r['agreement_ci_low']:.2f}, {r['agreement_ci_high']:.2f}]", f(r["kappa"]),
             f"{r['rate_a']:.3f} / {r['rate_b']:.3f}"] for r in rows]


HEADERS = ["job", "suite", "verdict", "judges", "n", "agreement [95% CI]", "kappa", "rates (a / b)"]
