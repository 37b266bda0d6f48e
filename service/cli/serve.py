"""`related serve` and `related demo`: the HTTP API under gunicorn."""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from service.cli.build import run_build
from service.cli.common import data_dir_option, settings_for
from service.errors import ConfigError
from service.sample import sample_path

F = TypeVar("F", bound=Callable[..., Any])


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


@click.command()
@serve_options
def serve(**serve_args: Any) -> None:
    """Serve the HTTP API with gunicorn."""
    from service.server import serve as run_server

    settings = settings_for(**serve_args)
    check_port_free(settings.host, settings.port)
    base = f"http://{settings.host}:{settings.port}"
    click.echo(
        f"serving {settings.data_dir} on {base} ({settings.workers} workers); "
        f"the editors' page is {base}/ui/",
        err=True,
    )
    run_server(settings)


@click.command()
@serve_options
def demo(**serve_args: Any) -> None:
    """Ingest the bundled sample corpus, build the index and serve it."""
    from service.curated import import_links
    from service.ingest import ingest as run_ingest
    from service.readers import read_records
    from service.server import serve as run_server
    from service.store import ArticleStore

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
