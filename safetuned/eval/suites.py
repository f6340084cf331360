"""Evaluation suites: the prompts of a benchmark's released file (or hub dataset), read by a registered suite format.

A suite spec is `{path, kind, format?, limit?, split?, subset?}` plus its format's options (`label`, `functional`,
`prompt_style`); `format` is detected from the file's columns when absent (see `safetuned.eval.suite_formats`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from safetuned.errors import ConfigError, DataError
from safetuned.eval.suite_formats import SPEC_KEYS, is_hub_id, read_hub_dataset, read_suite_file

__all__ = ["KINDS", "SPEC_KEYS", "Suite", "load_suite", "load_suites"]

KINDS = ("harmful", "safe", "capability")
_PER_ITEM = ("types", "categories", "contexts", "targets")


@dataclass
class Suite:
    """One evaluation suite: its prompts, what the benchmark says about each, and what kind of prompts they are.

    Per item: `inputs` (shown to the model with the prompt), `references` (gold answers), `types` (the benchmark's
    prompt type), `categories` (its harm category), `contexts` (HarmBench's context string, for its classifier) and
    `targets` (the affirmative opening a jailbreak aims for, JBB/AdvBench); None where the benchmark has none.
    """

    name: str
    kind: str
    prompts: list[str]
    inputs: list[str]
    references: list[str | None]
    ids: list[str]
    path: str
    types: list[str | None] = field(default_factory=list)
    categories: list[str | None] = field(default_factory=list)
    contexts: list[str | None] = field(default_factory=list)
    targets: list[str | None] = field(default_factory=list)
    format: str | None = None

    def __post_init__(self) -> None:
        for name in _PER_ITEM:
            if not getattr(self, name):
                setattr(self, name, [None] * len(self.prompts))

    def __len__(self) -> int:
        return len(self.prompts)


def load_suite(name: str, path: str | Path, kind: str, label: str | None = None, limit: int | None = None, *,
               format: str | None = None, split: str | None = None, subset: str | None = None,
               **options) -> Suite:
    """Read and check one suite (nothing is generated): the first `limit` prompts, or all."""
    if kind not in KINDS:
        raise ConfigError(f"eval.suites.{name}.kind={kind!r} is not one of {', '.join(KINDS)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"eval.suites.{name}.limit={limit!r} must be a positive integer or null")
    for key, value in (("format", format), ("split", split), ("subset", subset)):
        if value is not None and not (isinstance(value, str) and value):
            raise ConfigError(f"eval.suites.{name}.{key}={value!r} must be a non-empty string or null")
    if label is not None:
        options["label"] = label
    source = str(path)
    if is_hub_id(source):
        fmt, items = read_hub_dataset(source, name, subset=subset, split=split, format=format, options=options)
    else:
        if split or subset:
            raise ConfigError(f"eval.suites.{name}: split and subset are for hub dataset ids; {source} is a local path")
        fmt, items = read_suite_file(source, name, format=format, options=options)
    if not items:
        raise DataError(f"eval suite '{name}': {source} has no prompts")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise DataError(f"eval suite '{name}': {source} has the id {item.id!r} twice (ids must be unique)")
        seen.add(item.id)
    items = items[:limit]
    return Suite(
        name=name, kind=kind, prompts=[x.prompt for x in items], inputs=[x.input for x in items],
        references=[x.reference for x in items], ids=[f"{name}:{x.id}" for x in items], path=source,
        types=[x.type for x in items], categories=[x.category for x in items], contexts=[x.context for x in items],
        targets=[x.target for x in items], format=fmt.name,
    )


def load_suites(spec: Mapping[str, Mapping]) -> list[Suite]:
    """Load every suite of a config's `suites:` mapping `{name: {path, kind, ...}}`, failing on the first bad one."""
    suites = []
    for name, s in (spec or {}).items():
        if not isinstance(s, Mapping):
            raise ConfigError(f"eval.suites.{name} must be a mapping with path and kind")
        for key in ("path", "kind"):
            if not s.get(key):
                raise ConfigError(f"eval.suites.{name}.{key} is not set")
        s = dict(s)
        if "name" in s:
            raise ConfigError(f"eval.suites.{name} has unknown key(s) ['name'] (the suite's name is its key)")
        suites.append(load_suite(str(name), s.pop("path"), s.pop("kind"), **s))
    return suites
