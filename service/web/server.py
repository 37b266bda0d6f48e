"""`related serve`: the app under gunicorn, never Flask's development server.

gunicorn's master forks the workers, replaces any that die or miss its heartbeat, and stops
them gracefully. Each worker is a `service.web.worker.AsyncWorker`: an event loop reads whole
requests (with header and body timeouts) and a pool of threads runs the Flask app, so slow or
idle clients never hold a thread. Metrics are kept in prometheus-client's multiprocess mode, in
a directory made empty for each server, so /metrics counts every worker.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from service.build.rebuild import entry_point
from service.config.settings import Settings

WORKER_CLASS = "service.web.worker.AsyncWorker"
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class RelatedServer(BaseApplication):  # type: ignore[misc]
    """Each worker builds its own app (no preload), so each gets its own SQLite connections and
    memory maps after the fork; the maps share one page-cache copy of the index. `app_factory`
    serves another WSGI app under the same settings (the benchmarks' floor)."""

    def __init__(self, settings: Settings, app_factory: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.app_factory = app_factory
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        options: dict[str, Any] = {
            "bind": f"{settings.host}:{settings.port}",
            "workers": settings.workers,
            "threads": settings.threads,
            "worker_class": WORKER_CLASS,
            "worker_connections": settings.max_connections,
            "keepalive": math.ceil(settings.keepalive),  # ours reads the exact value
            # The heartbeat: a worker whose event loop stops for this long is replaced. Slow
            # requests run in its threads and don't stop the loop.
            "timeout": 120,
            "graceful_timeout": 20,
            "loglevel": settings.log_level.lower(),
            "accesslog": None,  # our own access log (service.web.access_log) has the request id
            "errorlog": "-",
            "proc_name": "related-articles",
            # gunicorn >= 25 opens a control socket at one shared path per user: several servers
            # (tests, or one per site) would fight over it, and we manage workers ourselves.
            "control_socket_disable": True,
            "child_exit": _child_exit,
        }
        for key, value in options.items():
            if key in self.cfg.settings:  # older gunicorn lacks some of these
                self.cfg.set(key, value)

    def load(self) -> Any:
        if self.app_factory is not None:
            return self.app_factory()
        from service.build.auto_rebuild import AutoRebuild
        from service.ingest.sync_server import SiteSync
        from service.web.access_log import configure_access_log
        from service.web.app import create_app

        configure_access_log(self.settings.access_log)
        app = create_app(self.settings)
        services = app.extensions["related"]
        if services.replica_store is None:  # a replica rebuilds nothing: it follows
            AutoRebuild(self.settings, services.store, services.generations).start()
            SiteSync(self.settings, services.store).start()
        return app


def _child_exit(server: Any, worker: Any) -> None:
    """A dead worker's live gauges leave the multiprocess directory (its counters stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def metrics_directory() -> tuple[Path, bool]:
    """The directory every worker writes its metrics to, empty: the operator's
    PROMETHEUS_MULTIPROC_DIR (emptied) or a new temporary one. Returns it and whether it is
    ours to remove."""
    given = os.environ.get(METRICS_DIR_VARIABLE, "").strip()
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # counts of an earlier server must not carry over
            stale.unlink()
        return path, False
    path = Path(tempfile.mkdtemp(prefix="related-metrics-"))
    os.environ[METRICS_DIR_VARIABLE] = str(path)  # set before any worker imports the client
    return path, True


def serve(settings: Settings, app_factory: Callable[[], Any] | None = None) -> None:
    directory, ours = metrics_directory()
    master = os.getpid()
    try:
        RelatedServer(settings, app_factory).run()
    finally:
        # Workers are forks of this frame and leave through it too: only the master cleans up.
        if ours and os.getpid() == master:
            shutil.rmtree(directory, ignore_errors=True)


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
    command = [*entry_point(), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    command += ["--workers", str(workers)]
    return start_and_wait(command, port, env=env, log=log, timeout=timeout)


def start_and_wait(
    command: list[str],
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 60.0,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server `command` listening on loopback `port`, with the caller's environment less
    its RELATED_* variables (and any metrics directory) plus `env`; return once its /healthz
    answers 200."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RELATED_") and k != METRICS_DIR_VARIABLE
    }
    environment.update(env or {})
    with (log or Path(os.devnull)).open("wb") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)
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
    process.wait()
    raise RuntimeError(f"server did not start: {log.read_text() if log else ''}")
