"""Readers of human-labelled answers (XSTest completions, WildGuardTest, generic JSONL) into one row type.

The format is told by the columns (a header, or the keys of the first record), the container by the extension:
- XSTest's published completion CSVs: `prompt, completion, final_label` (+ `id, type`), labels `1_full_compliance`,
  `2_full_refusal`, `3_partial_refusal`; `contrast_*` types are unsafe prompts; the model comes from the file name.
- WildGuardTest: `prompt, response, response_refusal_label` (+ `response_harm_label, prompt_harm_label,
  subcategory`), binary labels `refusal` / `compliance`; rows without a refusal label are skipped and counted.
- generic: `prompt, response, label` (+ `id, model, type, family`), label one of the three classes or
  `refusal` / `compliance`; a `type` of `safe` / `unsafe` says whether the request was harmful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetuned.errors import DataError
from safetuned.eval.refusal import LABELS
from safetuned.utils.tables import read_table

BINARY_LABELS = ("compliance", "refusal")
EXTENSIONS = (".csv", ".jsonl", ".json", ".parquet")
# format -> required columns, in the order they are named in messages
REQUIRED = {
    "xstest": ("prompt", "completion", "final_label"),
    "wildguard": ("prompt", "response", "response_refusal_label"),
    "generic": ("prompt", "response", "label"),
}
_EXPECTED = "; ".join(f"{k}: {', '.join(v)}" for k, v in REQUIRED.items())


@dataclass(frozen=True)
class LabelledRow:
    """One answer with its human label; `label` is one of LABELS or, for binary sources, BINARY_LABELS."""

    source: str
    line: int
    id: str
    prompt: str | None
    response: str | None
    label: str
    model: str | None = None
    type: str | None = None
    family: str | None = None
    category: str | None = None
    safety: str | None = None  # "safe" / "unsafe" request, None when the source does not say

    @property
    def label3(self) -> str | None:
        """The 3-class label, None for a binary source."""
        return self.label if self.label in LABELS else None


@dataclass
class LabelledFile:
    """The rows of one file, its detected format and how many rows had no label."""

    path: str
    format: str
    rows: list[LabelledRow] = field(default_factory=list)
    skipped: int = 0


def read_labelled(path: str | Path) -> LabelledFile:
    """Read one labelled file; raise DataError (one line, naming the file) on anything it cannot use."""
    key, p = str(path), Path(path).expanduser()
    if p.suffix.lower() not in EXTENSIONS:
        raise DataError(f"{key}: unknown extension {p.suffix or '(none)'!r}; allowed: {', '.join(EXTENSIONS)}")
    if not p.is_file():
        raise DataError(f"{key}: file not found")
    try:
        table = read_table(p, key)
    except DataError as e:
        if not str(e).endswith("is empty"):
            raise
        raise DataError(f"{key}: no rows (expected columns {_EXPECTED})") from None
    columns, records = table.columns, list(zip(table.lines, table.rows))
    if not records:
        raise DataError(f"{key}: no rows (expected columns {_EXPECTED})")
    fmt = _detect(columns, key)
    out = LabelledFile(key, fmt)
    for line, rec in records:
        row = _ROW_READERS[fmt](rec, key, line, p)
        if row is None:
            out.skipped += 1
        else:
            out.rows.append(row)
    if not out.rows:
        raise DataError(f"{key}: no labelled rows ({out.skipped} without a response_refusal_label)")
    return out


def _detect(columns: list[str], key: str) -> str:
    cols = set(columns)
    if {"completion", "final_label"} & cols:
        fmt = "xstest"
    elif "response_refusal_label" in cols:
        fmt = "wildguard"
    elif "label" in cols:
        fmt = "generic"
    else:
        raise DataError(f"{key}: unknown columns ({', '.join(columns)}); expected {_EXPECTED}")
    missing = [c for c in REQUIRED[fmt] if c not in cols]
    if missing:
        raise DataError(f"{key}: {fmt} format lacks column(s) {', '.join(missing)}; "
                        f"required: {', '.join(REQUIRED[fmt])}")
    return fmt


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt(value: Any) -> str | None:
    """An optional grouping value: None for missing or blank."""
    return (str(value).strip() or None) if value is not None else None


def _label(value: Any, allowed: tuple[str, ...], key: str, line: int, column: str) -> str:
    text = str(value).strip().lower() if value is not None else ""
    if text not in allowed:
        raise DataError(f"{key}:{line}: {column}={value!r} is not a known label; "
                        f"allowed: {', '.join(allowed)}")
    return text


def _need(rec: dict, column: str, key: str, line: int) -> Any:
    if column not in rec:
        raise DataError(f"{key}:{line}: no {column!r} field")
    return rec[column]


def _model_from_name(p: Path) -> str:
    """`xstest_v2_completions_llama2orig.csv` -> `llama2orig`; otherwise the file's stem."""
    stem = p.stem
    return stem.split("completions_", 1)[1] if "completions_" in stem else stem


def _xstest_row(rec: dict, key: str, line: int, p: Path) -> LabelledRow:
    raw = _need(rec, "final_label", key, line)
    allowed = tuple(f"{i}_{lab}" for i, lab in enumerate(LABELS, 1))  # XSTest numbers the classes in this order
    label = re.sub(r"^\d+_", "", _label(raw, allowed + LABELS, key, line, "final_label"))
    kind = _opt(rec.get("type"))
    return LabelledRow(key, line, _opt(rec.get("id")) or f"{key}:{line}", _text(_need(rec, "prompt", key, line)),
                       _text(_need(rec, "completion", key, line)), label,
                       model=_opt(rec.get("model")) or _model_from_name(p), type=kind,
                       safety=None if kind is None else "unsafe" if kind.startswith("contrast_") else "safe")


def _wildguard_row(rec: dict, key: str, line: int, p: Path) -> LabelledRow | None:
    raw = _need(rec, "response_refusal_label", key, line)
    if raw is None or not str(raw).strip():
        return None
    label = _label(raw, BINARY_LABELS, key, line, "response_refusal_label")
    harm = _opt(rec.get("prompt_harm_label"))
    if harm is not None:
        harm = {"harmful": "unsafe", "unharmful": "safe"}.get(harm.lower())
    return LabelledRow(key, line, _opt(rec.get("id")) or f"{key}:{line}", _text(_need(rec, "prompt", key, line)),
                       _text(_need(rec, "response", key, line)), label, model=_opt(rec.get("model")),
                       category=_opt(rec.get("subcategory")), safety=harm)


def _generic_row(rec: dict, key: str, line: int, p: Path) -> LabelledRow:
    label = _label(_need(rec, "label", key, line), LABELS + BINARY_LABELS, key, line, "label")
    kind = _opt(rec.get("type"))
    return LabelledRow(key, line, _opt(rec.get("id")) or f"{key}:{line}", _text(_need(rec, "prompt", key, line)),
                       _text(_need(rec, "response", key, line)), label, model=_opt(rec.get("model")),
                       type=kind, family=_opt(rec.get("family")),
                       safety=kind.lower() if kind and kind.lower() in ("safe", "unsafe") else None)


_ROW_READERS = {"xstest": _xstest_row, "wildguard": _wildguard_row, "generic": _generic_row}
