"""Capability with lm-eval: the in-memory model (base or LoRA-adapted) scored on local demo tasks or lm-eval's own.

The local tasks ship as YAML templates in `safetuned/eval/tasks/` over the demo world's files; `@DATA_DIR@` is filled
in at run time and the rendered YAMLs go to a temp include dir. lm-eval's built-in tasks (arc_easy, ...) are indexed
only when a requested task is not local, because indexing them costs ~20 s, and they need the Hugging Face hub the
first time (their datasets are then cached).
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from safetuned.errors import ConfigError, DataError
from safetuned.eval.demo_tasks import BUILDERS

log = logging.getLogger(__name__)

TASKS_DIR = Path(__file__).parent / "tasks"
DATA_DIR_MARK = "@DATA_DIR@"


# ---------------------------------------------------------------- task templates and names


class _TemplateLoader(yaml.SafeLoader):
    """Reads the templates without importing anything: `!function x.y` stays the string "x.y"."""


_TemplateLoader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))


@functools.cache
def local_tasks() -> dict[str, Path]:
    """The shipped local tasks: `{task name: template path}`."""
    out = {}
    for path in sorted(TASKS_DIR.glob("*.yaml")):
        cfg = yaml.load(path.read_text(encoding="utf-8"), Loader=_TemplateLoader)
        out[cfg["task"]] = path
    return out


def _task_list(tasks: Sequence[str] | str) -> list[str]:
    names = [tasks] if isinstance(tasks, str) else list(tasks or [])
    if not names or not all(isinstance(t, str) and t for t in names):
        raise ConfigError(f"eval.harness.tasks must be a non-empty list of task names, got {tasks!r}; "
                          f"local tasks: {sorted(local_tasks())}")
    return names


def _task_manager(paths: tuple[str, ...], include_defaults: bool):
    """A TaskManager over `paths`, and over lm-eval's own tasks when asked."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=list(paths) or None, include_defaults=include_defaults)


# Cached per process: indexing lm-eval's own tasks takes ~20 s, and the plan check and the run both need it.
_index = functools.cache(_task_manager)


def _unknown_task_error(unknown: list[str], include_defaults: bool) -> ConfigError:
    hint = ("not in lm-eval's task registry either" if include_defaults else
            "lm-eval's own tasks such as arc_easy need eval.harness.include_defaults=true and the Hugging Face hub")
    return ConfigError(f"eval.harness.tasks: unknown task(s) {unknown}; local tasks: {sorted(local_tasks())} "
                       f"({hint})")


def check_tasks(tasks: Sequence[str] | str, *, include_path: str | Path | None = None,
                include_defaults: bool = False) -> list[str]:
    """Check every task name exists (locally, under include_path, or in lm-eval's registry); return the names."""
    names = _task_list(tasks)
    unknown = [t for t in names if t not in local_tasks()]
    if unknown and include_path is not None:
        if not Path(include_path).is_dir():
            raise ConfigError(f"eval.harness.include_path={include_path} is not a folder")
        known = set(_index((str(Path(include_path).resolve()),), False).all_tasks)
        unknown = [t for t in unknown if t not in known]
    if unknown and include_defaults:
        known = set(_index((), True).all_tasks)
        unknown = [t for t in unknown if t not in known]
    if unknown:
        raise _unknown_task_error(unknown, include_defaults)
    return names


def render_local_tasks(names: Sequence[str], data_dir: str | Path | None, out_dir: str | Path) -> Path:
    """Write the named local templates into `out_dir` with the data paths filled in; check their data files."""
    out_dir = Path(out_dir)
    if not names:
        return out_dir
    if data_dir is None:
        raise ConfigError(f"eval.harness.data_dir is required for the local task(s) {list(names)} "
                          "(the demo world folder holding eval/benign_heldout.json)")
    data_dir = Path(data_dir).expanduser().resolve()
    # JSON string escaping is valid inside a YAML double-quoted scalar, so odd characters in the path are safe.
    quoted = json.dumps(data_dir.as_posix())[1:-1]
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        template = local_tasks()[name]
        text = template.read_text(encoding="utf-8").replace(DATA_DIR_MARK, quoted)
        cfg = yaml.load(text, Loader=_TemplateLoader)
        _check_task_data(name, cfg)
        (out_dir / template.name).write_text(text, encoding="utf-8")
    return out_dir


def _check_task_data(name: str, cfg: dict) -> None:
    """Read the task's data file and build its docs once: bad data fails here, before any model work."""
    for path in (cfg.get("dataset_kwargs") or {}).get("data_files", {}).values():
        path = Path(path)
        if not path.is_file():
            raise DataError(f"harness task {name}: data file {path} does not exist (is eval.harness.data_dir the "
                            "demo world folder?)")
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise DataError(f"harness task {name}: {path} is not valid JSON ({e})") from None
        builder = BUILDERS[str(cfg["process_docs"]).rpartition(".")[2]]
        builder(records, source=str(path))


