"""`related curated`: the site's own curated links, stored once for evaluation, learning and
the editors' page."""

from __future__ import annotations

import json
from pathlib import Path

import click

from service.cli.common import data_dir_option, settings_for


@click.group()
def curated() -> None:
    """Store, show and clear the curated links that lists are judged and tuned against."""


@curated.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace", is_flag=True, help="Remove every stored link first (default: per source)."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@data_dir_option
def import_links(file: Path, replace: bool, as_json: bool, data_dir: Path | None) -> None:
    """Store the links in FILE (the formats `related evaluate` reads). Each source's list
    replaces the one stored; one transaction."""
    from service.editorial.curated import import_links as run_import
    from service.store import ArticleStore

    store = ArticleStore(settings_for(data_dir=data_dir).db_path)
    report = run_import(store, file, replace=replace)
    click.echo(json.dumps(report.to_json()) if as_json else report.summary())


@curated.command("show")
@click.argument("article_id")
@data_dir_option
def show(article_id: str, data_dir: Path | None) -> None:
    """Print the links curated under ARTICLE_ID, in order (id and grade)."""
    from service.editorial.curated import read_curated
    from service.store import ArticleStore

    store = ArticleStore.existing(settings_for(data_dir=data_dir).db_path)
    links = read_curated(store, article_id)
    click.echo("\n".join(f"{target}\t{grade:g}" for target, grade in links) or "(no links)")


@curated.command("clear")
@click.option("--yes", is_flag=True, help="Do it without asking.")
@data_dir_option
def clear(yes: bool, data_dir: Path | None) -> None:
    """Remove every stored curated link."""
    from service.store import ArticleStore

    if not yes:
        click.confirm("Remove every stored curated link?", abort=True)
    store = ArticleStore.existing(settings_for(data_dir=data_dir).db_path)
    store.replace_curated({}, everything=True)
    click.echo("removed every curated link")
