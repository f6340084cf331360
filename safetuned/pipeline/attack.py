"""Planning a fine-tuning attack job (Qi et al., 2023): from a trained job's adapter, train on n harmful or benign
demonstrations, then evaluate like any training job (`python -m safetuned.attack`, conf/attack.yaml).

    source config    the source job's model, prompt, lora, eval and data (its .hydra/config.yaml), plus the attack's
                     own keys on top (`attack.*`, trainer, optim, `+eval.limit=...`): `attack_config`
    demonstrations   harmful: `attack.data` (or the demo world's attack_harmful.json); benign: the source's base
                     records that were not in its mixture. One seeded permutation: the first n train, the last
                     `attack.val_size` give `val/loss` (never trained on): `attack_data`
    the job          n=0 evaluates the source adapter as it is; n>0 trains through safetuned.pipeline.fit.train from
                     the source adapter (init=continue) or a new LoRA on the merged model (init=fresh): `run_attack`
    sweeps           `source=<sweep folder>` on the command line becomes one quoted job folder per finished source
                     job (`expand_source_args`); each attack job lives in `<source job name>/<attack overrides>`
"""

from __future__ import annotations

import copy
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from safetuned.errors import ConfigError, DataError

FROM_SOURCE = ("model", "prompt", "lora", "eval", "data")  # the source job's config groups an attack keeps
DEMO_HARMFUL = "attack_harmful.json"  # the demo world's harmful demonstrations: {instruction, input, output}
WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


# ---------------------------------------------------------------- the command line: sweeps of source jobs


def finished_jobs(sweep_dir: Path) -> tuple[list[Path], list[Path]]:
    """(jobs of the sweep that completed with an adapter, the others)."""
    from safetuned.pipeline.layout import find_job_dirs, job_status

    done, other = [], []
    for job in find_job_dirs(sweep_dir):
        ok = (job_status(job) or {}).get("status") == "completed" and (job / "adapter" / "adapter_config.json").is_file()
        (done if ok else other).append(job)
    return done, other


def quote(value: str) -> str:
    """A Hydra override value that stays one string: commas and '=' in job folder names are not a sweep."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def expand_source_args(argv: list[str]) -> list[str]:
    """`source=<sweep folder>` becomes the quoted list of its finished jobs; a job folder is quoted as it is."""
    out = []
    for arg in argv:
        given = arg.removeprefix("source=")
        folder = Path(given).expanduser()
        if given == arg or not folder.is_dir():
            out.append(arg)  # not a folder: the job says why
            continue
        if not (folder / "multirun.yaml").is_file():
            out.append("source=" + quote(given))
            continue
        done, other = finished_jobs(folder)
        if not done:
            raise ConfigError(f"source={given!r}: the sweep has no finished job with an adapter/ "
                              f"({len(other)} unfinished or failed)")
        if other:
            print(f"note: source={given}: {len(other)} job(s) skipped, not finished with an adapter/: "
                  + ", ".join(p.relative_to(folder).as_posix() for p in other), file=sys.stderr)
        if len(done) > 1 and not {"-m", "--multirun"} & set(argv):
            raise ConfigError(f"source={given!r} is a sweep of {len(done)} finished jobs: add -m for one attack "
                              "job per source job")
        out.append("source=" + ",".join(quote(str(Path(given) / p.relative_to(folder))) for p in done))
    return out


def attack_subdir(source: str, override_dirname: str = "") -> str:
    """An attack job's folder in its sweep: the source job's name, then the attack's overrides without `attack.`
    and with file names for paths (`data.safety_n=500/kind=harmful,n=10,data=harmful_behaviors.csv`)."""
    from safetuned.pipeline.layout import sweep_root

    path = Path(str(source)).expanduser().resolve()
    root = sweep_root(path)
    name = path.relative_to(root).as_posix() if root != path else path.name
    settings = re.sub(r"(^|,)attack\.", r"\1", str(override_dirname or ""))
    settings = re.sub(r"=[^,=]*/", "=", settings)  # a path value: its last part (no nested folders)
    return f"{name}/{settings}" if settings else name


if not OmegaConf.has_resolver("attack_subdir"):
    OmegaConf.register_new_resolver("attack_subdir", attack_subdir)  # conf/attack.yaml: hydra.sweep.subdir


# ---------------------------------------------------------------- the source job and the attack's config


@dataclass
class Source:
    """A finished training (or attack) job an attack starts from."""

    dir: Path
    adapter: Path
    config: DictConfig
    manifest: dict

    def parent(self) -> dict:
        """What the attack job's manifest records of it."""
        weights = next(self.adapter / w for w in WEIGHTS if (self.adapter / w).is_file())
        return {"job": str(self.dir.resolve()), "config_sha256": (self.manifest.get("fingerprint") or {}).get(
            "config_sha256"), "adapter_file": weights.name, "adapter_sha256": hashlib.sha256(weights.read_bytes(
            )).hexdigest()}


