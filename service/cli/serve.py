"""`related serve` and `related demo`: the HTTP API under gunicorn."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from service.cli.build import run_build
from service.cli.common import data_dir_option, settings_for
from service.config.settings import Settings
from service.errors import ConfigError
from service.sample import sample_path

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("related")


def serve_options(func: F) -> F:
    func = click.option("--threads", type=int, default=None, help="Threads per worker.")(func)
    func = click.option("--workers", type=int, default=None, help="Worker processes.")(func)
    func = click.option("--port", type=int, default=None, help="Port [default: 8000].")(func)
    func = click.option("--host", default=None, help="Bind address [default: 127.0.0.1].")(func)
    return data_dir_option(func)


def check_port_free(host: str, port: int) -> None:
    """ConfigError with a hint when another program listens on (host, port): gunicorn would
    retry five times and die with "Can't connect", after `related demo` had said "ready"."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ConfigError(
            f"RELATED_HOST {host!r} is not an address of this machine: {exc}"
        ) from None
    with socket.socket(family, kind, proto) as sock:
        # As gunicorn does: a port left in TIME_WAIT by a server that just stopped is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise ConfigError(
                f"Port {port} on {host} is already in use by another program: set RELATED_PORT "
                f"(or --port) to a free port, e.g. RELATED_PORT={port + 1}"
            ) from None


class Sidecar:
    """`related ARGS` beside the server, with the same settings: restarted if it dies (after a
    pause that grows to a minute while it keeps dying), stopped with the server."""

    def __init__(self, settings: Settings, *args: str) -> None:
        from service.build.rebuild import entry_point, settings_environment

        self.command = [
            *entry_point(),
            *args,
            "--exit-with-parent",
            "--data-dir",
            str(settings.data_dir),
        ]
        self.env = settings_environment(settings)
        self.stopping = threading.Event()
        self.process: subprocess.Popen[bytes] | None = None
        self.thread = threading.Thread(target=self._supervise, name="sidecar", daemon=True)

    def _supervise(self) -> None:
        pause = 1.0
        while not self.stopping.is_set():
            started = time.monotonic()
            # Its own session: the signals gunicorn sends its workers are not for it.
            self.process = subprocess.Popen(
                self.command, env=self.env, stdin=subprocess.DEVNULL, start_new_session=True
            )
            code = self.process.wait()
            if self.stopping.is_set():
                return
            pause = 1.0 if time.monotonic() - started > 60 else min(pause * 2, 60.0)
            log.warning("%s exited with %s; restarting in %.0fs", self.command[1:3], code, pause)
            self.stopping.wait(pause)

    def __enter__(self) -> Sidecar:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        if self.process is not None and self.process.poll() is None:
            # Safe at any moment: everything it writes is written aside and renamed.
            self.process.kill()
        self.thread.join(timeout=15)


@click.command()
@serve_options
@click.option(
    "--follow",
    default=None,
    metavar="LOCATION",
    help="Serve as a read replica of what a primary publishes to LOCATION "
    "[default: $RELATED_FOLLOW].",
)
@click.option(
    "--primary-url",
    default=None,
    help="On a replica, the primary's URL, named when writes are refused.",
)
@click.option(
    "--publish",
    default=None,
    metavar="LOCATION",
    help="On the primary, keep pins and blocks (and each new generation) published to "
    "LOCATION [default: $RELATED_PUBLISH].",
)
def serve(**serve_args: Any) -> None:
    """Serve the HTTP API with gunicorn (as a primary, or a read replica with --follow)."""
    from service.web.server import serve as run_server

    settings = settings_for(**serve_args)
    check_port_free(settings.host, settings.port)
    base = f"http://{settings.host}:{settings.port}"
    role = f"a read replica of {settings.follow}" if settings.follow else "the primary"
    click.echo(
        f"serving {settings.data_dir} on {base} ({settings.workers} workers) as {role}; "
        f"the editors' page is {base}/ui/",
        err=True,
    )
    with contextlib.ExitStack() as stack:
        if settings.follow:
            stack.enter_context(Sidecar(settings, "follow"))
        elif settings.publish:
            stack.enter_context(Sidecar(settings, "publish", "--watch"))
        run_server(settings)


@click.command()
@serve_options
def demo(**serve_args: Any) -> None:
    """Ingest the bundled sample corpus, build the index and serve it."""
    from service.editorial.curated import import_links
    from service.ingest.files import read_records
    from service.ingest.load import ingest as run_ingest
    from service.store import ArticleStore
    from service.web.server import serve as run_server

    settings = settings_for(**serve_args)
    check_port_free(settings.host, settings.port)
    started = time.monotonic()
    store = ArticleStore(settings.db_path)
    report = run_ingest(store, read_records(sample_path("articles.jsonl")))
    click.echo(f"sample corpus: {report.summary()}", err=True)
    links = import_links(store, sample_path("related.jsonl"), replace=False)
    click.echo(f"sample curated links: {links.summary()}", err=True)
    build_report = run_build(settings, quiet=False)
    click.echo(build_report.summary(), err=True)
    base = f"http://{settings.host}:{settings.port}"
    click.echo(
        f"ready in {time.monotonic() - started:.0f}s. Try:\n"
        f"  curl '{base}/articles/2026-03-02-heatwave-grid-record/related?k=3'\n"
        f"  curl {base}/index\n"
        f"  open {base}/ui/ (the editors' page)",
        err=True,
    )
    run_server(settings)
