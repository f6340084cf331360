"""AlpacaEval-style helpfulness: the win rate of a model's answers against reference answers, by a pairwise judge.

Each item is judged in both orders (model first, reference first) to cancel the judge's position bias: the item's
score is the mean of the two orders' scores (win 1, tie 0.5, loss 0), so a win in one order and a loss in the other
is a tie. The win rate is the mean item score with a 95% bootstrap interval. Items whose verdict is invalid in any
order are excluded (`n_invalid`); items without a reference answer are skipped (`n_missing`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from safetuned.errors import ConfigError, DataError
from safetuned.eval.exact_match import is_correct
from safetuned.eval.judges import Comparison, Judge, Verdict, compare_many
from safetuned.eval.stats import rate_with_ci
from safetuned.utils.io import write_jsonl_atomic
from safetuned.utils.tables import read_table

log = logging.getLogger(__name__)

ORDERS = ("model_first", "reference_first")
# The model's score for each verdict, by the position the model's answer held.
_SCORE = {"model_first": {"a": 1.0, "b": 0.0, "tie": 0.5}, "reference_first": {"a": 0.0, "b": 1.0, "tie": 0.5}}


def reference_key(instruction: str, input: str | None = "") -> str:
    """The lookup key of an item: instruction and input, whitespace-collapsed (AlpacaEval joins them by a blank
    line, so its merged instructions match too)."""
    text = instruction if not input or not input.strip() else f"{instruction}\n\n{input}"
    return " ".join(text.split())


def judge_prompt(instruction: str, input: str | None = "") -> str:
    """The instruction as the judge sees it: the input, when there is one, after a blank line."""
    return instruction if not input or not input.strip() else f"{instruction.rstrip()}\n\n{input.strip()}"


@dataclass
class HelpfulnessResult:
    """Metrics (`win_rate`, `win_rate_ci_low`, `win_rate_ci_high`, `n`, `n_invalid`, `n_missing`, and with gold
    answers `correct_rate` and its interval) and one record per item."""

    metrics: dict[str, float]
    records: list[dict] = field(default_factory=list)

    def prefixed(self, prefix: str = "eval/helpfulness/") -> dict[str, float]:
        """The metrics under `prefix`, as the integrator logs them."""
        return {f"{prefix}{k}": v for k, v in self.metrics.items()}

    def save_records(self, path: str | Path) -> None:
        """Write the per-item records as JSONL, atomically."""
        write_jsonl_atomic(path, self.records)


def _check_len(name: str, values: Sequence | None, n: int) -> None:
    if values is not None and len(values) != n:
        raise DataError(f"evaluate_helpfulness: {name} has {len(values)} items but instructions has {n}")


def evaluate_helpfulness(
    instructions: Sequence[str],
    outputs: Sequence[str | None],
    references: Mapping[str, str] | Sequence[str | None],
    judge: Judge,
    *,
    inputs: Sequence[str | None] | None = None,
    gold: Sequence[str | None] | None = None,
    both_orders: bool = True,
    seed: int = 0,
    progress: bool = True,
) -> HelpfulnessResult:
    """Judge each model output against its reference answer and return the win rate with per-item records.

    `references` is either aligned with `instructions` (None = missing) or a mapping from `reference_key(instruction,
    input)` (e.g. from `load_references`). With `both_orders=False` each item is judged once, in an order drawn
    from `seed`. `gold` answers feed reference-based judges and the `correct_rate` metric.
    """
    n = len(instructions)
    if n == 0:
        raise DataError("evaluate_helpfulness: no instructions to judge")
    _check_len("outputs", outputs, n)
    _check_len("inputs", inputs, n)
    _check_len("gold", gold, n)
    if not isinstance(references, Mapping):
        _check_len("references", references, n)
    inputs = list(inputs) if inputs is not None else [""] * n
    needs_gold = bool(getattr(judge, "needs_gold", False))
    if needs_gold and (gold is None or all(g is None for g in gold)):
        raise DataError(f"judge {getattr(judge, 'name', type(judge).__name__)!r} compares answers with gold "
                        "answers, but none were given (gold=...)")

    refs: list[str | None] = []
    for k in range(n):
        if isinstance(references, Mapping):
            refs.append(references.get(reference_key(instructions[k], inputs[k])))
        else:
            refs.append(references[k])
    judged = [k for k in range(n) if refs[k] is not None and not (needs_gold and gold[k] is None)]
    if not judged:
        raise DataError(f"evaluate_helpfulness: none of the {n} items has a reference answer"
                        f"{' and a gold answer' if needs_gold else ''} (first instruction: {instructions[0][:60]!r})")
    if len(judged) < n:
        log.warning("helpfulness: %d of %d items have no reference answer and are skipped", n - len(judged), n)

    rng = np.random.default_rng(seed)
    plan: list[tuple[int, str]] = []  # (item, order) per comparison
    for k in judged:
        orders = ORDERS if both_orders else (ORDERS[int(rng.integers(2))],)
        plan += [(k, o) for o in orders]
    comparisons = []
    for k, order in plan:
        prompt, out, ref = judge_prompt(instructions[k], inputs[k]), outputs[k] or "", refs[k]
        a, b = (out, ref) if order == "model_first" else (ref, out)
        comparisons.append(Comparison(prompt, a, b, None if gold is None else gold[k]))
    verdicts = compare_many(judge, comparisons, progress=progress)
    if len(verdicts) != len(comparisons):
        raise RuntimeError(f"judge returned {len(verdicts)} verdicts for {len(comparisons)} pairs")

    by_item: dict[int, dict[str, Verdict]] = {}
    for (k, order), v in zip(plan, verdicts):
        by_item.setdefault(k, {})[order] = v
    records, scores, n_invalid = [], [], 0
    for k in range(n):
        rec = {"index": k, "instruction": instructions[k], "input": inputs[k], "output": outputs[k],
               "reference": refs[k]}
        if gold is not None:
            rec["gold"] = gold[k]
            rec["correct"] = None if gold[k] is None else is_correct(outputs[k], gold[k])
        if k not in by_item:
            rec.update(status="missing_reference" if refs[k] is None else "missing_gold", score=None, outcome=None)
        else:
            vs = by_item[k]
            rec["verdicts"] = {o: {"winner": v.winner, "raw": v.raw} for o, v in vs.items()}
            if not all(v.valid for v in vs.values()):
                n_invalid += 1
                rec.update(status="invalid", score=None, outcome=None)
            else:
                score = float(np.mean([_SCORE[o][v.winner] for o, v in vs.items()]))
                scores.append(score)
                rec.update(status="judged", score=score,
                           outcome="win" if score > 0.5 else "loss" if score < 0.5 else "tie")
        records.append(rec)
    if n_invalid:
        log.warning("helpfulness: %d of %d judged items got an invalid verdict and are excluded",
                    n_invalid, len(judged))

    metrics = rate_with_ci(scores, "win_rate", seed=seed)
    metrics.update(n=float(len(scores)), n_invalid=float(n_invalid), n_missing=float(n - len(judged)))
    if gold is not None:
        flags = [float(r["correct"]) for r in records if r["correct"] is not None]
        metrics.update(rate_with_ci(flags, "correct_rate", seed=seed))
    return HelpfulnessResult(metrics, records)


# ---------------------------------------------------------------------------------------------------------------
# Reference answers
# ---------------------------------------------------------------------------------------------------------------


def _read_records(path: Path) -> list[dict]:
    """Rows of a JSON list (or `{"instances"|"data": [...]}`), a JSONL, CSV or parquet file."""
    table = read_table(path, f"helpfulness references: {path}")
    if len(table.rows) == 1 and isinstance(table.rows[0], dict):  # one JSON object holding the list
        data = table.rows[0]
        listed = next((data[k] for k in ("instances", "data") if isinstance(data.get(k), list)), None)
        if listed is not None:
            return listed
    return table.rows


def _generations_file(job_dir: Path, suite: str | None) -> Path:
    gen_dir = job_dir / "generations"
    available = sorted(p.stem for p in gen_dir.glob("*.jsonl")) if gen_dir.is_dir() else []
    if not available:
        raise DataError(f"helpfulness references: job folder {job_dir} has no generations/<suite>.jsonl "
                        "(did its evaluation run?)")
    if suite is None:
        if len(available) > 1:
            raise ConfigError(f"helpfulness references: job folder {job_dir} holds several suites {available}; "
                              "name the suite")
        suite = available[0]
    if suite not in available:
        raise DataError(f"helpfulness references: job folder {job_dir} has no generations for suite {suite!r}; "
                        f"available: {available}")
    return gen_dir / f"{suite}.jsonl"


def load_references(spec: str | Path, *, suite: str | None = None) -> dict[str, str]:
    """`reference_key(instruction, input) -> reference output` from a JSON/JSONL file of `{"instruction",
    "output"[, "input"]}` records (AlpacaEval's format) or a job folder's `generations/<suite>.jsonl`
    (rows `{"instruction", "input", "response", ...}`). The first answer of a repeated key wins."""
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(f"helpfulness references: {path} does not exist; pass a JSON/JSONL file of "
                        "{instruction, output} records or a job folder with generations/<suite>.jsonl")
    if path.is_dir():
        path = _generations_file(path, suite)
    refs: dict[str, str] = {}
    n_dupes = 0
    for i, row in enumerate(_read_records(path)):
        if not isinstance(row, dict) or not isinstance(row.get("instruction"), str):
            raise DataError(f"helpfulness references: {path} record {i} has no string 'instruction'")
        answer = row.get("output", row.get("response"))
        if not isinstance(answer, str):
            raise DataError(f"helpfulness references: {path} record {i} has no string 'output' (or 'response')")
        key = reference_key(row["instruction"], row.get("input") or "")
        if key in refs:
            n_dupes += refs[key] != answer
            continue
        refs[key] = answer
    if not refs:
        raise DataError(f"helpfulness references: {path} holds no records")
    if n_dupes:
        log.warning("helpfulness references: %d repeated instructions in %s with other answers; kept the first",
                    n_dupes, path)
    return refs
