"""A persistent store of scorer verdicts in sqlite, keyed by (judge, model revision, prompt, response, context)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from safetuned.errors import ConfigError


class ScoreCache:
    """Verdict dicts by key; each write is one transaction, safe across threads and processes (a sweep's jobs
    share one file). Delete the file to judge again."""

    def __init__(self, path: str | Path, key_name: str = "eval.score_cache"):
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            with self._db:
                self._db.execute("CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, judge TEXT, "
                                 "revision TEXT, verdict TEXT, created REAL)")
        except sqlite3.DatabaseError as e:
            raise ConfigError(f"{key_name}: {self.path} is not a usable sqlite file ({e})") from None

    @staticmethod
    def key(judge: str, revision: str, item: Iterable[Any]) -> str:
        """sha256 of the judge, its revision and the item's fields."""
        blob = json.dumps([judge, revision, *item], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for k, v in self._db.execute(f"SELECT key, verdict FROM scores WHERE key IN ({marks})", chunk):
                    out[k] = json.loads(v)
        return out

    def put_many(self, verdicts: Mapping[str, dict], judge: str = "", revision: str = "") -> None:
        now = time.time()
        rows = [(k, judge, revision, json.dumps(v, ensure_ascii=False), now) for k, v in verdicts.items()]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
