"""Who is building a data directory, and how far it got.

One build at a time per data directory: an advisory lock on `build.lock`, released by the
kernel if the process dies. The running build's state goes to `build-status.json` (written
atomically, at most about twice a second), so every server worker can report it; a 'running'
state whose process no longer holds the lock reads 'interrupted'.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.errors import RebuildInProgress
from service.generation_files import atomic_write_text

LOCK_FILE = "build.lock"
STATUS_FILE = "build-status.json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class BuildLock:
    """Exclusive, non-blocking lock on `<data_dir>/build.lock`; released if the process dies."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RebuildInProgress("Another build of this data directory is running") from None
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def is_held(data_dir: Path) -> bool:
        try:
            with BuildLock(data_dir):
                return False
        except RebuildInProgress:
            return True


class BuildStatus:
    """The running build's state in `<data_dir>/build-status.json`, throttled to ~2 writes/s."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / STATUS_FILE
        self.state: dict[str, Any] = {}
        self._last_write = 0.0

    def start(self) -> None:
        self.state = {
            "state": "running",
            "pid": os.getpid(),
            "started_at": now_iso(),
            "phase": "starting",
            "done": 0,
            "total": 0,
        }
        self._write()

    def progress(self, phase: str, done: int, total: int) -> None:
        self.state.update(phase=phase, done=done, total=total)
        if time.monotonic() - self._last_write > 0.5 or done == total:
            self._write()

    def finish(self, result: dict[str, Any]) -> None:
        self.state.update(state="succeeded", finished_at=now_iso(), phase="done", result=result)
        self._write()

    def fail(self, error: BaseException) -> None:
        self.state.update(
            state="failed", finished_at=now_iso(), error=str(error) or type(error).__name__
        )
        self._write()

    def _write(self) -> None:
        self._last_write = time.monotonic()
        atomic_write_text(self.path, json.dumps(self.state))


def read_status(data_dir: Path) -> dict[str, Any] | None:
    """The last build's state; a 'running' build whose process is gone reads 'interrupted'."""
    try:
        state: dict[str, Any] = json.loads((data_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if state.get("state") == "running" and not BuildLock.is_held(data_dir):
        state["state"] = "interrupted"
    return state