def read_source(value: str) -> Source:
    """The source job folder, checked: its adapter, config and manifest (one-line errors naming `source`)."""
    from safetuned.utils.io import read_json

    path = Path(str(value)).expanduser()
    where = f"source={value!r}"
    if not path.is_dir():
        raise DataError(f"{where}: no such job folder")
    if (path / "multirun.yaml").is_file():
        raise ConfigError(f"{where} is a sweep folder: give it on the command line (python -m safetuned.attack -m "
                          "source=<sweep>), which runs one attack job per finished job")
    if not (path / "adapter" / "adapter_config.json").is_file() or not any(
            (path / "adapter" / w).is_file() for w in WEIGHTS):
        raise DataError(f"{where}: no adapter/ with weights in the job folder (allowed: a finished training job's "
                        "folder, or a sweep folder of them)")
    try:
        config = OmegaConf.load(path / ".hydra" / "config.yaml")
        manifest = read_json(path / "manifest.json")
    except Exception as e:  # noqa: BLE001 - missing, unreadable or broken files: the folder is not a finished job
        raise DataError(f"{where}: not a finished safetuned job ({type(e).__name__}: "
                        f"{str(e).splitlines()[0][:100]})") from None
    lacking = [k for k in FROM_SOURCE if not isinstance(config.get(k), DictConfig) or not config[k]]
    if lacking:
        raise DataError(f"{where}: its .hydra/config.yaml has no {', '.join(lacking)} config: not a training job")
    if OmegaConf.select(config, "attack.init") == "fresh" and OmegaConf.select(config, "attack.n"):
        raise ConfigError(f"{where} is an attack.init=fresh job: its adapter sits on a merged model; attack its "
                          f"source ({OmegaConf.select(config, 'source')}) instead")
    return Source(path, path / "adapter", config, manifest)


def attack_config(cfg: DictConfig) -> DictConfig:
    """The attack job's config: the source job's groups (FROM_SOURCE), the attack's own keys for them on top."""
    if OmegaConf.is_missing(cfg, "source"):
        raise ConfigError("source is not set: give a training job's folder or a sweep folder of them, "
                          "source=multirun/<date>/<time>")
    source = read_source(cfg.source)
    out = copy.deepcopy(cfg)
    with open_dict(out):
        for key in FROM_SOURCE:
            out[key] = OmegaConf.merge(source.config[key], cfg.get(key) or {})
        micro, batch = cfg.attack.get("micro_batch_size"), cfg.attack.get("batch_size")
        have = out.data.get("micro_batch_size")
        if micro is None and isinstance(batch, int) and isinstance(have, int) and batch >= 1:
            # the largest micro batch that divides the attack's batch and fits where the source's did
            micro = max(d for d in range(1, batch + 1) if batch % d == 0 and d <= max(have, 1))
        out.data.micro_batch_size = micro if micro is not None else have
    return out


# ---------------------------------------------------------------- demonstrations


def _pool(cfg: DictConfig, source: Source) -> tuple[list[dict], dict, str]:
    """(records to sample from, the source file's record, what the pool is)."""
    from safetuned.data.attack_data import load_attack_data
    from safetuned.data.sources import load_records

    a, cache = cfg.attack, Path(cfg.paths.cache_dir)
    if a.kind == "harmful":
        path = a.data
        if path is None:
            if cfg.data.get("demo_seed") is None:
                raise ConfigError("attack.data is not set: give an AdvBench-style CSV (goal,target), a JSON/JSONL "
                                  "file of {instruction, output} pairs or a hub dataset id")
            path = str(Path(cfg.paths.demo_dir) / DEMO_HARMFUL)
            if not Path(path).is_file():
                raise DataError(f"attack.data=null: the demo world has no {DEMO_HARMFUL} ({path}); give "
                                "attack.data=<file>")
        loaded = load_attack_data(path, cache_dir=cache)
        return loaded.records, _described(loaded), f"harmful demonstrations in {loaded.source}"
    if cfg.data.get("premixed") or not cfg.data.get("base"):
        raise ConfigError(f"attack.kind=benign: the source {cfg.source} trained on no data.base.source (premixed "
                          "data), so it has no benign pool; use attack.kind=harmful")
    loaded = load_records(cfg.data.base.source, cache_dir=cache, split=cfg.data.base.get("split", "train"), tag="base")
    used = set(source.manifest.get("train_ids") or []) | set(source.manifest.get("val_ids") or [])
    unused = [r for r in loaded.records if r["id"] not in used]
    if len(unused) >= int(a.n) + int(a.val_size):
        return unused, _described(loaded), "base records not in the source's mixture"
    return loaded.records, _described(loaded), (f"base records, the source's training records included (only "
                                                f"{len(unused)} were not in its mixture)")


