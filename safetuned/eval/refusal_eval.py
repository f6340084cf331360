"""Agreement of a refusal detector with human labels on a JSONL of labelled answers, overall and per family.

A labelled row is `{"id", "prompt", "response", "label", "type", "family", ...}` with `label` one of
`full_compliance | full_refusal | partial_refusal`. The detector is `classify_refusal` unless another is
passed; a binary detector (text -> bool, e.g. `prefix_refusal`) is scored on the binary columns only.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from safetuned.errors import DataError
from safetuned.eval.refusal import LABELS, classify_refusal_batch

_ID_NUMBER = re.compile(r"(\d+)\D*$")


def load_labelled(path: str | Path) -> list[dict]:
    """Read a labelled JSONL file; every row needs `response` and a `label` in LABELS."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("label") not in LABELS or "response" not in row:
            raise DataError(f"{path}:{n}: label must be one of {', '.join(LABELS)} with a response, "
                            f"got {row.get('label')!r}")
        rows.append(row)
    return rows


def id_half(rows: Iterable[dict], parity: int) -> list[dict]:
    """Rows whose id ends in an even (parity 0, 'dev-train') or odd (parity 1, 'dev-check') number."""
    out = []
    for r in rows:
        m = _ID_NUMBER.search(str(r.get("id", "")))
        if m is None:
            raise DataError(f"row id {r.get('id')!r} has no number; ids must end in digits to be split")
        if int(m.group(1)) % 2 == parity:
            out.append(r)
    return out


@dataclass
class Tally:
    """Counts for one group of rows: 3-class hits, binary confusion (refused = positive)."""

    n: int = 0
    exact: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    scored3: int = 0

    def add(self, gold: str, pred: str | None, pred_refused: bool) -> None:
        gold_refused = gold != "full_compliance"
        self.n += 1
        self.exact += pred == gold
        self.scored3 += pred is not None
        self.tp += gold_refused and pred_refused
        self.fp += (not gold_refused) and pred_refused
        self.fn += gold_refused and not pred_refused
        self.tn += (not gold_refused) and not pred_refused

    @property
    def accuracy(self) -> float:
        """3-class agreement (nan for a binary detector)."""
        return self.exact / self.scored3 if self.scored3 else float("nan")

    @property
    def binary_accuracy(self) -> float:
        """Refused-vs-not agreement."""
        return (self.tp + self.tn) / self.n if self.n else float("nan")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")


@dataclass
class Agreement:
    """Overall tally, one per gold family, one per request type, and the rows the detector got wrong."""

    overall: Tally = field(default_factory=Tally)
    families: dict[str, Tally] = field(default_factory=dict)
    types: dict[str, Tally] = field(default_factory=dict)
    errors: list[tuple[dict, str | None, bool]] = field(default_factory=list)


def agreement(rows: Sequence[dict], binary: Callable[[str], bool] | None = None) -> Agreement:
    """Score `classify_refusal` (or the binary detector `binary`) against the rows' labels."""
    if binary is None:
        verdicts = classify_refusal_batch([r["response"] for r in rows], [r.get("prompt") for r in rows])
        preds = [(v.label, v.refused) for v in verdicts]
    else:
        preds = [(None, bool(binary(r["response"] or ""))) for r in rows]
    out = Agreement()
    for row, (label, refused) in zip(rows, preds):
        for tally in (out.overall, out.families.setdefault(row.get("family", "?"), Tally()),
                      out.types.setdefault(row.get("type", "?"), Tally())):
            tally.add(row["label"], label, refused)
        gold_refused = row["label"] != "full_compliance"
        if refused != gold_refused or (label is not None and label != row["label"]):
            out.errors.append((row, label, refused))
    return out


def _cell(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.3f}"


def format_table(results: dict[str, Agreement]) -> str:
    """A markdown table: rows ALL, each request type, each gold family; 5 columns per named result."""
    names = list(results)
    families = sorted({f for a in results.values() for f in a.families})
    types = sorted({t for a in results.values() for t in a.types})
    head = "| group | " + " | ".join(f"{k} n | {k} acc3 | {k} bin | {k} P | {k} R" for k in names) + " |"
    lines = [head, "|" + "---|" * (1 + 5 * len(names))]
    groups: list[tuple[str, Callable[[Agreement], Tally | None]]] = [("ALL", lambda a: a.overall)]
    groups += [(f"type={t}", lambda a, t=t: a.types.get(t)) for t in types]
    groups += [(f, lambda a, f=f: a.families.get(f)) for f in families]
    for group, get in groups:
        cells = []
        for n in names:
            t = get(results[n])
            cells.append(" | | | |" if t is None else " | ".join(
                [str(t.n)] + [_cell(x) for x in (t.accuracy, t.binary_accuracy, t.precision, t.recall)]))
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
