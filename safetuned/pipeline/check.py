"""Check a composed config against its schema (safetuned.pipeline.schema) before any heavy work: all errors at once.

Each error is one line naming the key, the value and what is allowed. `check_config` runs in `plan_job` (and can
run in any entry point): it reads no weights, only checks that the files a key names exist.
"""

from __future__ import annotations

import difflib
import inspect
import json
import typing
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import InterpolationToMissingValueError, OmegaConfBaseException
from pydantic import BaseModel, ValidationError

from safetuned.errors import ConfigErrors
from safetuned.pipeline.schema import META_KEYS, MISSING, RESERVED_TRAINER_KEYS, SCHEMAS

DATA_FILE_KEYS = ("data.base.source", "data.premixed", "data.safety.instructions", "data.safety.questions")


def show(value: Any) -> str:
    """A value as a user would type it: null, true, 3, 'text', [a, b]."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)


def to_plain(node: Any, prefix: str, errors: list[str], missing: list[str]) -> Any:
    """Resolve `node` into plain containers key by key, so one bad interpolation does not hide the rest."""
    if isinstance(node, DictConfig):
        out: dict[str, Any] = {}
        for k in node:
            key = f"{prefix}.{k}" if prefix else str(k)
            child = node._get_node(k)
            if child is not None and child._is_missing():
                missing.append(key)
                out[str(k)] = MISSING
                continue
            try:
                value = node[k]
            except InterpolationToMissingValueError:
                out[str(k)] = MISSING  # the key it points to is reported as not set
                continue
            except OmegaConfBaseException as e:
                raw = child._value() if child is not None else None
                errors.append(f"{key}={show(raw)}: cannot be resolved ({str(e).splitlines()[0]})")
                out[str(k)] = MISSING
                continue
            out[str(k)] = to_plain(value, key, errors, missing)
        return out
    if isinstance(node, ListConfig):
        return [to_plain(node[i], f"{prefix}[{i}]", errors, missing) for i in range(len(node))]
    return node


def _key(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _at(data: Any, loc: tuple) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The schema model that describes the node at `loc` (to list the keys it knows)."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part)) or next(
                (f for f in current.model_fields.values() if f.alias == part), None)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
        while typing.get_origin(current) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            current = next((a for a in typing.get_args(current) if a is not type(None)), None)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _suggest(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


_MESSAGES = {
    "int_type": "must be an integer", "float_type": "must be a number", "bool_type": "must be true or false",
    "string_type": "must be a string", "list_type": "must be a list", "dict_type": "must be a mapping",
    "model_type": "must be a mapping", "string_too_short": "must not be empty", "too_short": "must not be empty",
    "greater_than_equal": "must be >= {ge}", "greater_than": "must be > {gt}", "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}", "literal_error": "must be one of {expected}",
    "too_long": "must have at most {max_length} items",
}


def _message(err: dict) -> str:
    """Pydantic's error in the words of this project: what is allowed."""
    template = _MESSAGES.get(err["type"])
    if template is None:
        msg = err["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
        return msg[:1].lower() + msg[1:]
    ctx = {k: str(v).replace("'", "") if k == "expected" else v for k, v in (err.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except KeyError:
        return template


def schema_errors(data: dict, kind: str) -> list[str]:
    """Pydantic's findings as one line each."""
    schema = SCHEMAS[kind]
    try:
        schema.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            loc, value = err["loc"], err["input"]
            key = _key(loc)
            msg = _message(err)
            if value == MISSING or (err["type"] == "missing" and _at(data, loc) == MISSING):
                continue  # reported as not set
            if err["type"] == "extra_forbidden":
                parent = _model_at(schema, loc[:-1])
                known = sorted(f.alias or n for n, f in parent.model_fields.items()) if parent else []
                lines.append(f"{key}={show(value)}: unknown key{_suggest(str(loc[-1]), known)}; known keys here: "
                             f"{', '.join(known)}")
            elif err["type"] == "missing":
                lines.append(f"{key} is missing: the config must set it")
            elif isinstance(value, dict) and err["type"] == "value_error":
                lines.append(msg)  # a rule across keys: the message names them
            else:
                lines.append(f"{key}={show(value)}: {msg}")
        return lines
    return []


def target_errors(node: Any, prefix: str = "") -> list[str]:
    """Every `_target_` imports and takes the arguments given to it (torchtune's bind-to-signature check)."""
    errors: list[str] = []
    if isinstance(node, list):
        for i, v in enumerate(node):
            errors += target_errors(v, f"{prefix}[{i}]")
        return errors
    if not isinstance(node, dict):
        return errors
    target = node.get("_target_")
    if isinstance(target, str) and target:
        from hydra._internal.utils import _locate

        try:
            fn = _locate(target)
        except Exception as e:  # noqa: BLE001 - any import failure is the config's to fix
            errors.append(f"{prefix}._target_={target!r}: cannot be imported ({str(e).splitlines()[0][:120]})")
            fn = None
        if prefix == "trainer":
            errors += [f"trainer.{k}: set by the job, not here; use {where}"
                       for k, where in RESERVED_TRAINER_KEYS.items() if k in node]
        if fn is not None:
            try:
                params = inspect.signature(fn).parameters
            except (TypeError, ValueError):
                params = {}
            if params and not any(p.kind == p.VAR_KEYWORD for p in params.values()):
                for k in node:
                    if k not in META_KEYS and k not in params and not (prefix == "trainer" and k in
                                                                        RESERVED_TRAINER_KEYS):
                        errors.append(f"{prefix}.{k}={show(node[k])}: not an argument of {target}"
                                      f"{_suggest(k, list(params))}")
    for k, v in node.items():
        if k not in META_KEYS:
            errors += target_errors(v, f"{prefix}.{k}" if prefix else k)
    return errors


def _looks_local(value: str) -> bool:
    return (not value.startswith(("http://", "https://"))
            and (value.startswith(("/", ".", "~")) or Path(value).suffix in (".json", ".jsonl", ".csv", ".parquet")))


def file_errors(data: dict, kind: str) -> list[str]:
    """Files and folders a key names that do not exist (those under the cache are built by the job itself)."""
    cache_dir = (data.get("paths") or {}).get("cache_dir")
    cache = Path(cache_dir).expanduser() if isinstance(cache_dir, str) and cache_dir not in ("", MISSING) else None
    keys = list(DATA_FILE_KEYS) if kind == "train" else []
    keys += [f"eval.suites.{name}.path" for name in ((data.get("eval") or {}).get("suites") or {})]
    errors = []
    for key in keys:
        value = _at(data, tuple(key.split(".")))
        if isinstance(value, str) and value not in ("", MISSING) and _looks_local(value):
            path = Path(value).expanduser()
            if not (cache and path.is_relative_to(cache)) and not path.is_file():
                errors.append(f"{key}={value!r}: no such file")
    pretrained = _at(data, ("model", "pretrained"))
    if isinstance(pretrained, str) and pretrained.startswith(("/", ".", "~")) and not Path(pretrained).expanduser(
    ).exists():
        errors.append(f"model.pretrained={pretrained!r}: no such folder")
    resume = data.get("resume")
    if kind == "train" and isinstance(resume, str) and resume not in ("auto", "never", "", MISSING) and not Path(
            resume).expanduser().is_file():
        errors.append(f"resume={resume!r}: no such checkpoint file (allowed: auto, never or a .ckpt path)")
    adapter = data.get("adapter")
    if kind == "evaluate" and isinstance(adapter, str) and adapter and not Path(adapter).expanduser().exists():
        errors.append(f"adapter={adapter!r}: no such folder")
    return errors


def choice_errors(data: dict) -> list[str]:
    """Names that must be in a registry: the prompt style."""
    from safetuned.data.prompts import known_styles

    name = (data.get("prompt") or {}).get("name")
    if isinstance(name, str) and name and name != MISSING and name not in known_styles():
        return [f"prompt.name={name!r}: not a known prompt style (allowed: {', '.join(known_styles())})"]
    return []


def config_errors(cfg: DictConfig, kind: str = "train") -> list[str]:
    """Every problem of a composed `train` or `evaluate` config, one line each (empty when it is fine)."""
    errors: list[str] = []
    missing: list[str] = []
    job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]) if "hydra" in cfg else cfg
    data = to_plain(job, "", errors, missing)
    errors += [f"{k} is not set (its preset says ???): give it on the command line, {k}=..." for k in missing]
    errors += schema_errors(data, kind)
    errors += target_errors({k: v for k, v in data.items() if k in ("trainer", "lora", "optim", "callbacks",
                                                                      "logger")})
    errors += file_errors(data, kind)
    errors += choice_errors(data)
    return list(dict.fromkeys(errors))


def check_config(cfg: DictConfig, kind: str = "train") -> None:
    """Raise ConfigErrors listing every problem of the config at once."""
    errors = config_errors(cfg, kind)
    if errors:
        raise ConfigErrors(errors)
