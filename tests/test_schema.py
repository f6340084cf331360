"""The config schema: every key a user sets is typed and range-checked, all errors come at once, one line each,
before any data, weights or job-folder content; misleading messages name the real cause."""

from __future__ import annotations

import copy
import json
import typing
from pathlib import Path

import annotated_types as at
import pytest
from omegaconf import OmegaConf, open_dict
from pydantic import BaseModel

from safetuned.errors import ConfigError, ConfigErrors, DataError, ModelError
from safetuned.pipeline.check import check_config, config_errors
from safetuned.pipeline.schema import TrainConfig
from tests.conftest import TINY_OVERRIDES, compose_cfg
from tests.test_sweep import train_cmd

# Values a plain type cannot describe: (bad values) per key.
RULES = {
    "data.val_size": ["abc", -1, 1.5, True],
    "trainer.devices": ["two", 0, -2, True, []],
    "trainer.precision": ["17", "abc", 3.5],
    "trainer.deterministic": ["sometimes", 1],
    "model.attn_implementation": ["spda", 5],
    "model.lora_target_modules": ["", [], [""], 5],
    "lora.target_modules": ["", [], [""], 5],
}


def _parts(annotation) -> tuple[set, dict]:
    """The plain types and annotated_types bounds inside a (possibly Optional/Annotated) annotation."""
    kinds, bounds = set(), {}
    stack = [annotation]
    while stack:
        a = stack.pop()
        origin = typing.get_origin(a)
        if origin is typing.Annotated:
            args = typing.get_args(a)
            stack.append(args[0])
            for meta in args[1:]:
                for m in getattr(meta, "metadata", [meta]):
                    for name in ("ge", "gt", "le", "lt", "min_length"):
                        if hasattr(m, name) and isinstance(m, (at.Ge, at.Gt, at.Le, at.Lt, at.MinLen)):
                            bounds[name] = getattr(m, name)
        elif origin is typing.Literal:
            kinds.add(("literal", typing.get_args(a)))
        elif origin in (typing.Union, __import__("types").UnionType):
            stack += [x for x in typing.get_args(a) if x is not type(None)]
        elif origin is list:
            kinds.add(list)
        else:
            kinds.add(a)
    return kinds, bounds


def bad_values(key: str, field) -> list:
    """Wrong type, out of range and empty values for a schema field."""
    if key in RULES:
        return RULES[key]
    kinds, bounds = _parts(field.annotation)
    out: list = []
    for kind in kinds:
        if isinstance(kind, tuple):
            out += ["nope", "", 3]
        elif kind is bool:
            out += ["maybe", 1, ""]
        elif kind is int:
            out += ["abc", 2.5, ""]
            out += [bounds["ge"] - 1] if "ge" in bounds else []
            out += [bounds["gt"]] if "gt" in bounds else []
        elif kind is float:
            out += ["abc", ""]
            out += [bounds["ge"] - 1] if "ge" in bounds else []
            out += [bounds["gt"]] if "gt" in bounds else []
            out += [bounds["lt"]] if "lt" in bounds else []
            out += [bounds["le"] + 1] if "le" in bounds else []
        elif kind is str:
            out += ["", 5]
        elif kind is list:
            out += [5, "text"]
    return out


