"""`related pins` and `related blocks`: the editors' overrides."""

from __future__ import annotations

from pathlib import Path

import click

from service.cli.common import data_dir_option, settings_for
from service.editorial.overrides import Kind, read_list, write_list
from service.errors import InvalidParameter


def _edit_ids(
    kind: Kind, article_id: str | None, ids: tuple[str, ...], clear: bool, data_dir: Path | None
) -> None:
    from service.store import ArticleStore

    if ids and clear:
        raise InvalidParameter(f"Give ids to set the {kind}, or --clear to empty them, not both")
    store = ArticleStore.existing(settings_for(data_dir=data_dir).db_path)
    if ids or clear:
        current = write_list(store, kind, article_id, ids)
    else:
        current = read_list(store, kind, article_id)
    click.echo("\n".join(current) if current else f"(no {kind})")


@click.command()
@click.argument("article_id")
@click.argument("ids", nargs=-1)
@click.option("--clear", is_flag=True, help="Remove every pin of ARTICLE_ID.")
@data_dir_option
def pins(article_id: str, ids: tuple[str, ...], clear: bool, data_dir: Path | None) -> None:
    """Show, or set to IDS in this order, the articles pinned first under ARTICLE_ID."""
    _edit_ids("pins", article_id, ids, clear, data_dir)


@click.command()
@click.argument("ids", nargs=-1)
@click.option(
    "--article",
    "article_id",
    default=None,
    help="Block under this article only [default: the global block list].",
)
@click.option("--clear", is_flag=True, help="Empty the block list.")
@data_dir_option
def blocks(
    ids: tuple[str, ...], article_id: str | None, clear: bool, data_dir: Path | None
) -> None:
    """Show, or set to IDS, the articles never shown (globally, or under --article)."""
    _edit_ids("blocks", article_id, ids, clear, data_dir)
