"""Rows and columns of a local .csv/.json/.jsonl/.parquet file, read unchanged: the one reader of record files
(evaluation suites, labelled answers, attack data, reference answers)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from safetuned.errors import DataError

SUFFIXES = (".csv", ".json", ".jsonl", ".parquet")


@dataclass
class Table:
    """The rows of a source as dicts, its columns in order, and how to name it in messages."""

    rows: list[dict]
    columns: list[str]
    source: str
    lines: list[int] = field(default_factory=list)  # where each row starts: file line (CSV, JSONL) or row number


def _records(rows: list, where: str) -> tuple[list[dict], list[str]]:
    columns: dict[str, None] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError(f"{where} row {i + 1} is not an object")
        columns.update(dict.fromkeys(row))
    return rows, list(columns)


def read_table(path: Path, where: str) -> Table:
    """Every row of a local file, by its suffix; DataError (one line) when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{where} is not a {', '.join(SUFFIXES)} file")
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError(f"{where}: reading .parquet needs pyarrow (pip install pyarrow)") from None
        try:
            data = pq.read_table(path)
        except Exception as e:  # noqa: BLE001 - pyarrow raises its own ArrowInvalid/OSError types
            raise DataError(f"{where} is not a readable parquet file ({type(e).__name__})") from None
        rows = data.to_pylist()
        return Table(rows, list(data.column_names), str(path), list(range(1, len(rows) + 1)))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{where} is not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise DataError(f"{where} is empty")
    if suffix == ".csv":
        rows, lines = [], []
        try:
            reader = csv.DictReader(io.StringIO(text, newline=""))
            start = 2
            for row in reader:  # a record may span lines (quoted newlines): keep the line it starts on
                rows.append({(k.strip() if isinstance(k, str) else k): v for k, v in row.items()})
                lines.append(start)
                start = reader.line_num + 1
        except csv.Error as e:
            raise DataError(f"{where} is not a readable CSV ({e})") from None
        header = [c.strip() for c in reader.fieldnames or []]
        for i, row in enumerate(rows):
            if None in row:  # csv.DictReader keeps a row's surplus fields under None
                raise DataError(f"{where} row {i + 1} has {len(header) + len(row[None])} fields, more than the "
                                f"header's {len(header)} (an unquoted comma?)")
        return Table(rows, [c for c in header if c], str(path), lines)
    if suffix == ".jsonl":
        rows, lines = [], []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise DataError(f"{where} line {n} is invalid JSON: {e.msg}") from None
                lines.append(n)
        return Table(*_records(rows, where), str(path), lines)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{where} is invalid JSON at line {e.lineno}: {e.msg}") from None
    if isinstance(data, dict):  # one object: its keys are the columns (the paper's {"instructions": [...]})
        return Table([data], list(data), str(path), [1])
    if isinstance(data, list):
        return Table(*_records(data, where), str(path), list(range(1, len(data) + 1)))
    raise DataError(f"{where} must hold a JSON object or a list of objects")
