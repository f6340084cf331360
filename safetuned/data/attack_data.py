"""Demonstrations for fine-tuning attacks (Qi et al., 2023: 10-100 harmful examples undo safety tuning).

Sources: AdvBench's `harmful_behaviors.csv` (`goal,target`; JailbreakBench's `Goal,Target,...` also reads: column
names match case-insensitively; parsed by the suites' table reader), a `.json`/`.jsonl` file of
`{instruction, output}` pairs (Alpaca records with `input` too), an http(s) URL of one, or a hub dataset id with
those columns. JSON, URL and hub sources go through `safetuned.data.sources.load_records`, the reader of every
other record file.

AdvBench targets are only openings ("Sure, here is a script that ..."), not harmful answers: training on them
teaches a model to *start* complying. Qi et al. fine-tuned on full harmful answers; an attack on AdvBench pairs is
a different, weaker one, and its results should say which it was.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from safetuned.data.sources import LoadedSource, load_records, validate_records
from safetuned.errors import DataError

TAG = "attack"
ADVBENCH_COLUMNS = ("goal", "target")


def read_advbench_csv(path: str | Path) -> LoadedSource:
    """AdvBench-style CSV rows as records: instruction = goal, output = target, input = ""."""
    from safetuned.utils.tables import read_table

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"attack data file not found: {path}")
    table = read_table(path, str(path))
    names = {c.strip().lower(): c for c in table.columns}
    missing = [c for c in ADVBENCH_COLUMNS if c not in names]
    if missing:
        raise DataError(f"{path} lacks CSV column(s) {', '.join(missing)} (AdvBench format: goal,target)")
    rows = [{"instruction": r[names["goal"]] or "", "output": r[names["target"]] or ""} for r in table.rows]
    for i, r in enumerate(rows):
        empty = [c for c, key in zip(ADVBENCH_COLUMNS, ("instruction", "output")) if not r[key].strip()]
        if empty:
            raise DataError(f"{path}: data row {i + 1} has an empty {' and '.join(empty)}")
    if not rows:
        raise DataError(f"{path} has a header but no rows")
    return LoadedSource(records=validate_records(rows, str(path), TAG), source=str(path),
                        sha256=hashlib.sha256(path.read_bytes()).hexdigest(), origin="local")


def load_attack_data(
    source: str | Path, *, cache_dir: str | Path, split: str = "train", limit: int | None = None,
) -> LoadedSource:
    """Attack demonstrations from an AdvBench CSV, a JSON/JSONL file, a URL or a hub dataset id (ids `attack:<i>`)."""
    if Path(str(source)).suffix.lower() == ".csv":
        loaded = read_advbench_csv(source)
        if limit is not None:
            if limit < 0:
                raise DataError(f"limit={limit} must be >= 0")
            loaded.records = loaded.records[:limit]
        return loaded
    return load_records(source, cache_dir=cache_dir, split=split, limit=limit, tag=TAG)


def sample_attack(records: list[dict], n: int, seed: int) -> list[dict]:
    """A seeded choice of n demonstrations; nested: for one seed, the n=10 set is the first 10 of the n=100 set."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise DataError(f"attack n={n!r} must be a non-negative integer")
    if n > len(records):
        raise DataError(f"attack n={n} is larger than the pool of {len(records)} demonstrations: allowed "
                        f"0..{len(records)}")
    order = list(range(len(records)))
    random.Random(f"attack:{seed}").shuffle(order)
    return [records[i] for i in order[:n]]
