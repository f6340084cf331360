"""Build a cached folder once: under a file lock, atomically, and again only when its check fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from safetuned.utils.io import atomic_dir


def build_once(path: str | Path, build: Callable[[Path], object], complete: Callable[[Path], bool]) -> Path:
    """Return `path` once `complete(path)` holds; if not, `build(tmp)` fills a temp folder that replaces it.

    `complete` is the version/fingerprint check: an incomplete or stale folder is rebuilt in full. Racing
    processes wait on `<path>.lock` and find the winner's folder; a failed build leaves `path` as it was.
    """
    from filelock import FileLock

    path = Path(path)
    if complete(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if not complete(path):  # another process may have built it while this one waited
            with atomic_dir(path) as tmp:
                build(tmp)
    return path
