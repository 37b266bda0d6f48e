"""Background rebuilds for the API: a separate `related build` process, never a server thread.

Encoding is CPU-heavy and loads the model; in a child process it can't stall or crash the
worker that serves reads. The build lock makes concurrent requests safe: a request while a build
runs (or is starting) leaves a marker, and the running builder goes round once more so no ingest
is left out. The build's progress lines go to `<data-dir>/build.log`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from service.build.state import build_running, read_status, record_requested, record_start_failure
from service.build.steps import EmptyStore
from service.config.settings import Settings, setting_specs
from service.store import ArticleStore

PENDING_FILE = "rebuild.pending"
REQUEST_LOCK_FILE = "rebuild.request.lock"


def settings_environment(settings: Settings) -> dict[str, str]:
    """The process environment plus every setting as RELATED_*, so a child sees the same config."""
    env = dict(os.environ)
    values = settings.values()
    for spec in setting_specs():
        value = values[spec.name]
        env[spec.env] = (
            "" if value is None else str(int(value) if isinstance(value, bool) else value)
        )
    return env


def entry_point() -> list[str]:
    """The `related` console script beside this interpreter, else the package as a module."""
    script = Path(sys.executable).with_name("related")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "service"]


def request_rebuild(settings: Settings, store: ArticleStore) -> dict[str, Any]:
    """Start a background build, or queue one behind the running (or starting) build.

    Returns what was done: `started` (with the process id) or `queued`. A request lock makes
    the check and the start one step across every worker, so quick requests get one start and
    then queued; the status reads 'starting' before this returns. EmptyStore (409) when there
    is nothing to build.
    """
    if store.count() == 0:
        raise EmptyStore("There are no articles to index: ingest some first (POST /articles)")
    data_dir = settings.data_dir
    with _request_lock(data_dir):
        status = read_status(data_dir)
        if build_running(data_dir) or (status or {}).get("state") == "starting":
            (data_dir / PENDING_FILE).touch()
            return {"state": "queued", "detail": "a build is running; another will follow it"}
        record_requested(data_dir)
        with (data_dir / "build.log").open("ab") as log:
            process = subprocess.Popen(
                [*entry_point(), "build", "--until-idle", "--data-dir", str(data_dir)],
                env=settings_environment(settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def reap() -> None:
        # Reaping keeps the child from lingering as a zombie of this worker; a child that died
        # before taking over the status (a bad setting, say) is reported as failed.
        returncode = process.wait()
        if returncode != 0:
            record_start_failure(data_dir, returncode)

    threading.Thread(target=reap, daemon=True).start()
    return {"state": "started", "pid": process.pid}


@contextlib.contextmanager
def _request_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / REQUEST_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def is_pending(data_dir: Path) -> bool:
    return (data_dir / PENDING_FILE).exists()


def take_pending(data_dir: Path) -> bool:
    """True (and clear the marker) if a rebuild was requested while the last one ran."""
    try:
        (data_dir / PENDING_FILE).unlink()
    except FileNotFoundError:
        return False
    return True
