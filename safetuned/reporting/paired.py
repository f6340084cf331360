"""Paired comparisons of each job with its sweep's reference job (N=0, same seed, same prompts).

Each job's `generations/<suite>.jsonl` rows are joined with the reference job's rows on the prompt id, and every
headline rate is compared prompt by prompt (`safetuned.eval.stats.paired_difference`): exact McNemar for 0/1
outcomes with Newcombe's interval, a permutation test for scores. Suites are pooled per kind (all_harmful,
all_safe) by (suite, id). Prompts are treated as independent; template-built suites make the intervals too narrow.

Helpfulness against the reference job (AlpacaEval compares with a reference model's answers, not gold answers): on
capability suites with gold answers, each job's answer is judged against the reference job's answer to the same
prompt by the reference judge (the correct answer wins, both or neither correct is a tie), in both orders; the
`win_rate` row's reference value is 0.5 (a tie with the reference job), tested by sign-flip permutation. The
reference job itself reports no win rate.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetuned.eval.helpfulness import evaluate_helpfulness
from safetuned.eval.judges import make_judge
from safetuned.eval.probes import probe_tag
from safetuned.eval.stats import paired_difference
from safetuned.eval.suite_metrics import row_value
from safetuned.reporting.metrics import EvalInfo
from safetuned.utils.io import read_jsonl

log = logging.getLogger(__name__)

REFERENCE_KEYS = ("attack.n", "data.safety_n")  # an attack sweep: the unattacked n=0; a tuning sweep: N=0
# The rates compared per suite kind; the harmful-answer rate leads where a harm scorer ran.
PAIRED_METRICS = {
    "harmful": ("harmful_rate", "compliance_rate", "refusal_rate", "off_task_rate"),
    "safe": ("refusal_rate", "off_task_rate"),
    "capability": ("exact_match",),
}
COLUMNS = ["job", "reference", "suite", "metric", "reference_value", "value", "difference", "difference_ci_low",
           "difference_ci_high", "p_value", "n_pairs", "test"]


@dataclass
class Comparison:
    job: str
    reference: str
    suite: str
    metric: str
    result: Any

    def row(self) -> dict[str, Any]:
        r = self.result
        return {"job": self.job, "reference": self.reference, "suite": self.suite, "metric": self.metric,
                "reference_value": r.base, "value": r.other, "difference": r.diff, "difference_ci_low": r.lo,
                "difference_ci_high": r.hi, "p_value": r.p, "n_pairs": r.n, "test": r.test}


def _rows(job_dir: Path, suite: str) -> dict[str, dict]:
    path = job_dir / "generations" / f"{suite}.jsonl"
    try:
        return {str(r.get("id")): r for r in read_jsonl(path)}
    except (OSError, ValueError) as e:
        log.warning("paired comparison: cannot read %s (%s)", path, e)
        return {}


def compare_jobs(job_dir: Path, ref_dir: Path, job: str, reference: str) -> list[Comparison]:
    """Every paired comparison of `job_dir` against `ref_dir` on the suites both evaluated."""
    kinds = EvalInfo.read([job_dir]).kinds  # each job's own eval.json: the suites it evaluated, and their kinds
    ref_kinds = EvalInfo.read([ref_dir]).kinds
    out: list[Comparison] = []
    pooled: dict[str, dict[str, tuple[list, list]]] = {}
    for suite, kind in kinds.items():
        if ref_kinds.get(suite) != kind:
            continue
        mine, theirs = _rows(job_dir, suite), _rows(ref_dir, suite)
        ids = [i for i in mine if i in theirs]
        for metric in PAIRED_METRICS.get(kind, ()):
            a = [row_value(theirs[i], metric) for i in ids]
            b = [row_value(mine[i], metric) for i in ids]
            if not ids or any(v is None for v in a + b):
                continue
            out.append(Comparison(job, reference, suite, metric, paired_difference(a, b)))
            if kind in ("harmful", "safe"):  # pooled per kind, and per probe (all_harmful@prefill5)
                pool = f"all_{kind}{probe_tag(suite)}"
                pa, pb = pooled.setdefault(pool, {}).setdefault(metric, ([], []))
                pa += a
                pb += b
        if kind == "capability" and ids:
            win = win_rate_against(mine, theirs, ids)
            if win is not None:
                out.append(Comparison(job, reference, suite, "win_rate", win))
    for pool, by_metric in pooled.items():
        for metric, (a, b) in by_metric.items():
            out.append(Comparison(job, reference, pool, metric, paired_difference(a, b)))
    return out


def win_rate_against(mine: dict[str, dict], theirs: dict[str, dict], ids: Sequence[str]) -> Any | None:
    """The job's helpfulness win rate against the reference job's answers (gold-answer judge, both orders), as a
    paired difference from 0.5; None when the suite has no gold answers."""
    ids = [i for i in ids if mine[i].get("reference") is not None]
    if not ids:
        return None
    result = evaluate_helpfulness(
        [mine[i].get("instruction") or "" for i in ids], [mine[i].get("response") for i in ids],
        [theirs[i].get("response") or "" for i in ids], make_judge({"name": "reference"}),
        inputs=[mine[i].get("input") for i in ids], gold=[mine[i]["reference"] for i in ids], progress=False)
    scores = [r["score"] for r in result.records if r["score"] is not None]
    return paired_difference([0.5] * len(scores), scores)


def reference_key(swept: Sequence[str], x_key: str | None) -> str | None:
    """The swept key whose smallest value is the reference: attack n or N when swept, else the plots' x key."""
    return next((k for k in REFERENCE_KEYS if k in swept), x_key)


def paired_comparisons(jobs: Sequence, swept: Sequence[str], x_key: str | None) -> list[Comparison]:
    """Compare each finished job with the finished job of the smallest reference value sharing its other keys."""
    key = reference_key(swept, x_key)
    if key is None:
        return []
    others = [k for k in swept if k != key]
    finished = [j for j in jobs if j.finished and j.path is not None]
    refs: dict[tuple, Any] = {}
    for j in finished:
        ident = tuple(repr(j.values.get(k)) for k in others)
        value = j.values.get(key)
        best = refs.get(ident)
        if isinstance(value, (int, float)) and (best is None or value < best.values.get(key)):
            refs[ident] = j
    out: list[Comparison] = []
    for j in finished:
        ref = refs.get(tuple(repr(j.values.get(k)) for k in others))
        if ref is not None and ref is not j:
            out += compare_jobs(j.path, ref.path, j.name, ref.name)
    return out


def significance(p: float) -> str:
    return "" if not math.isfinite(p) else "**" if p < 0.01 else "*" if p < 0.05 else ""
