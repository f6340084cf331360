"""AlpacaEval's own annotators as a pairwise judge (optional extra `safetuned[alpaca-eval]`)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from safetuned.errors import ConfigError
from safetuned.eval.judges.base import Comparison, Verdict, register_judge


def preference_to_winner(preference: Any) -> str:
    """AlpacaEval's preference (1 = output_1, 2 = output_2, in between for weighted annotators, 0 = identical
    outputs, NaN/-1 = no annotation) as a winner."""
    try:
        p = float(preference)
    except (TypeError, ValueError):
        return "invalid"
    if math.isnan(p) or p < 0 or p > 2:
        return "invalid"
    if p == 0 or p == 1.5:
        return "tie"
    if 1 <= p < 1.5:
        return "a"
    if 1.5 < p <= 2:
        return "b"
    return "invalid"


@register_judge
class AlpacaEvalJudge:
    """AlpacaEval's `PairwiseAnnotator` with one of its annotator configs (needs `safetuned[alpaca-eval]`).

    The annotator shuffles the output order itself and keeps its own annotation cache (`caching_path`).
    """

    name = "alpaca_eval"
    needs_gold = False

    def __init__(self, annotators_config: str = "alpaca_eval_gpt4_turbo_fn", **annotator_kwargs: Any):
        try:
            from alpaca_eval.annotators import PairwiseAnnotator
        except ImportError as e:
            raise ConfigError("judge 'alpaca_eval' needs the alpaca-eval package: "
                              "pip install 'safetuned[alpaca-eval]'") from e
        self.annotators_config = annotators_config
        try:
            self._annotator = PairwiseAnnotator(annotators_config=annotators_config, **annotator_kwargs)
        except (FileNotFoundError, KeyError, ValueError) as e:
            raise ConfigError(f"judge.annotators_config: alpaca-eval cannot load {annotators_config!r} "
                              f"({type(e).__name__}); see alpaca_eval/evaluators_configs/ for the names") from e

    def __repr__(self) -> str:
        return f"AlpacaEvalJudge(annotators_config={self.annotators_config!r})"

    def compare(self, instruction: str, output_a: str, output_b: str, *, gold: str | None = None) -> Verdict:
        return self.compare_many([Comparison(instruction, output_a, output_b)])[0]

    def compare_many(self, items: Sequence[Comparison], *, progress: bool = False) -> list[Verdict]:
        """Annotate all pairs in one call; rows are matched back by (instruction, output_1, output_2)."""
        pairs = [{"instruction": c.instruction, "output_1": c.output_a, "output_2": c.output_b} for c in items]
        annotated = self._annotator.annotate_pairs(pairs)
        by_key = {(r.get("instruction"), r.get("output_1"), r.get("output_2")): r for r in annotated}
        verdicts = []
        for p in pairs:
            row = by_key.get((p["instruction"], p["output_1"], p["output_2"]))
            pref = None if row is None else row.get("preference")
            raw = json.dumps({"preference": pref, "annotator": None if row is None else row.get("annotator")},
                             default=str)
            verdicts.append(Verdict(preference_to_winner(pref), raw))
        return verdicts
