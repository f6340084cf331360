"""A sweep's jobs from its folder: sweep discovery, job folders, overrides, status and metrics of each job.

A job folder is one holding Hydra's `.hydra/overrides.yaml`; jobs that multirun.yaml lists but that never got a
folder are reported as "not started". Nothing here fails on a broken job: its status and error say what is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safetuned.errors import ConfigError
from safetuned.pipeline.layout import find_job_dirs
from safetuned.utils.io import read_json

log = logging.getLogger(__name__)

STATUSES = ("completed", "failed", "unfinished", "not started")


@dataclass
class Job:
    """One job of the sweep: its overrides (typed), status, error and metrics."""

    name: str
    path: Path | None
    overrides: list[str]
    values: dict[str, Any]
    status: str
    error: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status == "completed"


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


def parse_overrides(overrides: Iterable[str], ignore: Iterable[str] = ()) -> dict[str, Any]:
    """`key=value` strings to `{key: typed value}` with Hydra's own override grammar (ints stay ints).

    Keys in `ignore` (Hydra's `override_dirname.exclude_keys`, e.g. `resume`) are run controls, not part of a
    job's identity, and are left out.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    values: dict[str, Any] = {}
    for text in overrides:
        try:
            o = parser.parse_override(str(text))
        except OverrideParseException as e:
            raise ConfigError(f"cannot parse override {text!r}: {_one_line(e)}") from e
        if o.is_delete() or o.key_or_group in ignore:
            continue
        value = o.value()
        values[o.key_or_group] = value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
    if isinstance(values.get("source"), str):  # an attack's source job: its folder name, not the whole path
        values["source"] = Path(values["source"]).name
    return values


def load_job(sweep_dir: Path, job_dir: Path, ignore: Iterable[str] = ()) -> Job:
    """Read one job folder; a folder without status.json or metrics.json is "unfinished", never an error."""
    name = job_dir.relative_to(sweep_dir).as_posix()
    overrides_file = job_dir / ".hydra" / "overrides.yaml"
    try:
        overrides = yaml.safe_load(overrides_file.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{overrides_file}: unreadable ({_one_line(e)})") from e
    if not isinstance(overrides, list):
        raise ConfigError(f"{overrides_file}: not a YAML list of key=value overrides")
    overrides = [str(o) for o in overrides]
    values = parse_overrides(overrides, ignore)
    job = Job(name, job_dir, overrides, values, "unfinished")
    status = _read_optional_json(job_dir / "status.json")
    if isinstance(status, dict) and status.get("status") == "failed":
        job.status, job.error = "failed", str(status.get("error") or "failed (no error message recorded)")
        return job
    metrics = _read_optional_json(job_dir / "metrics.json")
    if not isinstance(status, dict):
        job.error = "no status.json: the job never started or was killed at once"
    elif status.get("status") != "completed":
        job.error = f"status {status.get('status')!r} since {status.get('started_at')} (running or killed)"
    elif not isinstance(metrics, dict):
        job.error = "completed but no readable metrics.json"
    else:
        job.status = "completed"
        job.metrics = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))
                       and not isinstance(v, bool)}
    return job


def _read_optional_json(path: Path) -> Any:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def sweep_hydra_config(sweep_dir: Path) -> dict[str, Any]:
    """The raw (unresolved) `hydra` section of the sweep's multirun.yaml, {} when missing or unreadable."""
    try:
        cfg = yaml.safe_load((sweep_dir / "multirun.yaml").read_text(encoding="utf-8"))
        return cfg["hydra"] if isinstance(cfg, dict) and isinstance(cfg.get("hydra"), dict) else {}
    except (OSError, yaml.YAMLError):
        return {}


def excluded_keys(hydra_cfg: dict[str, Any]) -> set[str]:
    """Keys Hydra leaves out of job folder names (`hydra.job.config.override_dirname.exclude_keys`)."""
    try:
        return set(hydra_cfg["job"]["config"]["override_dirname"]["exclude_keys"] or [])
    except (KeyError, TypeError):
        return set()


def expected_jobs(hydra_cfg: dict[str, Any]) -> list[list[str]]:
    """The jobs a basic-sweeper sweep was launched with, from its multirun.yaml ([] when unknown)."""
    sweeper = hydra_cfg.get("sweeper") or {}
    if not str(sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return []
    try:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser

        args = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
        args += list(hydra_cfg["overrides"]["task"] or [])
        return BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(args), None)[0]
    except Exception as e:  # noqa: BLE001 - only a convenience: a glob sweep or odd config just skips it
        log.debug("cannot list the sweep's expected jobs from multirun.yaml: %s", e)
        return []


def collect_jobs(sweep_dir: str | Path) -> list[Job]:
    """Every job folder of the sweep, plus jobs multirun.yaml lists that never got a folder ("not started")."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise ConfigError(f"sweep folder {sweep_dir} does not exist; pass a multirun/<date>/<time> folder")
    if (sweep_dir / ".hydra").is_dir():
        raise ConfigError(f"{sweep_dir} is one job's folder, not a sweep folder; pass the multirun/<date>/<time> "
                          "folder that holds the jobs")
    hydra_cfg = sweep_hydra_config(sweep_dir)
    # An attack's source job names the folder its jobs are nested in, not their own names: it still tells them apart.
    ignore = excluded_keys(hydra_cfg) - {"source"}
    jobs = [load_job(sweep_dir, d, ignore) for d in find_job_dirs(sweep_dir)]
    seen = {_identity(j.values) for j in jobs}
    for overrides in expected_jobs(hydra_cfg):
        values = parse_overrides(overrides, ignore)
        if _identity(values) not in seen:
            jobs.append(Job(",".join(overrides), None, overrides, values, "not started",
                            "no job folder: the sweep stopped before this job"))
    if not jobs:
        raise ConfigError(f"sweep folder {sweep_dir} holds no jobs (no */.hydra/overrides.yaml); "
                          "pass a multirun/<date>/<time> folder of a started sweep")
    return jobs


def _identity(values: dict[str, Any]) -> frozenset:
    return frozenset((k, repr(v)) for k, v in values.items())
