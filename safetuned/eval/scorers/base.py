"""The scorer interface: a judge of generated answers, what it measures, and which direction is better.

A scorer reads (prompt, response) items and returns one dict of verdict fields per item. What it measures decides
its fields and metrics (MEASURES); the report reads families and directions from here, never from metric names.
Adding a scorer is one module in `safetuned/eval/scorers/` whose class is decorated with `@register_scorer`
(see `registry.py`), plus a YAML entry under `eval.scorers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple


class Item(NamedTuple):
    """One answer to judge: the user's request (no prompt template), the model's answer, and suite metadata."""

    prompt: str
    response: str
    context: str | None = None   # HarmBench's ContextString for contextual behaviours
    category: str | None = None  # the suite's category of the prompt, when it has one


@dataclass(frozen=True)
class Metric:
    """A per-suite number a scorer reports: the mean of one per-answer field (0/1 -> a rate with a Wilson
    interval; a score -> a mean with a bootstrap interval) and the report family it belongs to."""

    name: str    # e.g. "harmful_rate"; the metric is eval/<suite>/<name> (or eval/<suite>/<scorer>/<name>)
    field: str   # the per-answer verdict field averaged, e.g. "harmful"
    family: str  # a key of FAMILY_DIRECTION


# What a scorer can measure: the verdict field each answer gets and the rate reported per suite.
MEASURES: dict[str, Metric] = {
    "refusal": Metric("refusal_rate", "refused", "refusals"),
    "harmful_response": Metric("harmful_rate", "harmful", "harmfulness"),
    "harm_score": Metric("harm_score", "harm_score", "harmfulness"),
    "prompt_harmful": Metric("prompt_harmful_rate", "prompt_harmful", "prompt_harm"),
}

# Report family -> (family on harmful suites, family on safe suites) and whether higher is better in each.
# A refusal of a harmful prompt is safe behaviour; of a safe look-alike, exaggerated safety.
FAMILY_BY_KIND: dict[str, dict[str, tuple[str, bool | None]]] = {
    "refusals": {"harmful": ("harmful_refusals", True), "safe": ("exaggerated_safety", False),
                 "capability": ("exaggerated_safety", False)},
    "harmfulness": {"harmful": ("harmfulness", False), "safe": ("harmfulness", False)},
    "off_task": {k: ("off_task", False) for k in ("harmful", "safe", "capability")},
    "capability": {k: ("capability", True) for k in ("harmful", "safe", "capability")},
    "prompt_harm": {k: ("prompt_harm", None) for k in ("harmful", "safe")},
    "compliance": {"harmful": ("harmfulness", False)},  # on safe prompts, compliance is 1 - refusal - off-task
    "quality": {"harmful": ("harmfulness", False), "safe": ("capability", True)},
}


def report_family(family: str, kind: str | None) -> tuple[str, bool | None] | None:
    """(report family, higher is better) of a scorer family on a suite of `kind` (None: no such number)."""
    by_kind = FAMILY_BY_KIND.get(family)
    if by_kind is None:
        return None
    if kind is None:  # a suite of unknown kind: read it as a harmful suite, the paper's default
        kind = "harmful"
    return by_kind.get(kind)


class Scorer:
    """Base class of every scorer. Subclasses set `name`, `measures` (keys of MEASURES) and implement `_score`.

    `__init__` takes the scorer's options from `eval.scorers.<label>` and raises a one-line ConfigError on a bad
    one; `check()` is the cheap pre-flight run before any generation (config of the model, an endpoint's key);
    `score()` loads what it needs on first use, batches, shows progress and serves cached verdicts.
    """

    name: ClassVar[str] = ""
    measures: ClassVar[tuple[str, ...]] = ()
    extra_metrics: ClassVar[tuple[Metric, ...]] = ()  # numbers beyond MEASURES (e.g. a rubric's sub-scores)
    kinds: ClassVar[tuple[str, ...]] = ("harmful", "safe")  # suite kinds it scores
    label: str = ""  # the key under eval.scorers (defaults to `name`; two instances of one judge need two labels)

    def check(self) -> None:
        """Fail fast (one line, before generation) when the scorer cannot run."""

    def revision(self) -> str:
        """What identifies the scorer's verdicts in the cache: model id and revision, prompt version."""
        return self.name

    def score(self, items: Sequence[Item], *, progress: bool = True) -> list[dict[str, Any]]:
        """One verdict dict per item, in order: the fields of its measures (None where the judge gave no
        verdict, e.g. WildGuard's N/A or a malformed output) plus any extra fields (`raw`, categories)."""
        cache = getattr(self, "cache", None)
        if cache is None:
            return self._score(list(items), progress=progress)
        revision = self.revision()  # once: a local judge's revision reads its folder
        keys = [cache.key(self.label or self.name, revision, it) for it in items]
        found = cache.get_many(keys)
        todo = [i for i, k in enumerate(keys) if k not in found]
        if todo:
            new = self._score([items[i] for i in todo], progress=progress)
            cache.put_many({keys[i]: v for i, v in zip(todo, new)}, self.label or self.name, revision)
            found.update({keys[i]: v for i, v in zip(todo, new)})
        return [found[k] for k in keys]

    def _score(self, items: list[Item], *, progress: bool = True) -> list[dict[str, Any]]:
        raise NotImplementedError

    @classmethod
    def metrics(cls) -> list[Metric]:
        """Every per-suite number this scorer reports."""
        return [MEASURES[m] for m in cls.measures] + list(cls.extra_metrics)

    def release(self) -> None:
        """Free what is heavy to hold between evaluations (model weights); the next `score` loads it again."""

    def close(self) -> None:
        """Release clients and files for good."""
        self.release()
