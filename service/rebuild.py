"""Background rebuilds for the API: a separate `related build` process, never a server thread.

Encoding is CPU-heavy and loads the model; in a child process it can't stall or crash the
worker that serves reads. The build lock makes concurrent requests safe: a request while a build
runs leaves a marker, and the running builder goes round once more so no ingest is left out.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from service.build_state import BuildLock
from service.config import Settings, setting_specs

PENDING_FILE = "rebuild.pending"


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


def request_rebuild(settings: Settings) -> dict[str, Any]:
    """Start a background build, or queue one behind the running build. Returns what was done."""
    data_dir = settings.data_dir
    if BuildLock.is_held(data_dir):
        (data_dir / PENDING_FILE).touch()
        return {"state": "queued", "detail": "a build is running; another will follow it"}
    log = (data_dir / "build.log").open("ab")
    process = subprocess.Popen(
        [
            *entry_point(),
            "build",
            "--until-idle",
            "--quiet",
            "--data-dir",
            str(data_dir),
        ],
        env=settings_environment(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    # Reap the child when it ends so it never lingers as a zombie of this worker.
    threading.Thread(target=process.wait, daemon=True).start()
    return {"state": "started", "pid": process.pid}


def take_pending(data_dir: Path) -> bool:
    """True (and clear the marker) if a rebuild was requested while the last one ran."""
    try:
        (data_dir / PENDING_FILE).unlink()
    except FileNotFoundError:
        return False
    return True
