"""The cached demo world: built once per root and seed, safe when sweep jobs race for it."""

from __future__ import annotations

import json
from pathlib import Path

from safetuned.data.demo.world import VERSION, DemoWorld, write_world
from safetuned.utils.build_once import build_once


def _complete(world: DemoWorld, seed: int) -> bool:
    """Every file present, written by this generator version for this seed."""
    try:
        meta = json.loads(world.world_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (meta.get("version") == VERSION and meta.get("seed") == seed
            and all(p.is_file() for p in world.files()))


def ensure_demo_world(root: str | Path, seed: int = 0) -> DemoWorld:
    """Build the demo world at `root` once (atomically, safe when processes race) and return its paths."""
    world = DemoWorld.at(root)
    build_once(world.root, lambda tmp: write_world(tmp, seed), lambda _: _complete(world, seed))
    return world
