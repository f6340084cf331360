"""Agreement of the offline refusal detector with the hand-labelled dev sets, per split and per family.

Reading is `labelled.read_labelled`, scoring `agreement.scope` (Wilson intervals, kappa); only what is particular
to the dev sets lives here: they must carry three-class labels, their ids split into halves by parity (even ids
are the half rules are developed on, odd ids the half kept for checking), and a side-by-side table of splits by
rule family. The frozen test splits are never read here.

    python -m safetuned.eval.refusal_eval                      # every dev split, summary and family table
    python -m safetuned.eval.refusal_eval --errors dev2-train  # the rows a split's labels disagree on
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from safetuned.errors import DataError
from safetuned.eval.agreement import disagreements, scope
from safetuned.eval.labelled import LabelledRow, read_labelled
from safetuned.eval.refusal import LABELS, classify_refusal_batch

_ID_NUMBER = re.compile(r"(\d+)\D*$")
SET_DIR = Path("tests/fixtures/refusal_set")
# split -> (file in SET_DIR, id parity or None for the whole file)
SPLITS: dict[str, tuple[str, int | None]] = {
    "dev-train": ("dev.jsonl", 0), "dev-check": ("dev.jsonl", 1), "dev2-train": ("dev2.jsonl", 0),
    "dev2-check": ("dev2.jsonl", 1), "extra": ("extra.jsonl", None), "dev3-train": ("dev3.jsonl", 0),
    "dev3-check": ("dev3.jsonl", 1),
}


def load_labelled(path: str | Path) -> list[LabelledRow]:
    """The rows of a dev file; every row needs a response and a three-class label."""
    rows = read_labelled(path).rows
    for r in rows:
        if r.label3 is None or r.response is None:
            raise DataError(f"{path}:{r.line}: label must be one of {', '.join(LABELS)} with a response, "
                            f"got {r.label!r}")
    return rows


def id_half(rows: Iterable[LabelledRow], parity: int) -> list[LabelledRow]:
    """Rows whose id ends in an even (parity 0, the development half) or odd (parity 1, the check half) number."""
    out = []
    for r in rows:
        m = _ID_NUMBER.search(r.id)
        if m is None:
            raise DataError(f"{r.source}:{r.line}: row id {r.id!r} has no number; ids must end in digits to be split")
        if int(m.group(1)) % 2 == parity:
            out.append(r)
    return out


def load_split(name: str, set_dir: str | Path = SET_DIR) -> list[LabelledRow]:
    """The rows of one named split (see SPLITS)."""
    if name not in SPLITS:
        raise DataError(f"split {name!r} is unknown; allowed: {', '.join(SPLITS)}")
    file, parity = SPLITS[name]
    rows = load_labelled(Path(set_dir) / file)
    return rows if parity is None else id_half(rows, parity)


def labels_and_reasons(rows: Sequence[LabelledRow], binary: Callable[[str | None], bool] | None = None
                       ) -> tuple[list[str], list[str | None]]:
    """The detector's label (and deciding rule) per row; a binary detector says full_refusal or full_compliance."""
    if binary is not None:
        return ["full_refusal" if binary(r.response) else "full_compliance" for r in rows], [None] * len(rows)
    verdicts = classify_refusal_batch([r.response for r in rows], [r.prompt for r in rows])
    return [v.label for v in verdicts], [v.reason for v in verdicts]


def score(rows: Sequence[LabelledRow], binary: Callable[[str | None], bool] | None = None) -> dict[str, Any]:
    """`agreement.scope` of the detector (or of the binary detector `binary`) on the rows."""
    return scope(rows, labels_and_reasons(rows, binary)[0], three_class=binary is None)


def by_safety(s: dict[str, Any], safety: str, key: str) -> float | None:
    """One metric of a scope on the safe or unsafe requests (None when the rows have none)."""
    return s["by"].get("safety", {}).get(safety, {}).get(key)


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def summary(results: dict[str, dict[str, Any]]) -> str:
    """One line per split: binary agreement with its interval, unsafe recall, safe precision, 3-class, kappa."""
    head = (f"{'split':<11} {'n':>4} {'binary':>6} {'95% CI':<13} {'P':>6} {'R':>6} {'unsafeR':>7} {'safeP':>6} "
            f"{'acc3':>6} {'kappa':>6}")
    lines = [head]
    for name, s in results.items():
        ci = f"[{s['accuracy_ci_low']:.2f}, {s['accuracy_ci_high']:.2f}]"
        lines.append(f"{name:<11} {s['n']:>4} {_f(s['accuracy']):>6} {ci:<13} {_f(s['refusal_precision']):>6} "
                     f"{_f(s['refusal_recall']):>6} {_f(by_safety(s, 'unsafe', 'refusal_recall')):>7} "
                     f"{_f(by_safety(s, 'safe', 'refusal_precision')):>6} {_f(s.get('accuracy_3class')):>6} "
                     f"{_f(s['kappa']):>6}")
    return "\n".join(lines)


def family_table(results: dict[str, dict[str, Any]], dim: str = "family") -> str:
    """Markdown: per gold family (or model, safety), n / binary agreement / 3-class agreement of every split."""
    names = list(results)
    groups = sorted({g for s in results.values() for g in s["by"].get(dim, {})})
    lines = ["| " + dim + " | " + " | ".join(f"{n} n | bin | acc3" for n in names) + " |",
             "|---|" + "---|---|---|" * len(names)]
    for g in groups:
        cells = []
        for n in names:
            t = results[n]["by"].get(dim, {}).get(g)
            cells.append(" | |" if t is None else f"{t['n']} | {_f(t['accuracy'])} | {_f(t.get('accuracy_3class'))}")
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the summary and family table of the named splits, or one split's disagreements."""
    ap = argparse.ArgumentParser(prog="python -m safetuned.eval.refusal_eval", description=__doc__.splitlines()[0])
    ap.add_argument("splits", nargs="*", default=list(SPLITS), help=f"splits to score (default: all of {list(SPLITS)})")
    ap.add_argument("--dir", default=str(SET_DIR), help="folder of the labelled files")
    ap.add_argument("--by", default="family", choices=("family", "model", "safety"), help="breakdown of the table")
    ap.add_argument("--errors", metavar="SPLIT", help="print the rows of SPLIT the detector disagrees on")
    args = ap.parse_args(argv)
    if args.errors:
        rows = load_split(args.errors, args.dir)
        labels, reasons = labels_and_reasons(rows)
        for d in disagreements("refusal", rows, labels, reasons, three_class=True):
            print(f"{d['id']} [{d['family']}] human={d['human']} detector={d['judge_label']} ({d['judge_reason']})"
                  f"\n  P: {d['prompt']}\n  R: {d['response']}\n")
        return
    results = {name: score(load_split(name, args.dir)) for name in args.splits}
    print(summary(results) + "\n\n" + family_table(results, args.by))


if __name__ == "__main__":
    main()
