"""The offline, reference-based judge: the answer that matches the gold answer wins (the demo world's default)."""

from __future__ import annotations

from safetuned.errors import DataError
from safetuned.eval.exact_match import is_correct
from safetuned.eval.judges.base import Verdict, register_judge


@register_judge
class ReferenceJudge:
    """The correct answer wins; both or neither correct is a tie. Needs each item's gold answer."""

    name = "reference"
    needs_gold = True

    def compare(self, instruction: str, output_a: str, output_b: str, *, gold: str | None = None) -> Verdict:
        if gold is None:
            raise DataError(f"ReferenceJudge needs the gold answer of every item; none given for {instruction[:60]!r}")
        a, b = is_correct(output_a, gold), is_correct(output_b, gold)
        return Verdict("tie" if a == b else "a" if a else "b", f"a_correct={a} b_correct={b}")

    def __repr__(self) -> str:
        return "ReferenceJudge()"