# ---------------------------------------------------------------- evaluation


def make_lm(model, tokenizer, *, batch_size: int = 16, max_length: int | None = None):
    """lm-eval's HFLM around the in-memory model object (a PeftModel is scored with its adapter active).

    HFLM keeps the object as is (no reload, no copy of the weights) and takes its device from it. The tokenizer is
    a copy because HFLM may set a pad token on it.
    """
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=model, tokenizer=copy.deepcopy(tokenizer), backend="causal", batch_size=batch_size,
                max_length=max_length)


def _load_tasks(names: list[str], manager_for) -> list:
    """Build each task (this loads its dataset); a failure becomes one ConfigError naming the task."""
    objects = []
    for name in names:
        tm = manager_for(name)
        try:
            loaded = tm.load([name])
        except Exception as e:  # lm-eval/datasets/hub raise many types; all mean this task cannot run here
            msg = " ".join(str(e).split())[:300]
            hub = "" if name in local_tasks() else (
                "; lm-eval's own tasks download their data from the Hugging Face hub the first time (then it is "
                f"cached): run once online, or use the local tasks {sorted(local_tasks())}")
            raise ConfigError(f"harness task {name} could not be loaded: {type(e).__name__}: {msg}{hub}") from e
        if name in loaded["groups"]:
            objects.append(loaded["groups"][name])
        else:  # a task, or a tag that expands to several tasks
            objects.extend(loaded["tasks"].values())
    return objects


def flatten_results(results: dict) -> dict[str, float]:
    """`harness/<task>/<metric>` for lm-eval's "<metric>,<filter>" keys (`<filter>/<metric>` unless filter is none)."""
    out: dict[str, float] = {}
    for task, metrics in (results.get("results") or {}).items():
        for key, value in metrics.items():
            metric, sep, filt = key.partition(",")
            if not sep or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue  # "alias", and "N/A" stderrs
            name = metric if filt in ("none", "") else f"{filt}/{metric}"
            out[f"harness/{task}/{name}"] = float(value)
    return out


def _check_args(limit, batch_size, num_fewshot, max_length) -> None:
    if limit is not None and (isinstance(limit, bool) or not (
            (isinstance(limit, int) and limit >= 1) or (isinstance(limit, float) and 0 < limit <= 1))):
        raise ConfigError(f"eval.harness.limit={limit!r} is invalid; allowed: null, an int >= 1, or a fraction "
                          "in (0, 1]")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"eval.harness.batch_size={batch_size!r} is invalid; allowed: an int >= 1")
    if num_fewshot is not None and (not isinstance(num_fewshot, int) or num_fewshot < 0):
        raise ConfigError(f"eval.harness.num_fewshot={num_fewshot!r} is invalid; allowed: null or an int >= 0")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise ConfigError(f"eval.harness.max_length={max_length!r} is invalid; allowed: null or an int >= 1")


def run_harness(
    model,
    tokenizer,
    tasks: Sequence[str],
    *,
    data_dir: str | Path | None = None,
    include_path: str | Path | None = None,
    include_defaults: bool = False,
    limit: int | float | None = None,  # noqa: PYI041 (an int is a count, a float a fraction)
    batch_size: int = 16,
    num_fewshot: int | None = None,
    max_length: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Score the in-memory model on lm-eval tasks; returns `{"harness/<task>/<metric>": value}`.

    The caller's training mode and global RNG states are restored afterwards.
    """
    import torch
    from lm_eval import simple_evaluate

    names = check_tasks(tasks, include_path=include_path, include_defaults=include_defaults)
    _check_args(limit, batch_size, num_fewshot, max_length)
    local = [t for t in names if t in local_tasks()]
    user = (str(Path(include_path).resolve()),) if include_path is not None else ()
    was_training = model.training
    py_state, np_state = random.getstate(), np.random.get_state()
    with tempfile.TemporaryDirectory(prefix="safetuned-lmeval-") as tmp, torch.random.fork_rng():
        render_local_tasks(local, data_dir, tmp)
        local_tm = _task_manager((tmp, *user), False)  # not cached: the temp dir is new on every call

        def manager_for(name: str):
            return local_tm if name in local_tm.all_tasks else _index((), True)

        objects = _load_tasks(names, manager_for)
        try:
            lm = make_lm(model, tokenizer, batch_size=batch_size, max_length=max_length)  # HFLM calls model.eval()
            results = simple_evaluate(
                model=lm, tasks=objects, task_manager=local_tm, limit=limit, num_fewshot=num_fewshot,
                batch_size=batch_size, log_samples=False, random_seed=seed, numpy_random_seed=seed,
                torch_random_seed=seed, fewshot_random_seed=seed,
            )
        finally:
            model.train(was_training)
            random.setstate(py_state)
            np.random.set_state(np_state)
    n = {t: v.get("effective") for t, v in (results.get("n-samples") or {}).items()}
    log.info("lm-eval harness on %s (documents: %s)", names, n)
    return flatten_results(results)
