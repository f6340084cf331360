"""Helpfulness as part of a job's evaluation: which suite is judged, by which judge, against which references."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetuned.errors import ConfigError
from safetuned.eval.helpfulness import evaluate_helpfulness, load_references
from safetuned.eval.judges import make_judge

log = logging.getLogger(__name__)


@dataclass
class HelpfulnessPlan:
    """`eval.helpfulness`: `{suite, judge: {name, ...}, references: gold | <file> | <job folder> | sibling:<job>}`.

    `sibling:<job>` names a job folder of the same sweep (e.g. `sibling:data.safety_n=0`, the baseline), read when
    this job is evaluated; when that job has not produced its generations yet the metric is skipped with a warning.
    """

    suite: str
    judge: Any
    references: str
    both_orders: bool = True

    @classmethod
    def from_config(cls, c: dict, suites: dict) -> HelpfulnessPlan:
        suite = c.get("suite")
        if suite not in suites:
            raise ConfigError(f"eval.helpfulness.suite={suite!r} is not one of the configured suites {sorted(suites)}")
        refs = str(c.get("references", "gold"))
        if refs == "gold" and all(r is None for r in suites[suite].references):
            raise ConfigError(f"eval.helpfulness.references=gold but suite {suite!r} has no reference outputs")
        if refs not in ("gold",) and not refs.startswith("sibling:") and not Path(refs).expanduser().exists():
            raise ConfigError(f"eval.helpfulness.references={refs!r}: no such file or job folder "
                              "(use gold, a JSON/JSONL file, a job folder, or sibling:<job folder name>)")
        return cls(suite, make_judge(c.get("judge") or {"name": "reference"}), refs, bool(c.get("both_orders", True)))

    def run(self, rows_by_suite: dict[str, list[dict]], out_dir: str | Path | None) -> dict[str, float]:
        """Judge this job's answers on the suite; returns `eval/helpfulness/<metric>`."""
        rows = rows_by_suite[self.suite]
        gold = [r["reference"] for r in rows]
        if self.references == "gold":
            references: Any = gold
        else:
            spec = self.references
            if spec.startswith("sibling:"):
                if out_dir is None:
                    return {}
                spec = str(Path(out_dir).parent / spec.removeprefix("sibling:"))
                if not (Path(spec) / "generations" / f"{self.suite}.jsonl").exists():
                    log.warning("helpfulness: reference job %s has no generations yet: skipped", spec)
                    return {}
            references = load_references(spec, suite=self.suite)
        result = evaluate_helpfulness(
            [r["instruction"] for r in rows], [r["response"] for r in rows], references, self.judge,
            inputs=[r["input"] for r in rows], gold=gold if any(g is not None for g in gold) else None,
            both_orders=self.both_orders,
        )
        if out_dir is not None:
            result.save_records(Path(out_dir) / "helpfulness" / f"{self.suite}.jsonl")
        return result.prefixed("eval/helpfulness/")
