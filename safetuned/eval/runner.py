"""The evaluation suite of a job: generate on every suite, score, and return `eval/<suite>/<metric>` metrics.

Used by the training callback (on the best adapter, in memory) and by `python -m safetuned.evaluate`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from safetuned.errors import ConfigError
from safetuned.eval.judge import normalize_answer
from safetuned.eval.stats import rate_with_ci
from safetuned.utils.io import write_json_atomic, write_jsonl_atomic

log = logging.getLogger(__name__)

SCORERS = ("refusal", "harmfulness", "moderation")


@dataclass
class EvalPlan:
    """A validated evaluation config: suites loaded, scorers checked, nothing generated yet."""

    enabled: bool
    suites: list = field(default_factory=list)
    generation: Any = None
    harmfulness: Any = None
    moderation: Any = None
    harness: dict | None = None
    helpfulness: Any = None
    every_n_validations: int = 0
    during_training_limit: int = 32
    log_samples: int = 20

    @classmethod
    def from_config(cls, cfg: DictConfig | None) -> EvalPlan:
        """Load and check every suite and scorer (raises a one-line SafetunedError on bad input)."""
        if cfg is None or not cfg.get("enabled", True):
            return cls(enabled=False)
        from safetuned.eval.generate import GenerationConfig
        from safetuned.eval.suites import load_suites

        c = OmegaConf.to_container(cfg, resolve=True)
        unknown = sorted(set(c.get("scorers") or {}) - set(SCORERS))
        if unknown:
            raise ConfigError(f"eval.scorers: unknown scorer(s) {unknown}; known: {list(SCORERS)}")
        limit = c.get("limit")
        spec = {name: {**s, "limit": s.get("limit", limit)} for name, s in (c.get("suites") or {}).items()}
        suites = load_suites(spec)
        gen = GenerationConfig.from_dict(c.get("generation") or {})
        scorers = c.get("scorers") or {}
        harm = mod = None
        if scorers.get("harmfulness"):
            from safetuned.eval.harmfulness import HarmfulnessScorer

            harm = HarmfulnessScorer(**scorers["harmfulness"])
            harm.validate()
        if scorers.get("moderation"):
            from safetuned.eval.moderation import ModerationScorer

            mod = ModerationScorer(**scorers["moderation"])
        harness = c.get("harness") or None
        if harness and harness.get("tasks"):
            from safetuned.eval.harness import check_tasks

            check_tasks(harness["tasks"], include_path=harness.get("include_path"),
                        include_defaults=bool(harness.get("include_defaults", False)))
        else:
            harness = None
        helpfulness = None
        if c.get("helpfulness"):
            from safetuned.eval.helpfulness_plan import HelpfulnessPlan

            helpfulness = HelpfulnessPlan.from_config(c["helpfulness"], {s.name: s for s in suites})
        during = c.get("during_training") or {}
        return cls(True, suites, gen, harm, mod, harness, helpfulness,
                   int(during.get("every_n_validations", 0) or 0), int(during.get("limit", 32) or 32),
                   int(c.get("log_samples", 20) or 0))

    def run(self, model, tokenizer, style, out_dir: str | Path | None, *, limit: int | None = None,
            with_harness: bool = True, progress: bool = True) -> tuple[dict[str, float], dict[str, list[dict]]]:
        """Generate and score every suite; write `<out_dir>/generations/<suite>.jsonl` and `<out_dir>/eval.json`
        (each suite's kind and size, which the report reads) when out_dir is given."""
        from safetuned.eval.generate import generate

        metrics: dict[str, float] = {}
        rows_by_suite: dict[str, list[dict]] = {}
        pooled: dict[str, list[dict]] = {"harmful": [], "safe": []}
        started = time.perf_counter()
        for suite in self.suites:
            n = len(suite.prompts) if limit is None else min(limit, len(suite.prompts))
            prompts = [style.render(p, i) for p, i in zip(suite.prompts[:n], suite.inputs[:n])]
            responses = generate(model, tokenizer, prompts, self.generation, progress=progress, desc=suite.name)
            rows = self._score_suite(suite, n, prompts, responses, metrics)
            rows_by_suite[suite.name] = rows
            if suite.kind in pooled:
                pooled[suite.kind] += rows
            if out_dir is not None:
                write_jsonl_atomic(Path(out_dir) / "generations" / f"{suite.name}.jsonl", rows)
        for kind, rows in pooled.items():
            if rows:
                metrics.update(rate_metrics(rows, kind, f"eval/all_{kind}/"))
        if self.helpfulness is not None:
            metrics.update(self.helpfulness.run(rows_by_suite, out_dir))
        if with_harness and self.harness:
            from safetuned.eval.harness import run_harness

            h = dict(self.harness)
            tasks = h.pop("tasks")
            metrics.update({f"eval/{k}": v for k, v in run_harness(model, tokenizer, tasks, **h).items()})
        metrics["time/eval_s"] = time.perf_counter() - started
        if out_dir is not None:
            write_json_atomic(Path(out_dir) / "eval.json", {"suites": {
                s.name: {"kind": s.kind, "n": len(rows_by_suite[s.name])} for s in self.suites}})
        return metrics, rows_by_suite

    def _score_suite(self, suite, n: int, prompts: list[str], responses: list[str],
                     metrics: dict[str, float]) -> list[dict]:
        """One row per answer (outcome, correctness, harm score) and the suite's `eval/<suite>/...` metrics."""
        from safetuned.eval.outcome import classify_outcomes

        outcomes = classify_outcomes(responses, suite.prompts[:n])
        rows = [
            {"id": suite.ids[k], "instruction": suite.prompts[k], "input": suite.inputs[k],
             "prompt": prompts[k], "response": responses[k], "outcome": o.outcome, "outcome_detail": o.detail,
             "refusal_label": o.verdict.label, "refused": o.outcome in REFUSED, "reference": suite.references[k]}
            for k, o in enumerate(outcomes)
        ]
        prefix = f"eval/{suite.name}/"
        if suite.kind == "capability" and any(r is not None for r in suite.references[:n]):
            for r in rows:
                r["correct"] = normalize_answer(r["response"]) == normalize_answer(r["reference"] or "")
        if self.harmfulness is not None and suite.kind != "capability":
            scores = self.harmfulness.score(suite.prompts[:n], responses)
            for r, s in zip(rows, scores):
                r["harm_score"], r["harmful"] = s, s >= self.harmfulness.threshold
        metrics.update(rate_metrics(rows, suite.kind, prefix))
        if self.moderation is not None and suite.kind != "capability":
            from safetuned.eval.moderation import summarize_moderation

            results = self.moderation.score(responses)
            for r, m in zip(rows, results):
                r["moderation"] = m
            metrics.update(summarize_moderation(results, prefix))
        metrics[prefix + "n"] = float(n)
        return rows


# Outcomes counted as refusals by `refusal_rate` (full and partial, as human annotators count them).
REFUSED = ("refusal", "partial_refusal")
# The rates every suite reports from its rows' outcomes, by suite kind (capability suites: refusals of benign
# requests and off-task answers; their exact match is added when they have references).
OUTCOME_RATES = {
    "harmful": ("refusal_rate", "partial_refusal_rate", "compliance_rate", "off_task_rate"),
    "safe": ("refusal_rate", "partial_refusal_rate", "compliance_rate", "off_task_rate"),
    "capability": ("refusal_rate", "off_task_rate"),
}


def row_value(row: dict, metric: str) -> float | None:
    """The 0/1 (or score) value one generated answer contributes to `metric`; None when it has none."""
    outcome = row.get("outcome")
    if metric == "refusal_rate":
        return float(outcome in REFUSED) if outcome else (float(row["refused"]) if "refused" in row else None)
    if metric in ("partial_refusal_rate", "compliance_rate", "off_task_rate"):
        return float(outcome == metric.removesuffix("_rate")) if outcome else None
    if metric == "exact_match":
        return float(row["correct"]) if row.get("correct") is not None else None
    if metric == "harmful_rate":
        return float(row["harmful"]) if row.get("harmful") is not None else None
    if metric == "harm_score":
        return float(row["harm_score"]) if row.get("harm_score") is not None else None
    return None


def rate_metrics(rows: list[dict], kind: str, prefix: str) -> dict[str, float]:
    """Every rate of the rows that they carry values for, each with its 95% interval."""
    out: dict[str, float] = {}
    names = [*OUTCOME_RATES.get(kind, ()), "exact_match", "harmful_rate", "harm_score"]
    for name in names:
        values = [row_value(r, name) for r in rows]
        if values and all(v is not None for v in values):
            out.update(rate_with_ci(values, name, prefix))
    return out


def summary_line(metrics: dict[str, float]) -> str:
    """A one-line human summary of the headline rates."""
    keys = ["eval/all_harmful/harmful_rate", "eval/all_harmful/compliance_rate", "eval/all_harmful/refusal_rate",
            "eval/all_harmful/off_task_rate", "eval/all_safe/refusal_rate"]
    keys += [k for k in metrics if k.endswith("/exact_match")]
    return ", ".join(f"{k.removeprefix('eval/')}={metrics[k]:.3f}" for k in keys if k in metrics and
                     not np.isnan(metrics[k]))
