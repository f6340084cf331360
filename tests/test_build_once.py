"""build_once: one build under racing processes, atomic results, rebuilds only when the check fails."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from safetuned.model import tiny
from safetuned.utils.build_once import build_once

_BARRIER = None  # set before the pool forks, so every worker starts building at the same moment


def _complete(path: Path) -> bool:
    return (path / "done.txt").is_file()


def _slow_build(tmp: Path, log: Path) -> None:
    with open(log, "a") as f:  # one line per build that actually ran
        f.write(f"{tmp.name}\n")
    (tmp / "part.txt").write_text("half")
    time.sleep(0.3)  # long enough that unlocked builders would overlap
    (tmp / "done.txt").write_text("ok")


def _race(args: tuple[str, str]) -> str:
    root, log = args
    _BARRIER.wait()
    return str(build_once(root, lambda tmp: _slow_build(tmp, Path(log)), _complete))


def test_racing_processes_build_once(tmp_path):
    global _BARRIER
    ctx = multiprocessing.get_context("fork")
    _BARRIER = ctx.Barrier(3)
    root, log = tmp_path / "cache", tmp_path / "builds.log"
    with ctx.Pool(3) as pool:
        paths = pool.map(_race, [(str(root), str(log))] * 3)
    assert paths == [str(root)] * 3
    assert len(log.read_text().splitlines()) == 1
    assert (root / "done.txt").read_text() == "ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["builds.log", "cache", "cache.lock"]


def test_complete_folder_is_reused(tmp_path):
    calls = []

    def build(tmp: Path) -> None:
        calls.append(tmp)
        (tmp / "done.txt").write_text("ok")

    first = build_once(tmp_path / "c", build, _complete)
    stamp = (first / "done.txt").stat().st_mtime_ns
    assert build_once(tmp_path / "c", build, _complete) == first
    assert len(calls) == 1 and (first / "done.txt").stat().st_mtime_ns == stamp


def test_stale_folder_is_replaced_in_full(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "old.txt").write_text("from an older version")
    build_once(root, lambda tmp: (tmp / "done.txt").write_text("new"), _complete)
    assert sorted(p.name for p in root.iterdir()) == ["done.txt"]


def _failing_build(tmp: Path) -> None:
    (tmp / "part.txt").write_text("half")
    raise RuntimeError("build broke")


def test_failed_build_leaves_no_half_folder(tmp_path):
    with pytest.raises(RuntimeError, match="build broke"):
        build_once(tmp_path / "c", _failing_build, _complete)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.lock"]  # no folder, no temp sibling


def test_failed_rebuild_keeps_the_old_folder(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "old.txt").write_text("stale but whole")
    with pytest.raises(RuntimeError):
        build_once(root, _failing_build, _complete)
    assert sorted(p.name for p in root.iterdir()) == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "c.lock"]


def test_tiny_base_cache_is_built_once_at_its_key(tmp_path, monkeypatch):
    calls = []

    def fake_pretrain(world_dir, out_dir, **kwargs):
        calls.append(kwargs)
        (Path(out_dir) / "config.json").write_text("{}")

    monkeypatch.setattr(tiny, "pretrain_tiny_base", fake_pretrain)
    out = tmp_path / "models" / "tiny-llama-abc"
    assert tiny.ensure_tiny_base(tmp_path / "world", out, steps=3) == out
    assert tiny.ensure_tiny_base(tmp_path / "world", out, steps=3) == out
    assert calls == [{"steps": 3}] and (out / "config.json").is_file()
    assert (tmp_path / "models" / "tiny-llama-abc.lock").exists()  # the lock name existing caches share
