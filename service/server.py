"""`related serve`: the app under gunicorn (threaded workers), never Flask's development server."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from service.config import Settings
from service.rebuild import entry_point


class RelatedServer(BaseApplication):  # type: ignore[misc]
    """Each worker builds its own app (no preload), so each gets its own SQLite connections and
    memory maps after the fork; the maps share one page-cache copy of the index."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"{self.settings.host}:{self.settings.port}",
            "workers": self.settings.workers,
            "threads": self.settings.threads,
            "worker_class": "gthread",
            # A worker's first live answer may load the model: allow for it.
            "timeout": 120,
            "graceful_timeout": 20,
            "loglevel": self.settings.log_level.lower(),
            "accesslog": None,
            "errorlog": "-",
            "proc_name": "related-articles",
            # gunicorn >= 25 opens a control socket at one shared path per user: several servers
            # (tests, or one per site) would fight over it, and we manage workers ourselves.
            "control_socket_disable": True,
        }
        for key, value in options.items():
            if key in self.cfg.settings:  # older gunicorn lacks some of these
                self.cfg.set(key, value)

    def load(self) -> Any:
        from service.app import create_app

        return create_app(self.settings)


def serve(settings: Settings) -> None:
    RelatedServer(settings).run()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(
    data_dir: Path,
    *,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 60.0,
) -> tuple[subprocess.Popen[bytes], str]:
    """`related serve` as a child process on a free loopback port, its RELATED_* environment
    only what `env` gives; returns once /healthz answers (the process and its base URL). For
    tests, benchmarks and scripts that need a real server."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RELATED_")}
    environment.update(env or {})
    command = [*entry_point(), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    with (log or Path(os.devnull)).open("wb") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text() if log else ''}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text() if log else ''}")
