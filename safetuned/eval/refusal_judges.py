"""Refusal judges by name: `judge(prompts, responses) -> labels`, one of full_compliance/full_refusal/partial_refusal.

A judge is one decorated function, here or in any module:

    @register_judge("my_judge", three_class=False)
    def my_judge(prompts, responses):
        return ["full_refusal" if "cannot" in (r or "") else "full_compliance" for r in responses]

`get_judge("pkg.module:function")` imports a judge that is not registered (a function, or a registered judge).
A judge may return verdict objects with `.label` (and `.reason`) instead of strings; `verdicts` keeps the reasons.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from safetuned.errors import ConfigError
from safetuned.eval.labelled import LABELS

JudgeFn = Callable[[Sequence[str | None], Sequence[str | None]], Sequence[Any]]
# Binary answers a judge may give, read as the 3-class label they stand for.
_ALIASES = {"refusal": "full_refusal", "compliance": "full_compliance"}


@dataclass(frozen=True)
class RefusalJudge:
    """A named judge; `three_class=False` says it only tells refusal from compliance."""

    name: str
    fn: JudgeFn
    three_class: bool = True

    def verdicts(self, prompts: Sequence[str | None], responses: Sequence[str | None]
                 ) -> list[tuple[str, str | None]]:
        """(label, reason or None) per response, checked: one per response, each label one of LABELS."""
        out = list(self.fn(list(prompts), list(responses)))
        if len(out) != len(responses):
            raise ConfigError(f"judge {self.name!r} returned {len(out)} labels for {len(responses)} responses")
        result = []
        for i, v in enumerate(out):
            label = v if isinstance(v, str) else getattr(v, "label", None)
            label = _ALIASES.get(label, label)
            if label not in LABELS:
                raise ConfigError(f"judge {self.name!r} returned {label!r} for response {i}; "
                                  f"allowed: {', '.join(LABELS)}")
            result.append((label, None if isinstance(v, str) else getattr(v, "reason", None)))
        return result

    def __call__(self, prompts: Sequence[str | None], responses: Sequence[str | None]) -> list[str]:
        return [label for label, _ in self.verdicts(prompts, responses)]


JUDGES: dict[str, RefusalJudge] = {}


def register_judge(name: str, three_class: bool = True) -> Callable[[JudgeFn], JudgeFn]:
    """Decorator: register `fn(prompts, responses)` under `name`."""

    def wrap(fn: JudgeFn) -> JudgeFn:
        if name in JUDGES and JUDGES[name].fn is not fn:
            raise ValueError(f"refusal judge {name!r} is registered twice")
        JUDGES[name] = RefusalJudge(name, fn, three_class)
        return fn

    return wrap


def get_judge(name: str) -> RefusalJudge:
    """The registered judge `name`, or the one at `module:attribute`; ConfigError naming the allowed names."""
    if name in JUDGES:
        return JUDGES[name]
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            obj = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ConfigError(f"judges: cannot import {name!r} ({type(e).__name__}: {e})") from None
        if isinstance(obj, RefusalJudge):
            return obj
        found = [j for j in JUDGES.values() if j.fn is obj]  # a function its module registered on import
        return found[0] if found else RefusalJudge(name, obj)
    raise ConfigError(f"judges: unknown judge {name!r}; allowed: {', '.join(sorted(JUDGES))} "
                      "or module:function")


@register_judge("refusal")
def offline_detector(prompts: Sequence[str | None], responses: Sequence[str | None]) -> list[Any]:
    """The offline sentence-level detector (verdicts carry the rule that decided)."""
    from safetuned.eval.refusal import classify_refusal_batch

    return classify_refusal_batch(responses, prompts)


@register_judge("prefix", three_class=False)
def prefix(prompts: Sequence[str | None], responses: Sequence[str | None]) -> list[str]:
    """XSTest's string-match baseline: a refusal phrase at the start of the answer."""
    from safetuned.eval.refusal import prefix_refusal

    return ["full_refusal" if prefix_refusal(r) else "full_compliance" for r in responses]
