"""`related serve` and `related demo`: the HTTP API under gunicorn."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from service.cli.build import run_build
from service.cli.common import data_dir_option, settings_for
from service.config import Settings
from service.sample import sample_path

F = TypeVar("F", bound=Callable[..., Any])


def serve_options(func: F) -> F:
    func = click.option("--threads", type=int, default=None, help="Threads per worker.")(func)
    func = click.option("--workers", type=int, default=None, help="Worker processes.")(func)
    func = click.option("--port", type=int, default=None, help="Port [default: 8000].")(func)
    func = click.option("--host", default=None, help="Bind address [default: 127.0.0.1].")(func)
    return data_dir_option(func)


@contextlib.contextmanager
def sidecar(settings: Settings, *args: str) -> Iterator[None]:
    """`related ARGS` beside the server, with the same settings; it ends with the server."""
    from service.rebuild import entry_point, settings_environment

    command = [*entry_point(), *args, "--exit-with-parent", "--data-dir", str(settings.data_dir)]
    process = subprocess.Popen(
        command, env=settings_environment(settings), stdin=subprocess.DEVNULL
    )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
    from service.server import serve as run_server

    settings = settings_for(**serve_args)
    role = f"a read replica of {settings.follow}" if settings.follow else "the primary"
    click.echo(
        f"serving {settings.data_dir} on http://{settings.host}:{settings.port} "
        f"({settings.workers} workers) as {role}",
        err=True,
    )
    with contextlib.ExitStack() as stack:
        if settings.follow:
            stack.enter_context(sidecar(settings, "follow"))
        elif settings.publish:
            stack.enter_context(sidecar(settings, "publish", "--watch"))
        run_server(settings)


@click.command()
@serve_options
def demo(**serve_args: Any) -> None:
    """Ingest the bundled sample corpus, build the index and serve it."""
    from service.ingest import ingest as run_ingest
    from service.readers import read_records
    from service.server import serve as run_server
    from service.store import ArticleStore

    settings = settings_for(**serve_args)
    started = time.monotonic()
    report = run_ingest(ArticleStore(settings.db_path), read_records(sample_path("articles.jsonl")))
    click.echo(f"sample corpus: {report.summary()}", err=True)
    build_report = run_build(settings, quiet=False)
    click.echo(build_report.summary(), err=True)
    base = f"http://{settings.host}:{settings.port}"
    click.echo(
        f"ready in {time.monotonic() - started:.0f}s. Try:\n"
        f"  curl '{base}/articles/2026-03-02-heatwave-grid-record/related?k=3'\n"
        f"  curl {base}/index",
        err=True,
    )
    run_server(settings)
