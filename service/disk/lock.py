"""The one file lock: one process at a time does a job for a data directory (a build, a
replica's follower, a publish, the automatic rebuild's checks).

An advisory `flock` on a file: the kernel releases it when the holder dies, so a crash never
leaves it taken. `with lock:` takes it without waiting and raises the lock's own error when
another process holds it; `with lock.waiting():` waits its turn.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class FileLock:
    def __init__(self, path: Path, busy: Callable[[], Exception] | None = None) -> None:
        """`busy` makes the error `with lock:` raises when another process holds the lock."""
        self.path = path
        self._busy = busy or (lambda: RuntimeError(f"{path} is locked by another process"))
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)

    def acquire(self, *, wait: bool = False) -> bool:
        """Take the lock (waiting for it with `wait`); whether this object holds it now."""
        if self._fd is not None:
            return True
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        if not self.acquire():
            raise self._busy()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @contextmanager
    def waiting(self) -> Iterator[FileLock]:
        """Hold the lock for the block, waiting until whoever holds it lets go."""
        self.acquire(wait=True)
        try:
            yield self
        finally:
            self.release()

    def is_taken(self) -> bool:
        """Whether another holder has the lock now (it is not kept)."""
        if self._fd is not None:
            return False
        if not self.acquire():
            return True
        self.release()
        return False

    def wait_free(self) -> None:
        """Block until nobody holds the lock (without keeping it)."""
        with self.waiting():
            pass