def schema_keys(model: type[BaseModel], prefix: str = "") -> list[tuple[str, object]]:
    """(dotted key, field) for every leaf of the schema."""
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        nested = [a for a in _walk_types(field.annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            out += schema_keys(nested[0], key + ".")
        elif typing.get_origin(field.annotation) is not dict and not key.endswith((".logger", ".callbacks")):
            out.append((key, field))
    return out


def _walk_types(annotation) -> list:
    args = typing.get_args(annotation)
    return [annotation] if not args else [x for a in args for x in _walk_types(a)]


CASES = [(key, value) for key, field in schema_keys(TrainConfig) if key not in ("logger", "callbacks")
         for value in bad_values(key, field)]


@pytest.fixture(scope="module")
def base_cfg(tmp_path_factory, cache_dir):
    cfg = compose_cfg("train", TINY_OVERRIDES, tmp_path_factory.mktemp("schema") / "job", cache_dir)
    assert config_errors(cfg) == [], "the shipped default config must pass its own schema"
    return cfg


def test_the_generated_cases_cover_every_group():
    groups = {key.split(".")[0] for key, _ in CASES}
    assert groups >= {"data", "model", "lora", "optim", "trainer", "prompt", "eval", "seed", "val_every_n_steps",
                      "resume", "num_threads", "task_name"}
    assert len({key for key, _ in CASES}) >= 80 and len(CASES) >= 250


def test_every_bad_value_of_every_key_is_one_line_naming_the_key(base_cfg):
    """Each bad value (wrong type, out of range, empty) of each schema key: a one-line error naming it."""
    missed = []
    for key, value in CASES:
        cfg = copy.deepcopy(base_cfg)
        with open_dict(cfg):
            OmegaConf.update(cfg, key, value, force_add=True, merge=False)
        errors = config_errors(cfg)  # never raises: every problem becomes a line
        named = [e for e in errors if e.startswith((f"{key}=", f"{key}[", f"{key} ")) or f" {key}=" in e]
        if not named or any("\n" in e for e in errors):
            missed.append((key, value, errors))
    assert not missed, missed[:5]


def test_all_errors_at_once_each_naming_key_value_and_allowed(base_cfg):
    cfg = copy.deepcopy(base_cfg)
    bad = {"data.safety_n": "abc", "trainer.max_epochs": -1, "lora.lora_dropout": 1.0, "optim.optimizer.lr": 0,
           "eval.limit": -3, "data.micro_batch_size": "x", "prompt.name": "poem", "resume": "/nope/last.ckpt",
           "data.base.source": "/nope/base.json"}
    with open_dict(cfg):
        for k, v in bad.items():
            OmegaConf.update(cfg, k, v, merge=False)
    with pytest.raises(ConfigErrors) as exc:
        check_config(cfg)
    assert sorted(exc.value.errors) == sorted([
        "data.safety_n='abc': must be an integer",
        "data.micro_batch_size='x': must be an integer",
        ("trainer.max_epochs=-1 would train until killed: use an int >= 1, or set trainer.max_steps >= 1 to bound "
         "training by steps"),
        "lora.lora_dropout=1.0: must be < 1.0",
        "optim.optimizer.lr=0: must be > 0.0",
        "eval.limit=-3: must be >= 0",
        "data.base.source='/nope/base.json': no such file",
        "resume='/nope/last.ckpt': no such checkpoint file (allowed: auto, never or a .ckpt path)",
        "prompt.name='poem': not a known prompt style (allowed: alpaca, chat)",
    ])
    assert "\n" not in str(exc.value) and str(exc.value).startswith("9 config errors: ")


def test_max_epochs_minus_one_is_bounded_by_max_steps(base_cfg):
    from safetuned.pipeline.plan import step_plan

    cfg = copy.deepcopy(base_cfg)
    cfg.trainer.max_epochs = -1
    assert any(e.startswith("trainer.max_epochs=-1 would train until killed") for e in config_errors(cfg))
    cfg.trainer.max_steps = 7
    assert config_errors(cfg) == []
    interval, total = step_plan(cfg, train_examples=360, world_size=1, accumulate=1)
    assert total == 7 and 1 <= interval <= 7  # Lightning stops at max_steps; the schedule is planned for 7
    cfg.trainer.max_epochs, cfg.trainer.max_steps = 0, -1
    assert config_errors(cfg) == ["trainer.max_epochs=0 must be >= 1 (or -1 with trainer.max_steps)"]


def test_unknown_keys_typos_and_reserved_trainer_arguments(base_cfg):
    cfg = copy.deepcopy(base_cfg)
    with open_dict(cfg):
        cfg.data.safty_n = 5
        cfg.trainer.max_epoch = 3
        cfg.trainer.accumulate_grad_batches = 4
        cfg.optim.optimizer.lr_decay = 0.1
    errors = config_errors(cfg)
    assert errors[0].startswith("data.safty_n=5: unknown key (did you mean safety_n?); known keys here: base,")
    assert "trainer.max_epoch=3: not an argument of lightning.Trainer (did you mean max_epochs?)" in errors
    assert "trainer.accumulate_grad_batches: set by the job, not here; use data.batch_size" in errors
    assert "optim.optimizer.lr_decay=0.1: not an argument of torch.optim.AdamW (did you mean weight_decay?)" in errors
    assert len(errors) == 4


def test_values_left_unset_are_named_once(tmp_path, cache_dir):
    cfg = compose_cfg("train", ["experiment=paper"], tmp_path / "job", cache_dir)
    assert config_errors(cfg) == [
        "data.dir is not set (its preset says ???): give it on the command line, data.dir=...",
        "eval.paper_dir is not set (its preset says ???): give it on the command line, eval.paper_dir=...",
    ]


def test_every_shipped_option_passes_the_schema(tmp_path, cache_dir):
    from tests.test_config import REQUIRED, group_options

    for group, option in group_options():
        if group.startswith("hydra"):
            continue
        overrides = [f"{group}={option}", *REQUIRED.get(f"{group}/{option}", [])]
        cfg = compose_cfg("train", overrides, tmp_path / "job", cache_dir)
        errors = [e for e in config_errors(cfg) if not e.endswith(("no such file", "no such folder"))]
        assert errors == [], (group, option, errors)
    cfg = compose_cfg("evaluate", [], tmp_path / "job", cache_dir)
    assert config_errors(cfg, "evaluate") == []


def test_plan_checks_the_schema_before_anything_else(base_cfg, tmp_path, monkeypatch):
    from safetuned.pipeline import plan

    cfg = copy.deepcopy(base_cfg)
    cfg.data.safety_n = "abc"
    monkeypatch.setattr("safetuned.data.demo.ensure_demo_world", lambda *a, **k: pytest.fail("ran after the check"))
    with pytest.raises(ConfigError, match=r"^data.safety_n='abc': must be an integer$"):
        plan.plan_job(cfg, tmp_path / "job")
    assert not (tmp_path / "job").exists()


def test_prompt_chat_on_the_embedded_model_fails_in_the_plan(base_cfg):
    from safetuned.pipeline.plan import check_prompt_style

    cfg = copy.deepcopy(base_cfg)
    cfg.prompt.name = "chat"
    with pytest.raises(ConfigError, match="prompt.name=chat.*no chat template"):
        check_prompt_style(cfg)


# ---------------------------------------------------------------- messages that name the real cause


def test_local_model_folder_with_empty_config_is_not_called_unreachable(tmp_path):
    from safetuned.model.load import load_model_config

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(ModelError) as exc:
        load_model_config(str(folder))
    assert str(exc.value) == (f"model.pretrained={str(folder)!r}: {folder}/config.json holds {{}}, not a model config "
                              "(no model_type, no architecture); save the model with save_pretrained()")
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"config.json is not valid JSON \(Expecting property name"):
        load_model_config(str(folder))
    (folder / "config.json").write_text(json.dumps({"hidden_size": 8}))
    with pytest.raises(ModelError, match="cannot read its config .*model_type") as exc:
        load_model_config(str(folder))
    assert "unreachable" not in str(exc.value)


def test_empty_base_file_is_named_as_empty_not_as_a_range_error(base_cfg, tmp_path):
    from safetuned.pipeline.plan import load_data

    empty = tmp_path / "base.json"
    empty.write_text("[]")
    cfg = copy.deepcopy(base_cfg)
    cfg.data.base.source = str(empty)
    cfg.data.base.n = 20000
    with pytest.raises(DataError) as exc:
        load_data(cfg)
    assert str(exc.value) == (f"data.base.source={str(empty)!r}: the file holds no records (an empty list); give a "
                              "file of {instruction, input, output} records")


# ---------------------------------------------------------------- end to end: exit 2, one line each, nothing written


def test_cli_reports_every_error_in_one_line_each_and_writes_nothing(tmp_path, cache_dir):
    job = tmp_path / "job"
    r = train_cmd("experiment=smoke", "data.safety_n=abc", "trainer.max_epochs=-1", "prompt.name=poem",
                  "resume=/nope/last.ckpt", f"hydra.run.dir={job}", cwd=tmp_path, cache=cache_dir)
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.splitlines() == [
        "error: data.safety_n='abc': must be an integer",
        ("error: trainer.max_epochs=-1 would train until killed: use an int >= 1, or set trainer.max_steps >= 1 to "
         "bound training by steps"),
        "error: resume='/nope/last.ckpt': no such checkpoint file (allowed: auto, never or a .ckpt path)",
        "error: prompt.name='poem': not a known prompt style (allowed: alpaca, chat)",
    ]
    # the default logger is W&B: no run was created, no manifest, no checkpoint; only Hydra's files, logs, status
    assert sorted(p.name for p in job.iterdir()) == [".hydra", "error.log", "job.lock", "status.json", "train.log"]
    status = json.loads((job / "status.json").read_text())
    assert status["status"] == "failed" and status["error"].startswith("ConfigError: 4 config errors: data.safety_n=")
    assert (job / "job.lock").read_text() == ""  # released


def test_cli_one_bad_value_is_one_line(tmp_path, cache_dir):
    r = train_cmd("experiment=smoke", "logger=csv", "data.micro_batch_size=x", f"hydra.run.dir={tmp_path / 'j'}",
                  cwd=tmp_path, cache=cache_dir)
    assert r.returncode == 2 and r.stderr == "error: data.micro_batch_size='x': must be an integer\n"
    assert not Path(tmp_path / "j" / "manifest.json").exists()
