"""Pairwise helpfulness judges behind one registry: which of two answers to an instruction is better.

    eval.helpfulness.judge: {name: reference}                          # offline, against gold answers
    eval.helpfulness.judge: {name: openai, model: gpt-4o}              # any OpenAI-compatible endpoint
    eval.helpfulness.judge: {name: alpaca_eval, annotators_config: ...}

A new judge is one module in this package whose class is decorated with `@register_judge`.
"""

from safetuned.eval.judges.alpaca_eval import AlpacaEvalJudge
from safetuned.eval.judges.base import (
    WINNERS,
    Comparison,
    Judge,
    Verdict,
    compare_many,
    judge_class,
    known_judges,
    make_judge,
    register_judge,
)
from safetuned.eval.judges.openai import OpenAIJudge
from safetuned.eval.judges.reference import ReferenceJudge

__all__ = ["WINNERS", "AlpacaEvalJudge", "Comparison", "Judge", "OpenAIJudge", "ReferenceJudge", "Verdict",
           "compare_many", "judge_class", "known_judges", "make_judge", "register_judge"]
