"""One writer per job: a lock file in the job folder, held for the job's lifetime, naming its host and pid.

The lock is an `fcntl.flock` on `<job>/job.lock`: the kernel drops it when the holder dies (even on SIGKILL), so a
lock is never stale in itself. The file's text names the last holder and is emptied on a clean release; a name
left in a free lock therefore means its process died, and the next run says it took the job over.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from safetuned.errors import JobLockedError

log = logging.getLogger(__name__)

LOCK_FILE = "job.lock"
_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
_UNSUPPORTED = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)


@dataclass(frozen=True)
class Holder:
    """The process named in a lock file."""

    pid: int
    host: str
    since: str

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host} (since {self.since})"


def read_holder(job_dir: str | Path) -> Holder | None:
    """The process named in the job's lock file; None when there is none (no file, or released cleanly)."""
    try:
        data = json.loads((Path(job_dir) / LOCK_FILE).read_text() or "null")
        return Holder(int(data["pid"]), str(data["host"]), str(data.get("since", "?")))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def lock_is_held(job_dir: str | Path) -> bool | None:
    """True when a live process holds the job's lock, False when it is free, None when there is no lock file."""
    try:
        fd = os.open(Path(job_dir) / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in _BUSY:
            return True
        return None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


class JobLock:
    """Exclusive lock on a job folder for one run: acquire() at the start, release() at the end."""

    def __init__(self, job_dir: str | Path, tries: int = 5) -> None:
        self.job_dir = Path(job_dir)
        self.path = self.job_dir / LOCK_FILE
        self.tries = tries
        self.taken_over: Holder | None = None  # a holder that died without releasing (SIGKILL, node failure)
        self._fd: int | None = None

    def acquire(self) -> JobLock:
        """Take the lock or raise JobLockedError naming the live holder."""
        self.job_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        for attempt in range(self.tries):  # a reader's brief shared lock (sweep status) is not a holder
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno in _UNSUPPORTED:
                    log.warning("%s: this filesystem has no file locks; two runs of this job would not be stopped",
                                self.path)
                    os.close(fd)
                    return self
                if e.errno not in _BUSY:
                    os.close(fd)
                    raise
                if attempt == self.tries - 1:
                    os.close(fd)
                    holder = read_holder(self.job_dir)
                    raise JobLockedError(
                        f"job {self.job_dir} is already being run by {holder or 'another process'}; wait for it to "
                        f"end or stop it (the lock is {self.path})") from None
                time.sleep(0.1)
        self.taken_over = read_holder(self.job_dir)
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": dt.datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd = fd
        if self.taken_over is not None:
            log.warning("job %s: took over the lock left by %s, which is gone", self.job_dir, self.taken_over)
        return self

    def release(self) -> None:
        """Empty the lock file (a clean end) and let go of it."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None
