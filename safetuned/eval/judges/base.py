"""What a pairwise judge is (Verdict, Comparison, Judge) and the registry that builds one from a config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

from safetuned.utils.registry import Registry, build

WINNERS = ("a", "b", "tie", "invalid")


@dataclass(frozen=True)
class Verdict:
    """A judge's decision: `winner` in {"a", "b", "tie", "invalid"} and the judge's raw text."""

    winner: str
    raw: str = ""

    def __post_init__(self) -> None:
        if self.winner not in WINNERS:
            raise ValueError(f"Verdict.winner must be one of {WINNERS}, got {self.winner!r}")

    @property
    def valid(self) -> bool:
        return self.winner != "invalid"


class Comparison(NamedTuple):
    """One pair to judge; `gold` is only read by reference-based judges."""

    instruction: str
    output_a: str
    output_b: str
    gold: str | None = None


@runtime_checkable
class Judge(Protocol):
    """Anything with `compare`; `compare_many` (optional) judges a batch, e.g. concurrently."""

    name: str

    def compare(self, instruction: str, output_a: str, output_b: str, *, gold: str | None = None) -> Verdict: ...


def compare_many(judge: Judge, items: Sequence[Comparison], *, progress: bool = False) -> list[Verdict]:
    """Judge every pair, through the judge's own batch method when it has one."""
    batch = getattr(judge, "compare_many", None)
    if callable(batch):
        return list(batch(items, progress=progress))
    from tqdm.auto import tqdm

    return [judge.compare(c.instruction, c.output_a, c.output_b, gold=c.gold)
            for c in tqdm(items, desc=f"judge:{judge.name}", disable=not progress)]


# ---------------------------------------------------------------------------------------------------------------
# Registry: name -> class; each module of this package registers its own judge
# ---------------------------------------------------------------------------------------------------------------

REGISTRY = Registry("judge", "safetuned.eval.judges", skip=("base", "openai_client"))


def register_judge(cls: type) -> type:
    """Class decorator: make a judge class available to `make_judge` under its `name`."""
    return REGISTRY.register(cls)


def known_judges() -> list[str]:
    return REGISTRY.names()


def judge_class(name: Any) -> type:
    """The judge class registered under `name` (one-line ConfigError naming the known ones)."""
    return REGISTRY.get(name, "judge.name")


def make_judge(spec: Mapping[str, Any] | str) -> Judge:
    """A judge from `{name: <registered judge>, ...its keyword arguments}` (or just the name); keys are checked
    against the class's signature so a misspelt one is one line naming the allowed ones."""
    opts = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = opts.pop("name", None)
    return build(judge_class(name), opts, "judge", "judge")
