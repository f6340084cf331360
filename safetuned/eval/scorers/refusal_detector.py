"""The offline refusal detector as a scorer: each answer's outcome (refusal, partial refusal, compliance, off-task).

It always runs (no weights, no network) and is the primary refusal judge: its `refusal_rate` and the outcome rates
are the suite's `eval/<suite>/refusal_rate`, `compliance_rate`, ...; other refusal judges report under their label.
"""

from __future__ import annotations

from typing import Any

from safetuned.eval.scorers.base import Item, Scorer
from safetuned.eval.scorers.registry import register_scorer

# Outcomes counted as refusals (full and partial, as human annotators count them).
REFUSED = ("refusal", "partial_refusal")


@register_scorer
class RefusalDetector(Scorer):
    """`safetuned.eval.outcome.classify_outcomes` over (prompt, answer) pairs."""

    name = "refusal"
    measures = ("refusal",)
    kinds = ("harmful", "safe", "capability")
    cacheable = False  # cheap, and its verdicts change with the detector's code

    def _score(self, items: list[Item], *, progress: bool = True) -> list[dict[str, Any]]:
        from safetuned.eval.outcome import classify_outcomes

        outcomes = classify_outcomes([it.response for it in items], [it.prompt for it in items])
        return [{"refused": o.outcome in REFUSED, "outcome": o.outcome, "outcome_detail": o.detail,
                 "refusal_label": o.verdict.label} for o in outcomes]
