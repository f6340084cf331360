"""Evaluation suites: prompt lists in the paper's JSON format, Alpaca-format JSON (with references) or XSTest CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from safetuned.errors import ConfigError, DataError

KINDS = ("harmful", "safe", "capability")
LABELS = ("safe", "unsafe")
XSTEST_COLUMNS = ("id", "prompt", "type", "label")
SPEC_KEYS = {"path", "kind", "label", "limit"}


@dataclass
class Suite:
    """One evaluation suite: prompts (with optional inputs and reference answers) and what kind of prompts they are."""

    name: str
    kind: str
    prompts: list[str]
    inputs: list[str]
    references: list[str | None]
    ids: list[str]
    path: str
    types: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.prompts)


def _read_json(path: Path, name: str) -> tuple[list[str], list[str], list[str | None], list[str], list]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"eval suite '{name}': {path} is invalid JSON at line {e.lineno}: {e.msg}") from None
    if isinstance(data, dict):
        prompts = data.get("instructions")
        if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
            raise DataError(f"eval suite '{name}': {path} needs an 'instructions' list of strings")
        inputs = data.get("inputs") or [""] * len(prompts)  # the paper's files carry "inputs": []
        if len(inputs) != len(prompts) or not all(isinstance(i, str) for i in inputs):
            raise DataError(f"eval suite '{name}': {path} 'inputs' must be empty or one string per instruction")
        return prompts, list(inputs), [None] * len(prompts), [f"{name}:{i}" for i in range(len(prompts))], []
    if isinstance(data, list):
        prompts, inputs, refs = [], [], []
        for i, row in enumerate(data):
            if not isinstance(row, dict) or not isinstance(row.get("instruction"), str):
                raise DataError(f"eval suite '{name}': {path} record {i} has no 'instruction' string")
            out, inp = row.get("output"), row.get("input") or ""
            if out is not None and not isinstance(out, str) or not isinstance(inp, str):
                raise DataError(f"eval suite '{name}': {path} record {i} 'input'/'output' must be strings")
            prompts.append(row["instruction"])
            inputs.append(inp)
            refs.append(out)
        return prompts, inputs, refs, [f"{name}:{i}" for i in range(len(prompts))], []
    raise DataError(
        f"eval suite '{name}': {path} must be {{\"instructions\": [...]}} or a list of Alpaca records"
    )


def _read_csv(path: Path, name: str, label: str | None) -> tuple[list[str], list[str], list, list[str], list]:
    if label not in LABELS:
        raise ConfigError(
            f"eval.suites.{name}.label={label!r}: a CSV suite needs label one of {', '.join(LABELS)}"
        )
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in XSTEST_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(
                    f"eval suite '{name}': {path} lacks CSV column(s) {', '.join(missing)} "
                    f"(XSTest format: id,prompt,type,label,focus,note)"
                )
            rows = [r for r in reader if (r.get("label") or "").strip() == label]
    except (csv.Error, UnicodeDecodeError) as e:
        raise DataError(f"eval suite '{name}': {path} is not a readable CSV ({e})") from None
    for r in rows:
        if not (r.get("prompt") or "").strip():
            raise DataError(f"eval suite '{name}': {path} row id={r.get('id')} has an empty prompt")
    prompts = [r["prompt"] for r in rows]
    types = [r.get("type") or None for r in rows]
    ids = [f"{name}:{r['id']}:{r.get('type') or ''}" for r in rows]
    return prompts, [""] * len(rows), [None] * len(rows), ids, types


def load_suite(name: str, path: str | Path, kind: str, label: str | None = None, limit: int | None = None) -> Suite:
    """Read and check one suite (nothing is generated): the first `limit` prompts, or all."""
    if kind not in KINDS:
        raise ConfigError(f"eval.suites.{name}.kind={kind!r} is not one of {', '.join(KINDS)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"eval.suites.{name}.limit={limit!r} must be a positive integer or null")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"eval suite '{name}': file not found: {path}")
    if path.suffix.lower() == ".csv":
        prompts, inputs, refs, ids, types = _read_csv(path, name, label)
    else:
        if label is not None:
            raise ConfigError(f"eval.suites.{name}.label is only for CSV suites; {path.name} is JSON")
        prompts, inputs, refs, ids, types = _read_json(path, name)
    if not prompts:
        extra = f" with label={label}" if label else ""
        raise DataError(f"eval suite '{name}': {path} has no prompts{extra}")
    n = len(prompts) if limit is None else min(limit, len(prompts))
    return Suite(
        name=name, kind=kind, prompts=prompts[:n], inputs=inputs[:n], references=refs[:n], ids=ids[:n],
        path=str(path), types=types[:n] if types else [None] * n,
    )


def load_suites(spec: Mapping[str, Mapping]) -> list[Suite]:
    """Load every suite of a config's `suites:` mapping `{name: {path, kind, label?, limit?}}`, failing on the first bad one."""
    suites = []
    for name, s in (spec or {}).items():
        if not isinstance(s, Mapping):
            raise ConfigError(f"eval.suites.{name} must be a mapping with path and kind")
        unknown = set(s) - SPEC_KEYS
        if unknown:
            raise ConfigError(f"eval.suites.{name} has unknown key(s) {sorted(unknown)} (allowed: {sorted(SPEC_KEYS)})")
        for key in ("path", "kind"):
            if not s.get(key):
                raise ConfigError(f"eval.suites.{name}.{key} is not set")
        suites.append(load_suite(str(name), s["path"], s["kind"], label=s.get("label"), limit=s.get("limit")))
    return suites