def _described(loaded) -> dict:
    return {"source": loaded.source, "sha256": loaded.sha256, "origin": loaded.origin, "records": len(loaded.records)}


def attack_data(cfg: DictConfig, source: Source) -> tuple:
    """(Mixture of the first n demonstrations and the last val_size of one seeded permutation, sources)."""
    from safetuned.data.attack_data import sample_attack
    from safetuned.data.mixture import Mixture
    from safetuned.data.sources import canonical_sha256

    a = cfg.attack
    pool, described, what = _pool(cfg, source)
    n, k = int(a.n), int(a.val_size)
    if n + k > len(pool):
        raise DataError(f"attack.n={n} is larger than the attack pool: {len(pool)} {what}, less attack.val_size={k} "
                        f"held out for val/loss; allowed 0..{max(len(pool) - k, 0)}")
    order = sample_attack(pool, len(pool), int(a.seed))
    train = [{**r, "group": str(a.kind)} for r in order[:n]]
    val = [{**r, "group": str(a.kind)} for r in order[len(order) - k:]]
    fields = ("id", "instruction", "input", "output")
    manifest = {
        "counts": {"train": n, "val": k, "pool": len(pool)},
        "attack": {**OmegaConf.to_container(a, resolve=True), "pool": what},
        "parent": source.parent(),
        "seed": int(a.seed),
        "train_ids": [r["id"] for r in train],
        "val_ids": [r["id"] for r in val],
        "sha256": canonical_sha256({"train": [{f: r[f] for f in fields} for r in train],
                                    "val": [{f: r[f] for f in fields} for r in val]}),
    }
    return Mixture(train, val, manifest), {"attack" if a.kind == "harmful" else "base": described}


# ---------------------------------------------------------------- the job


def run_attack(cfg: DictConfig, job_dir: Path) -> dict[str, float]:
    """One attack job (`cfg` from attack_config): every check, then evaluate (n=0) or train and evaluate (n>0)."""
    from safetuned.model.export import INFO_FILE
    from safetuned.pipeline.build import AdapterInit
    from safetuned.pipeline.check import check_config
    from safetuned.pipeline.fit import train
    from safetuned.runtime.ddp import is_rank_zero
    from safetuned.utils.io import read_json, write_json_atomic, write_text_atomic

    check_config(cfg, "attack")
    source = read_source(cfg.source)
    if cfg.data.get("demo_seed") is not None:
        from safetuned.data.demo import ensure_demo_world

        ensure_demo_world(cfg.paths.demo_dir, seed=int(cfg.data.demo_seed))
    mixture, sources = attack_data(cfg, source)
    if is_rank_zero():  # the job's .hydra/config.yaml says what it ran: the source's groups included
        job_cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
        write_text_atomic(job_dir / ".hydra" / "config.yaml", OmegaConf.to_yaml(job_cfg))
    if int(cfg.attack.n) == 0:
        return evaluate_source(cfg, job_dir, source, mixture, sources)
    metrics = train(cfg, job_dir, data=(mixture, sources), init_adapter=AdapterInit(source.adapter, cfg.attack.init))
    info = job_dir / "adapter" / INFO_FILE
    if cfg.attack.init == "fresh" and info.is_file():  # this adapter sits on the base merged with the source's
        write_json_atomic(info, {**read_json(info), "merged_adapter": str(source.adapter.resolve())})
    return metrics


def evaluate_source(cfg: DictConfig, job_dir: Path, source: Source, mixture, sources: dict) -> dict[str, float]:
    """n=0: the source adapter under the attack's eval config (safetuned.evaluate), with the attack's manifest."""
    from safetuned.eval.runner import EvalPlan
    from safetuned.evaluate import evaluate
    from safetuned.model.load import model_source
    from safetuned.runtime.fingerprint import fingerprint
    from safetuned.runtime.job import keep_run_config
    from safetuned.utils.io import write_json_atomic

    EvalPlan.from_config(cfg.eval)  # bad suites or scorers fail before anything is written
    write_json_atomic(job_dir / "manifest.json", {**mixture.manifest, "sources": sources, "model": model_source(cfg),
                                                  "fingerprint": fingerprint(cfg)})
    keep_run_config(job_dir)
    keys = ("task_name", "paths", "model", "prompt", "eval", "logger")
    eval_cfg = OmegaConf.masked_copy(cfg, [k for k in keys if k in cfg])
    with open_dict(eval_cfg):
        eval_cfg.seed = int(cfg.seed)
        eval_cfg.data = {"demo_seed": cfg.data.get("demo_seed")}
        eval_cfg.adapter = str(source.adapter)
    return evaluate(eval_cfg, job_dir)
