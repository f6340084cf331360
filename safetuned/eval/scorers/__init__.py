"""Scorers of generated answers (refusal detectors, harm judges, guard models) behind one registry."""

from safetuned.eval.scorers.base import MEASURES, Item, Metric, Scorer, report_family
from safetuned.eval.scorers.registry import (
           build_scorer,
           build_scorers,
           known_scorers,
           register_scorer,
           scorer_class,
)

__all__ = ["MEASURES", "Item", "Metric", "Scorer", "build_scorer", "build_scorers", "known_scorers",
           "register_scorer", "report_family", "scorer_class"]
