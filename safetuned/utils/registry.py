"""Name -> class registries filled by the modules of a package (a new scorer or judge is one file there), with
configs checked against each class's signature: the one registry mechanism of scorers and pairwise judges."""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
from collections.abc import Mapping
from typing import Any

from safetuned.errors import ConfigError


class Registry:
    """Classes by their `name`, from the modules of `package` (imported on first lookup, except `skip`)."""

    def __init__(self, kind: str, package: str, skip: tuple[str, ...] = ()) -> None:
        self.kind, self.package, self.skip = kind, package, skip
        self.classes: dict[str, type] = {}
        self._loaded = False

    def register(self, cls: type) -> type:
        if not getattr(cls, "name", ""):
            raise TypeError(f"{cls.__name__} has no {self.kind} name")
        self.classes[cls.name] = cls
        return cls

    def _load(self) -> None:
        if not self._loaded:
            pkg = importlib.import_module(self.package)
            for mod in pkgutil.iter_modules(pkg.__path__):
                if mod.name not in self.skip:
                    importlib.import_module(f"{self.package}.{mod.name}")
            self._loaded = True

    def names(self) -> list[str]:
        self._load()
        return sorted(self.classes)

    def get(self, name: Any, where: str, base: type | None = None) -> type:
        """The class registered as `name`, or imported from `module:Class` (a subclass of `base`)."""
        if isinstance(name, str) and ":" in name:
            mod, _, attr = name.partition(":")
            try:
                cls = getattr(importlib.import_module(mod), attr)
            except (ImportError, AttributeError) as e:
                raise ConfigError(f"{where}: cannot import {self.kind} {name!r} ({type(e).__name__}: {e})") from None
            if base is not None and not (inspect.isclass(cls) and issubclass(cls, base)):
                raise ConfigError(f"{where}: {name!r} is not a safetuned {base.__name__} subclass")
            return cls
        self._load()
        if not isinstance(name, str) or name not in self.classes:
            close = difflib.get_close_matches(str(name), self.classes, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown {self.kind} {name!r}{hint}; known: {', '.join(self.names())}")
        return self.classes[name]


def build(cls: type, options: Mapping[str, Any], where: str, kind: str) -> Any:
    """`cls(**options)`, a misspelt option being one line naming the allowed ones."""
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    allowed = {k for k, p in params.items() if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    unknown = sorted(set(options) - allowed)
    if unknown and not takes_any:
        raise ConfigError(f"{where}: unknown option(s) {unknown} for {kind} {cls.name!r}; allowed: {sorted(allowed)}")
    try:
        return cls(**options)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None
