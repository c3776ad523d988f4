"""One run per scope at a time: an ``fcntl.flock`` on a per-scope lock file, held by the crawl process itself.

The kernel releases a flock when the process that holds it dies, however it dies (SIGKILL, OOM, power loss on
the next boot), so a crashed run never leaves the lock stuck and nothing has to guess whether a pid is stale.
The scheduler and a manual ``pushcrawl crawl`` both go through this lock, so they cannot overlap either.
The file keeps the holder's pid and start time for the message the loser prints.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

from crawler.errors import PushcrawlError

#: exit status of a crawl refused because another run of the site holds the lock (EX_TEMPFAIL: try later)
LOCKED_EXIT = 75


class RunLocked(PushcrawlError):
    """Another run of the same site and target is in progress."""

    exit_code = LOCKED_EXIT


def lock_path(state_dir: Path, scope: str) -> Path:
    return state_dir / "locks" / (re.sub(r"[^A-Za-z0-9_.-]", "_", scope.replace("/", "__")) + ".lock")


class ScopeLock:
    """A non-blocking exclusive lock for one scope ("<target>/<site>")."""

    def __init__(self, state_dir: Path, scope: str) -> None:
        self.scope = scope
        self.path = lock_path(state_dir, scope)
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLocked(
                f"another run of {self.scope} is in progress ({self.holder() or 'holder unknown'}); "
                "it was not started twice. Wait for it to end, or stop it first."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def is_held(self) -> bool:
        """True when some process (maybe this one) holds the lock now."""
        if self._fd is not None:
            return True
        if not self.path.exists():
            return False
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the probe's lock
        return False

    def __enter__(self) -> ScopeLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
