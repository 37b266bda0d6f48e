"""`related publish` and `related follow`: a primary's published location and its replicas."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import click

from service.cli.common import data_dir_option, settings_for
from service.errors import ConfigError, RelatedError

log = logging.getLogger("related.publish")


def exit_with_parent_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--exit-with-parent",
        is_flag=True,
        hidden=True,
        help="Stop when the process that started this one ends (used by `related serve`).",
    )(func)


def orphaned_check(enabled: bool) -> OrphanCheck:
    return OrphanCheck(os.getppid() if enabled else None)


class OrphanCheck:
    def __init__(self, parent: int | None) -> None:
        self.parent = parent

    def __call__(self) -> bool:
        return self.parent is not None and os.getppid() != self.parent


@click.command("publish")
@click.argument("location", required=False)
@click.option("--watch", is_flag=True, help="Keep publishing changes, every RELATED_SYNC_INTERVAL.")
@click.option("--status", "show_status", is_flag=True, help="Show what the location serves.")
@exit_with_parent_option
@data_dir_option
def publish_command(
    location: str | None,
    watch: bool,
    show_status: bool,
    exit_with_parent: bool,
    data_dir: Path | None,
) -> None:
    """Publish the current generation, pins and blocks to LOCATION for read replicas.

    LOCATION is a shared directory or an fsspec URL [default: $RELATED_PUBLISH].
    """
    from service.replicas.location import open_location
    from service.replicas.publish import publish_all, status
    from service.store import ArticleStore

    settings = settings_for(data_dir=data_dir, publish=location)
    if not settings.publish:
        raise ConfigError("Name a location to publish to, or set RELATED_PUBLISH")
    if show_status:
        click.echo(json.dumps(status(open_location(settings.publish)), indent=2))
        return
    orphaned = orphaned_check(exit_with_parent)
    with ArticleStore(settings.db_path) as store:
        while True:
            try:
                report = publish_all(settings, store)
                if not watch or report.generation_published or report.editorial_published:
                    click.echo(report.summary(), err=watch)
            except RelatedError as exc:
                if not watch:
                    raise
                log.warning("%s", exc.message)
            if not watch:
                return
            deadline = time.monotonic() + settings.sync_interval
            while time.monotonic() < deadline:
                if orphaned():
                    return
                time.sleep(min(0.2, settings.sync_interval))


@click.command("follow")
@click.argument("location", required=False)
@click.option("--once", is_flag=True, help="Sync once and exit (default: keep following).")
@exit_with_parent_option
@data_dir_option
def follow_command(
    location: str | None, once: bool, exit_with_parent: bool, data_dir: Path | None
) -> None:
    """Keep this data directory a read replica of LOCATION: fetch, verify and swap in each
    generation and editorial change published there.

    LOCATION is what the primary publishes to [default: $RELATED_FOLLOW]. `related serve
    --follow LOCATION` runs this beside the server.
    """
    from service.replicas.follower import follow

    settings = settings_for(data_dir=data_dir, follow=location)
    if not settings.follow:
        raise ConfigError("Name a location to follow, or set RELATED_FOLLOW")
    state = follow(settings, once=once, stop=orphaned_check(exit_with_parent))
    if once:
        click.echo(json.dumps({"generation": state.generation, "error": state.error}))
        if state.error:
            raise RelatedError(state.error)
