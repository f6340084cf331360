"""Finding a judge model: a local folder or a hub id, its config read before any weights, one line when offline."""

from __future__ import annotations

from pathlib import Path


def looks_local(name: str) -> bool:
    """A path rather than a hub id `owner/name` (hub ids have at most one slash and no path prefix)."""
    return name.startswith(("/", "./", "../", "~", ".\\")) or name.count("/") > 1 or "\\" in name


def judge_source(name: str) -> str:
    """The string to hand to `from_pretrained`: the expanded local folder when it exists, else the hub id."""
    path = Path(name).expanduser()
    return str(path) if path.exists() else name


def local_fingerprint(name: str) -> str:
    """For a local model folder, a short hash of its files' names, sizes and modification times (a judge rebuilt or
    replaced at the same path gets new cache keys, so no stale verdict is served); "" for a hub id, whose revision
    names its version."""
    import hashlib

    path = Path(name).expanduser()
    if not path.is_dir():
        return ""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(path)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return "#" + h.hexdigest()[:12]


def load_judge_config(name: str, key: str, *, architectures: tuple[str, ...], example: str,
                      revision: str | None = None):
    """The model's `AutoConfig`, checked to have an architecture ending in one of `architectures`.

    Raises a one-line ModelError naming `key` when the folder is missing, the hub id cannot be read offline (with
    the command that pre-downloads it), or the model has the wrong head.
    """
    from transformers import AutoConfig

    from safetuned.errors import ModelError, first_line

    if not isinstance(name, str) or not name.strip():
        raise ModelError(f"{key}: expected a hub id or a local folder, got {name!r}")
    path = Path(name).expanduser()
    if not path.exists() and looks_local(name):
        raise ModelError(f"{key}: folder {name!r} does not exist")
    try:
        config = AutoConfig.from_pretrained(judge_source(name), revision=revision)
    except (OSError, ValueError) as e:
        if path.exists():
            raise ModelError(f"{key}: {name!r} has no readable config.json ({first_line(e)})") from None
        raise ModelError(
            f"{key}: cannot load {name!r} from the Hugging Face hub or its cache (offline or unknown id); "
            f"download it where there is internet (`hf download {name} --local-dir DIR`) and set {key}=DIR"
        ) from None
    archs = list(getattr(config, "architectures", None) or [])
    if not any(a.endswith(architectures) for a in archs):
        raise ModelError(f"{key}: {name!r} is {archs or 'an unknown architecture'} ({config.model_type}), not a "
                         f"{' or '.join('*' + a for a in architectures)} model such as {example}")
    return config
