"""A suite's source as rows and columns: a hub dataset (a local file is read by safetuned.utils.tables)."""

from __future__ import annotations

import re
from pathlib import Path

from safetuned.errors import ConfigError, DataError, first_line
from safetuned.utils.tables import SUFFIXES, Table

_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def is_hub_id(path: str) -> bool:
    """Whether `path` names a hub dataset (`owner/name`, not a local path, no data-file suffix)."""
    return (bool(_HUB_ID.fullmatch(path)) and not Path(path).expanduser().exists()
            and Path(path).suffix.lower() not in SUFFIXES)


def load_hub_table(dataset_id: str, subset: str | None, split: str | None, suite: str) -> Table:
    """Every row of `datasets.load_dataset(dataset_id, subset, split=split)`; one line when it cannot be had."""
    shown = dataset_id + "".join(f" {k}={v}" for k, v in (("subset", subset), ("split", split)) if v)
    try:
        import datasets
    except ImportError:
        raise DataError(f"eval suite '{suite}': hub dataset {shown} needs the datasets package") from None
    try:
        data = datasets.load_dataset(dataset_id, subset, split=split)
    except OSError as e:  # offline, unreachable, gated, no such repository
        reason = f"{type(e).__name__}: {first_line(e, limit=200)}"
        raise DataError(
            f"eval suite '{suite}': cannot load hub dataset {shown} ({reason}); without network download it first "
            f"(hf download --repo-type dataset {dataset_id} --local-dir DIR) and set eval.suites.{suite}.path=DIR/<file>"
        ) from None
    except Exception as e:  # noqa: BLE001 - a subset or split it does not have, other misconfigurations
        raise ConfigError(f"eval.suites.{suite}: hub dataset {shown}: {type(e).__name__}: {first_line(e, limit=200)}") from None
    if isinstance(data, datasets.DatasetDict):
        if len(data) != 1:
            raise ConfigError(f"eval.suites.{suite}.split is not set and {dataset_id} has splits "
                              f"{', '.join(data)}; set one")
        data = next(iter(data.values()))
    return Table(data.to_list(), list(data.column_names), f"hub dataset {shown}")
