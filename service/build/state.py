"""Who is building a data directory, and how far it got.

One build at a time per data directory: an advisory lock on `build.lock`, released by the
kernel if the process dies. The running build's state goes to `build-status.json` (written
atomically, at most about twice a second), so every server worker can report it; a 'running'
state whose process no longer holds the lock reads 'interrupted'. A build requested over HTTP
reads 'starting' from the moment it is asked for until its process takes over.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.disk.atomic import atomic_write_text
from service.disk.lock import FileLock
from service.errors import RebuildInProgress

LOCK_FILE = "build.lock"
STATUS_FILE = "build-status.json"
STARTING_TIMEOUT_S = 120
"""A build requested this long ago whose process never took the lock was lost (its server
worker died before it could record the failure)."""
ACTIVE_STATES = ("starting", "running")

log = logging.getLogger("related.build")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def build_lock(data_dir: Path) -> FileLock:
    """Exclusive lock on `<data_dir>/build.lock`: one build at a time per data directory."""
    return FileLock(
        data_dir / LOCK_FILE,
        busy=lambda: RebuildInProgress("Another build of this data directory is running"),
    )


def build_running(data_dir: Path) -> bool:
    return build_lock(data_dir).is_taken()


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
        """Record the failure, with the error's `code` when it has one (`storage_full`)."""
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        self.state.update(state="failed", finished_at=now_iso(), error=message)
        code = getattr(error, "code", None)
        if isinstance(code, str):
            self.state["code"] = code
        try:
            self._write()
        except OSError:
            self._overwrite()

    def _overwrite(self) -> None:
        """The atomic write needs room for a second copy, which a full disk may not have; the
        file rewritten in place reuses its own blocks. A reader that catches it half-written
        sees no status for a moment, never the previous build's `succeeded`."""
        try:
            with self.path.open("r+b") as handle:
                handle.truncate(0)
                handle.write(json.dumps(self.state).encode())
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:  # not even that: the log is what is left
            log.error("could not record the failed build in %s: %s", self.path, exc)

    def _write(self) -> None:
        self._last_write = time.monotonic()
        atomic_write_text(self.path, json.dumps(self.state))


def record_requested(data_dir: Path) -> None:
    """Say at once that a build was asked for, before its process exists, so a client polling
    GET /index never sees the previous build's state as the answer to its request."""
    state = {"state": "starting", "requested_at": now_iso(), "requested_ts": time.time()}
    atomic_write_text(data_dir / STATUS_FILE, json.dumps(state))


def record_start_failure(data_dir: Path, returncode: int) -> None:
    """A requested build whose process ended before it took over the status: say it failed."""
    state = read_status(data_dir)
    if state is None or state.get("state") != "starting":
        return
    state.update(
        state="failed",
        finished_at=now_iso(),
        error=f"the build process exited with status {returncode} before starting: see build.log",
    )
    try:
        atomic_write_text(data_dir / STATUS_FILE, json.dumps(state))
    except OSError as exc:
        log.error("could not record the failed build start: %s", exc)


def read_status(data_dir: Path) -> dict[str, Any] | None:
    """The last build's state; a 'running' build whose process is gone reads 'interrupted'."""
    try:
        state: dict[str, Any] = json.loads((data_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if (state.get("state") == "running" and not build_running(data_dir)) or (
        state.get("state") == "starting"
        and time.time() - float(state.get("requested_ts", 0)) > STARTING_TIMEOUT_S
        and not build_running(data_dir)
    ):
        state["state"] = "interrupted"
    return state
