"""The scorer registry: `eval.scorers` names scorers; each module of this package registers its own.

    eval.scorers:
      wildguard: {model: allenai/wildguard, batch_size: 8}
      llama_guard_1b: {scorer: llama_guard, model: meta-llama/Llama-Guard-3-1B}   # a second label, same scorer
      harmfulness: null                                                          # off

A scorer outside this package is named by import path: `{scorer: "mypkg.judges:MyScorer", ...}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safetuned.eval.scorers.base import MEASURES, Scorer
from safetuned.utils.registry import Registry, build

REGISTRY = Registry("scorer", "safetuned.eval.scorers", skip=("base", "registry", "cache", "hub"))


def register_scorer(cls: type[Scorer]) -> type[Scorer]:
    """Class decorator: make a Scorer subclass available under its `name`."""
    unknown = [m for m in cls.measures if m not in MEASURES]
    if unknown:
        raise TypeError(f"{cls.__name__} measures unknown {unknown}; known: {list(MEASURES)}")
    return REGISTRY.register(cls)


def known_scorers() -> list[str]:
    return REGISTRY.names()


def scorer_class(name: str, where: str = "eval.scorers") -> type[Scorer]:
    """The class registered under `name`, or one named `module:Class`."""
    return REGISTRY.get(name, where, base=Scorer)


def build_scorer(label: str, options: Mapping[str, Any] | bool | None, *, cache=None,
                 key: str = "eval.scorers") -> Scorer | None:
    """One scorer from its entry (None/false: off; true: default options); options are checked against the
    class's signature so a misspelt key is one line naming the allowed ones."""
    if options is None or options is False:
        return None
    opts = {} if options is True else dict(options)
    where = f"{key}.{label}"
    scorer = build(scorer_class(str(opts.pop("scorer", label)), where), opts, where, "scorer")
    scorer.label = label
    if cache is not None and getattr(scorer, "cache", None) is None and getattr(scorer, "cacheable", True):
        scorer.cache = cache
    return scorer


def build_scorers(spec: Mapping[str, Any] | None, *, cache=None, key: str = "eval.scorers") -> list[Scorer]:
    """Every scorer switched on in `eval.scorers` (or the config `key` given), in config order, each checked
    (before generation)."""
    scorers = []
    for label, options in (spec or {}).items():
        scorer = build_scorer(str(label), options, cache=cache, key=key)
        if scorer is not None:
            scorer.check()
            scorers.append(scorer)
    return scorers
