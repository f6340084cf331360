"""Suite formats: how a benchmark's released file (or hub dataset) becomes prompts, one module per format.

Adding a format is one module in this package that registers a reader of the rows (every module not starting
with `_` is imported on first use):

    @register_format("my_bench", columns=("question", "topic"), options={"label": Select("split_label")})
    def read(rows):
        return [Item(prompt=need(r, "question", i), id=str(i), category=need(r, "topic", i)) for i, r in rows]

`rows` are `(position in the file, row)` pairs left after the format's selections (`label`, `functional`, ...);
a suite picks its format with `eval.suites.<name>.format`, or it is detected from the file's columns.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetuned.errors import ConfigError, DataError
from safetuned.eval.suite_formats._tables import is_hub_id, load_hub_table
from safetuned.utils.tables import SUFFIXES, Table, read_table

__all__ = ["SPEC_KEYS", "SUFFIXES", "Item", "RowError", "Select", "SuiteFormat", "cell", "detect_format", "get_format", "is_hub_id",
           "known_formats", "need", "read_hub_dataset", "read_suite_file", "register_format"]


# The keys every suite spec may set; a format adds its own options (`label`, `functional`, ...).
SPEC_KEYS = ("path", "kind", "format", "limit", "split", "subset")


class RowError(ValueError):
    """A bad row, raised by a reader; shown as one DataError line naming the suite and the file."""


@dataclass
class Item:
    """One prompt of a suite, with what the benchmark says about it (`id` is the benchmark's own, without the suite)."""

    prompt: str
    id: str
    input: str = ""
    reference: str | None = None
    type: str | None = None
    category: str | None = None
    context: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class Select:
    """A suite option that keeps the rows whose `column` equals the option's value (or one of its values)."""

    column: str
    values: tuple[str, ...] | None = None  # the values allowed; None: any
    required: bool = False
    default: str | None = None  # used when the option is not set and the file has the column


Reader = Callable[[list[tuple[int, dict]]], list[Item]]


@dataclass(frozen=True)
class SuiteFormat:
    """A registered format: the columns it needs, its options, and its reader."""

    name: str
    columns: tuple[str, ...]
    read: Reader
    options: Mapping[str, Select]


_FORMATS: dict[str, SuiteFormat] = {}
_LOADED = False


def register_format(name: str, *, columns: tuple[str, ...], options: Mapping[str, Select] | None = None
                    ) -> Callable[[Reader], Reader]:
    """Decorator: register `read(rows) -> list[Item]` as format `name` for files with all of `columns`."""
    def deco(read: Reader) -> Reader:
        if name in _FORMATS and _FORMATS[name].read is not read:
            raise ValueError(f"suite format {name!r} is registered twice")
        _FORMATS[name] = SuiteFormat(name, tuple(columns), read, dict(options or {}))
        return read
    return deco


def _load_package() -> None:
    global _LOADED
    if not _LOADED:
        for mod in pkgutil.iter_modules(__path__):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{__name__}.{mod.name}")
        _LOADED = True


def known_formats() -> list[str]:
    _load_package()
    return sorted(_FORMATS)


def get_format(name: str, suite: str) -> SuiteFormat:
    """The format registered as `name`; ConfigError naming the known ones."""
    _load_package()
    if name not in _FORMATS:
        raise ConfigError(f"eval.suites.{suite}.format={name!r} is not a known suite format; "
                          f"known: {', '.join(sorted(_FORMATS))}")
    return _FORMATS[name]


def detect_format(table: Table, suite: str, where: str) -> SuiteFormat:
    """The format whose columns the table has (the most specific one when several fit)."""
    _load_package()
    columns = set(table.columns)
    fits = [f for f in _FORMATS.values() if set(f.columns) <= columns]
    widest = [f for f in fits if not any(set(f.columns) < set(g.columns) for g in fits)]
    if len(widest) == 1:
        return widest[0]
    choose = f"set eval.suites.{suite}.format to one of {', '.join(sorted(_FORMATS))}"
    if widest:
        raise ConfigError(f"{where} fits several suite formats ({', '.join(sorted(f.name for f in widest))}); "
                          f"{choose}")
    closest = max(_FORMATS.values(), key=lambda f: (len(set(f.columns) & columns), -len(f.columns)))
    missing = [c for c in closest.columns if c not in columns]
    hint = (f"; closest: {closest.name}, which also needs {', '.join(missing)}"
            if len(missing) < len(closest.columns) else "")
    shown = ", ".join(table.columns[:12]) or "none"
    raise DataError(f"{where} has columns ({shown}) that fit no suite format{hint}; {choose}")


def cell(row: Mapping[str, Any], column: str) -> str:
    """The row's value in `column` as stripped text ('' when missing)."""
    value = row.get(column)
    return "" if value is None else str(value).strip()


def need(row: Mapping[str, Any], column: str, i: int) -> str:
    """The row's non-empty value in `column` (as released, not stripped); RowError when empty."""
    if not cell(row, column):
        raise RowError(f"row {i + 1} has an empty {column}")
    value = row[column]
    return value if isinstance(value, str) else str(value)


def _select(rows: list[tuple[int, dict]], fmt: SuiteFormat, options: Mapping[str, Any], columns: list[str],
            suite: str, where: str) -> list[tuple[int, dict]]:
    for key, sel in fmt.options.items():
        value = options.get(key, sel.default)
        allowed = f"one of {', '.join(sel.values)}" if sel.values else f"a value of its {sel.column} column"
        if value is None:
            if sel.required:
                raise ConfigError(f"eval.suites.{suite}.{key} is not set: format {fmt.name} needs it ({allowed})")
            continue
        wanted = [value] if isinstance(value, str) else value
        if not isinstance(wanted, list | tuple) or not wanted or not all(isinstance(v, str) for v in wanted):
            raise ConfigError(f"eval.suites.{suite}.{key}={value!r} must be a string or a list of strings ({allowed})")
        bad = [v for v in wanted if sel.values and v not in sel.values]
        if bad:
            raise ConfigError(f"eval.suites.{suite}.{key}={value!r}: {bad[0]!r} is not allowed ({allowed})")
        if sel.column not in columns:
            if key not in options:
                continue  # a default for a column this file does not have
            raise DataError(f"{where} has no {sel.column} column to select {key}={value}")
        kept = [(i, r) for i, r in rows if cell(r, sel.column) in wanted]
        if not kept:
            found = sorted({cell(r, sel.column) for _, r in rows} - {""})
            shown = ", ".join(found[:8]) + (", ..." if len(found) > 8 else "") if found else "none"
            raise DataError(f"{where} has no prompts with {key}={value} (its {sel.column} values: {shown})")
        rows = kept
    return rows


def _items(table: Table, suite: str, where: str, format: str | None,
           options: Mapping[str, Any]) -> tuple[SuiteFormat, list[Item]]:
    fmt = get_format(format, suite) if format else detect_format(table, suite, where)
    missing = [c for c in fmt.columns if c not in table.columns]
    if missing:
        raise DataError(f"{where} lacks column(s) {', '.join(missing)} of format {fmt.name} "
                        f"(it needs {', '.join(fmt.columns)})")
    unknown = sorted(set(options) - set(fmt.options))
    if unknown:
        raise ConfigError(f"eval.suites.{suite} has unknown key(s) {unknown} for format {fmt.name} "
                          f"(allowed: {sorted({*SPEC_KEYS, *fmt.options})})")
    rows = _select(list(enumerate(table.rows)), fmt, options, table.columns, suite, where)
    try:
        return fmt, fmt.read(rows)
    except RowError as e:
        raise DataError(f"{where} {e}") from None


def read_suite_file(path: str | Path, suite: str, format: str | None = None,
                    options: Mapping[str, Any] | None = None) -> tuple[SuiteFormat, list[Item]]:
    """The format and items of a local suite file (.csv, .json, .jsonl, .parquet), as released."""
    path = Path(path).expanduser()
    where = f"eval suite '{suite}': {path}"
    if path.is_dir():
        found = sorted(p.name for p in path.iterdir() if p.suffix.lower() in SUFFIXES)[:6]
        raise DataError(f"{where} is a folder; set eval.suites.{suite}.path to a file in it"
                        + (f" ({', '.join(found)})" if found else ""))
    if not path.is_file():
        raise DataError(f"eval suite '{suite}': file not found: {path}")
    return _items(read_table(path, where), suite, where, format, options or {})


def read_hub_dataset(dataset_id: str, suite: str, subset: str | None = None, split: str | None = None,
                     format: str | None = None, options: Mapping[str, Any] | None = None
                     ) -> tuple[SuiteFormat, list[Item]]:
    """The format and items of a hub dataset (`datasets.load_dataset(id, subset, split=split)`)."""
    table = load_hub_table(dataset_id, subset, split, suite)
    return _items(table, suite, f"eval suite '{suite}': {table.source}", format, options or {})
