"""What a job's results depend on: its resolved config and the content of each data file, kept in its manifest.

A re-run into a job folder whose results or checkpoint came from another config neither skips nor resumes it
(safetuned.runtime.job.run_job says which keys differ). Keys that change how a job runs or where it writes, not what it
computes, are left out; `paths.*` stand in by name, so a moved cache or job folder is no change.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from safetuned.utils.io import read_json

MANIFEST = "manifest.json"
IGNORED = ("hydra", "paths", "logger", "resume", "num_threads", "task_name", "callbacks.progress_bar",
           "callbacks.lr_monitor", "trainer.devices", "trainer.num_nodes", "trainer.accelerator", "trainer.strategy",
           "trainer.enable_progress_bar", "trainer.enable_model_summary", "trainer.log_every_n_steps",
           "trainer.default_root_dir", "data.num_workers", "data.eval_batch_size", "eval.generation.batch_size",
           "eval.harness.batch_size", "eval.log_samples", "eval.score_cache")
DATA_FILE_KEYS = ("data.base.source", "data.premixed", "data.safety.instructions", "data.safety.questions",
                  "attack.data")


def _ignored(key: str) -> bool:
    return any(key == k or key.startswith(k + ".") for k in IGNORED)


def _flatten(node: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(node, dict) and node:
        for k, v in node.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    else:
        out[prefix] = node


def config_values(cfg: DictConfig) -> dict[str, Any] | None:
    """The resolved config as flat `key: value` pairs, ignored keys left out; None when it does not resolve."""
    raw = OmegaConf.to_container(cfg, resolve=False)
    raw.pop("hydra", None)
    raw["paths"] = {k: f"<paths.{k}>" for k in (raw.get("paths") or {})}
    try:
        plain = OmegaConf.to_container(OmegaConf.create(raw), resolve=True)
    except Exception:  # noqa: BLE001 - an unresolvable config is reported by the plan, not here
        return None
    flat: dict[str, Any] = {}
    _flatten(plain, "", flat)
    if OmegaConf.select(cfg, "data.demo_seed", default=None) is not None or not OmegaConf.select(
            cfg, "model.pretrained", default=None):
        from safetuned.data.demo import VERSION

        flat["demo_world_version"] = VERSION  # the generator's version shapes the demo data and embedded model
    return json.loads(json.dumps({k: v for k, v in flat.items() if not _ignored(k)}, default=str))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def data_files(cfg: DictConfig) -> dict[str, str]:
    """sha256 of each local data and eval suite file the config names (hub ids and URLs are in the config)."""
    keys = list(DATA_FILE_KEYS)
    suites = OmegaConf.select(cfg, "eval.suites", default=None) or {}
    keys += [f"eval.suites.{name}.path" for name in suites]
    seen: dict[Path, str] = {}
    out = {}
    for key in keys:
        value = OmegaConf.select(cfg, key, default=None, throw_on_resolution_failure=False)
        if not isinstance(value, str) or "://" in value:
            continue
        path = Path(value).expanduser()
        if path.is_file():
            seen.setdefault(path, _sha256(path))
            out[key] = seen[path]
    return out


def fingerprint(cfg: DictConfig) -> dict[str, Any] | None:
    """{config_sha256, config, files}: what the manifest records; None when the config does not resolve."""
    values = config_values(cfg)
    if values is None:
        return None
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()
    return {"config_sha256": digest, "config": values, "files": data_files(cfg)}


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """`key: old -> new` for each config key that differs, `key: file content changed` for each data file."""
    before, after = old.get("config") or {}, new.get("config") or {}
    unset = object()
    changes = [f"{k}: {_show(before.get(k))} -> {_show(after.get(k))}" for k in sorted(set(before) | set(after))
               if before.get(k, unset) != after.get(k, unset)]
    old_files = old.get("files") or {}
    changes += [f"{k}: file content changed" for k, h in sorted(new.get("files", {}).items())
                if old_files.get(k) and old_files[k] != h]
    return changes


def recorded(job_dir: Path) -> dict[str, Any] | None:
    """The fingerprint in the job's manifest, None when there is none (a job that never got past its plan)."""
    try:
        manifest = read_json(Path(job_dir) / MANIFEST)
    except (OSError, ValueError):
        return None
    return manifest.get("fingerprint") if isinstance(manifest, dict) else None


def stale_keys(cfg: DictConfig, job_dir: Path) -> list[str]:
    """What differs between the config given now and the one the job's manifest records ([] when nothing or unknown)."""
    old = recorded(job_dir)
    if not old:
        return []
    new = fingerprint(cfg)
    return differences(old, new) if new else []
