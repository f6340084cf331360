"""The evaluation suite of a job: generate on every suite, score with the configured scorers, return
`eval/<suite>/<metric>` metrics.

Used by the training callback (on the best adapter, in memory) and by `python -m safetuned.evaluate`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from safetuned.eval.exact_match import normalize_answer
from safetuned.eval.probes import check_kl, check_prefill, kl_probe, prefill_answers, prefill_k, probe_tag
from safetuned.eval.scorers import Item, Scorer, build_scorers
from safetuned.eval.suite_metrics import judge_agreement, rate_metrics, scorer_metrics
from safetuned.utils.io import write_json_atomic, write_jsonl_atomic

log = logging.getLogger(__name__)

# Verdict fields compared between judges for the agreement table.
AGREEMENT_FIELDS = ("refused", "harmful")


@dataclass
class EvalPlan:
    """A validated evaluation config: suites loaded, scorers built and checked, nothing generated yet."""

    enabled: bool
    suites: list = field(default_factory=list)
    generation: Any = None
    scorers: list[Scorer] = field(default_factory=list)
    harness: dict | None = None
    helpfulness: Any = None
    every_n_validations: int = 0
    during_training_limit: int = 32
    log_samples: int = 20
    prefill: Any = None          # eval.prefill: a PrefillConfig (safetuned.eval.probes)
    kl_position: dict | None = None

    @classmethod
    def from_config(cls, cfg: DictConfig | None) -> EvalPlan:
        """Load and check every suite and scorer (raises a one-line SafetunedError on bad input)."""
        if cfg is None or not cfg.get("enabled", True):
            return cls(enabled=False)
        from safetuned.eval.generate import GenerationConfig
        from safetuned.eval.suites import load_suites

        c = OmegaConf.to_container(cfg, resolve=True)
        limit = c.get("limit")
        spec = {name: {**s, "limit": s.get("limit", limit)} for name, s in (c.get("suites") or {}).items()}
        suites = load_suites(spec)
        gen = GenerationConfig.from_dict(c.get("generation") or {})
        spec = dict(c.get("scorers") or {})
        spec = {"refusal": spec.pop("refusal", None) or True, **spec}  # the detector always runs, first
        scorers = build_scorers(spec, cache=_score_cache(c))
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
        return cls(True, suites, gen, scorers, harness, helpfulness,
                   int(during.get("every_n_validations", 0) or 0), int(during.get("limit", 32) or 32),
                   int(c.get("log_samples", 20) or 0), check_prefill(c.get("prefill"), suites),
                   check_kl(c.get("kl_position")))

    def primary(self) -> dict[str, str]:
        """Metric name -> the label of the scorer that reports it un-namespaced (the first configured one)."""
        owners: dict[str, str] = {}
        for s in self.scorers:
            for m in s.metrics():
                owners.setdefault(m.name, s.label)
        return owners

    def run(self, model, tokenizer, style, out_dir: str | Path | None, *, limit: int | None = None,
            with_harness: bool = True, progress: bool = True) -> tuple[dict[str, float], dict[str, list[dict]]]:
        """Generate on every suite, then score with one judge at a time over all suites (so only one judge model
        is in memory beside the evaluated one); write `<out_dir>/generations/<suite>.jsonl` and
        `<out_dir>/eval.json` (suite kinds and sizes, scorers, judge agreement: what the report reads)."""
        from safetuned.eval.generate import generate

        started = time.perf_counter()
        answered = []
        for suite in self.suites:
            n = len(suite.prompts) if limit is None else min(limit, len(suite.prompts))
            prompts = [style.render(p, i) for p, i in zip(suite.prompts[:n], suite.inputs[:n])]
            responses = generate(model, tokenizer, prompts, self.generation, progress=progress, desc=suite.name)
            answered.append((suite, prompts, responses))
        metrics: dict[str, float] = {}
        if self.kl_position is not None and with_harness:
            metrics.update(kl_probe(self.kl_position, model, tokenizer, answered, out_dir))
        if self.prefill is not None and with_harness:
            answered += prefill_answers(self.prefill, model, tokenizer, self.generation, answered, progress=progress)
        scored = self.score_suites(answered, metrics, progress=progress)
        rows_by_suite = {suite.name: rows for (suite, _, _), (rows, _) in zip(answered, scored)}
        agreement = {suite.name: [a for f in AGREEMENT_FIELDS for a in judge_agreement(verdicts, f)]
                     for (suite, _, _), (_, verdicts) in zip(answered, scored)}
        extra = [m for m in self.primary() if m != "refusal_rate"]
        pools: dict[tuple[str, str], list[dict]] = {}
        for s, _, _ in answered:  # all_harmful, all_safe, and all_harmful@prefill<k> for each k
            if s.kind in ("harmful", "safe"):
                pools.setdefault((s.kind, probe_tag(s.name)), []).extend(rows_by_suite[s.name])
        for (kind, tag), pooled in pools.items():
            metrics.update(rate_metrics(pooled, kind, f"eval/all_{kind}{tag}/", extra))
        if out_dir is not None:
            for name, rows in rows_by_suite.items():
                write_jsonl_atomic(Path(out_dir) / "generations" / f"{name}.jsonl", rows)
        if self.helpfulness is not None:
            metrics.update(self.helpfulness.run(rows_by_suite, out_dir))
        if with_harness and self.harness:
            from safetuned.eval.harness import run_harness

            h = dict(self.harness)
            tasks = h.pop("tasks")
            metrics.update({f"eval/{k}": v for k, v in run_harness(model, tokenizer, tasks, **h).items()})
        metrics["time/eval_s"] = time.perf_counter() - started
        if out_dir is not None:
            write_json_atomic(Path(out_dir) / "eval.json", {
                "suites": {s.name: {"kind": s.kind, "n": len(rows_by_suite[s.name]), "prefill": prefill_k(s.name)}
                           for s, _, _ in answered},
                "scorers": {s.label: {"scorer": s.name, "revision": s.revision()} for s in self.scorers},
                "primary": self.primary(), "agreement": {k: v for k, v in agreement.items() if v}})
        return metrics, rows_by_suite

    def score_suite(self, suite, prompts: list[str], responses: list[str], metrics: dict[str, float],
                    *, progress: bool = True) -> tuple[list[dict], dict[str, list[dict]]]:
        """`score_suites` of one suite."""
        return self.score_suites([(suite, prompts, responses)], metrics, progress=progress)[0]

    def score_suites(self, answered: list[tuple[Any, list[str], list[str]]], metrics: dict[str, float],
                     *, progress: bool = True) -> list[tuple[list[dict], dict[str, list[dict]]]]:
        """Per suite: one row per answer (outcome, correctness, every judge's verdict) and each judge's verdicts
        (label -> list, for the agreement table); adds the suites' `eval/<suite>/...` metrics to `metrics`.
        Each judge scores every suite, then is released (its weights freed) before the next one loads."""
        primary = self.primary()
        out = []
        for suite, prompts, responses in answered:
            n = len(responses)
            rows = [{"id": suite.ids[k], "instruction": suite.prompts[k], "input": suite.inputs[k],
                     "prompt": prompts[k], "response": responses[k], "reference": suite.references[k],
                     "category": _at(suite, "categories", k)} for k in range(n)]
            out.append((rows, {}))
        for scorer in self.scorers:
            own = [m for m in scorer.metrics() if primary.get(m.name) == scorer.label]
            rest = [m for m in scorer.metrics() if primary.get(m.name) != scorer.label]
            try:
                for (suite, _, responses), (rows, verdicts) in zip(answered, out):
                    if suite.kind not in scorer.kinds:
                        continue
                    items = [Item(suite.prompts[k], responses[k], _at(suite, "contexts", k),
                                  _at(suite, "categories", k)) for k in range(len(responses))]
                    got = scorer.score(items, progress=progress)
                    verdicts[scorer.label] = got
                    for row, v in zip(rows, got):
                        if scorer.name == "refusal" and primary.get("refusal_rate") == scorer.label:
                            row.update(v)  # outcome, outcome_detail, refusal_label, refused
                        else:
                            row.setdefault("scores", {})[scorer.label] = v
                            row.update({m.field: v.get(m.field) for m in own})
                    metrics.update(scorer_metrics(got, rest, f"eval/{suite.name}/{scorer.label}/"))
            finally:
                scorer.release()
        for (suite, _, responses), (rows, verdicts) in zip(answered, out):
            prefix = f"eval/{suite.name}/"
            if suite.kind == "capability" and any(r is not None for r in suite.references[:len(rows)]):
                for r in rows:
                    r["correct"] = normalize_answer(r["response"]) == normalize_answer(r["reference"] or "")
            extra = [m for m, owner in primary.items() if m != "refusal_rate" and owner in verdicts]
            metrics.update(rate_metrics(rows, suite.kind, prefix, extra))
            metrics[prefix + "n"] = float(len(rows))
        return out


def _at(suite, name: str, k: int) -> str | None:
    values = getattr(suite, name, None)
    return values[k] if values else None


def _score_cache(c: dict):
    """The sqlite verdict cache shared by a sweep's jobs (`eval.score_cache`; null: no cache)."""
    path = c.get("score_cache")
    if not path:
        return None
    from safetuned.eval.scorers.cache import ScoreCache

    return ScoreCache(path)
