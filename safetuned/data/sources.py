"""Read instruction records from a local file, an http(s) URL (cached) or a Hugging Face hub dataset."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from safetuned.errors import DataError

# The config key that names each source `train.py` loads, for messages that say what to change.
CONFIG_KEYS = {
    "base": "data.base.source",
    "premixed": "data.premixed",
    "safety_instructions": "data.safety.instructions",
    "safety_questions": "data.safety.questions",
    "attack": "attack.data",
}


@dataclass
class LoadedSource:
    """Validated records (`id`, `instruction`, `input`, `output`) and where they came from."""

    records: list[dict]
    source: str
    sha256: str
    origin: Literal["local", "url", "hub"]


def canonical_sha256(obj: Any) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of `obj`."""
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def _config_key(tag: str | None) -> str:
    return CONFIG_KEYS.get(tag or "", "the data source key (e.g. data.base.source)")


def _parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None


def _parse_jsonl(text: str, path: Path) -> list[Any]:
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: invalid JSON at line {lineno}, column {e.colno}: {e.msg}") from None
    return rows


def validate_records(rows: Any, where: str, prefix: str) -> list[dict]:
    """Check every row has string `instruction` and `output` (`input` defaults to "") and give it an id."""
    if not isinstance(rows, list):
        got = f"an object with keys {sorted(rows)[:5]}" if isinstance(rows, dict) else f"a {type(rows).__name__}"
        raise DataError(f"{where}: expected a JSON list of {{instruction, input, output}} records, got {got}")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError(f"{where}: record {i} is a {type(row).__name__}, not an object")
        for key in ("instruction", "output"):
            if not isinstance(row.get(key), str):
                what = "missing" if key not in row else f"not a string ({type(row[key]).__name__})"
                raise DataError(f"{where}: record {i} key '{key}' is {what}")
        inp = row.get("input")
        if inp is None:
            inp = ""
        if not isinstance(inp, str):
            raise DataError(f"{where}: record {i} key 'input' is not a string ({type(inp).__name__})")
        out.append({"id": f"{prefix}:{i}", "instruction": row["instruction"], "input": inp, "output": row["output"]})
    return out


def _read_file(path: Path) -> tuple[list, str]:
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start})") from None
    rows = _parse_jsonl(text, path) if path.suffix == ".jsonl" else _parse_json(text, path)
    return rows, hashlib.sha256(data).hexdigest()


def _download(url: str, cache_dir: Path) -> Path:
    """Fetch `url` once into `cache_dir/downloads/<sha of url>/<name>`; later calls reuse the file."""
    name = Path(urllib.parse.urlparse(url).path).name or "download.json"
    folder = cache_dir / "downloads" / hashlib.sha256(url.encode()).hexdigest()[:16]
    target = folder / name
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=60) as resp:
            while chunk := resp.read(1 << 20):
                f.write(chunk)
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise DataError(f"cannot download {url}: {e}") from None
    return target


def _load_hub(source: str, split: str, tag: str | None) -> list:
    try:
        import datasets

        ds = datasets.load_dataset(source, split=split)
    except Exception as e:  # noqa: BLE001 - offline, unknown id, a missing split: all are the user's to fix
        reason = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise DataError(
            f"cannot load hub dataset '{source}' (split '{split}'): {reason}; without hub access, download its "
            f"JSON (e.g. `huggingface-cli download --repo-type dataset {source}`) and point {_config_key(tag)} "
            "at the local .json/.jsonl file"
        ) from None
    return [dict(r) for r in ds]


def load_records(
    source: str | Path,
    *,
    cache_dir: str | Path,
    split: str = "train",
    limit: int | None = None,
    tag: str | None = None,
) -> LoadedSource:
    """Load and validate Alpaca-format records from a `.json`/`.jsonl` file, an http(s) URL or a hub id."""
    if limit is not None and limit < 0:
        raise DataError(f"limit={limit} must be >= 0")
    src = str(source)
    path = Path(src).expanduser()
    if src.startswith(("http://", "https://")):
        path = _download(src, Path(cache_dir))
        rows, sha = _read_file(path)
        origin, stem = "url", path.stem
    elif path.suffix in (".json", ".jsonl") or path.exists() or src.startswith(("/", ".", "~")):
        rows, sha = _read_file(path)
        origin, stem, src = "local", path.stem, str(path)
    else:
        rows, sha, origin, stem = _load_hub(src, split, tag), None, "hub", src.rsplit("/", 1)[-1]
    where = src if origin != "hub" else f"hub dataset {src} ({split})"
    records = validate_records(rows, where, tag or stem)
    if limit is not None:
        records = records[:limit]
    if sha is None:
        sha = canonical_sha256([{k: r[k] for k in ("instruction", "input", "output")} for r in records])
    return LoadedSource(records=records, source=src, sha256=sha, origin=origin)
