"""`related articles`: show (as stored, or as the ranking read it), list and delete stored
articles (`related ingest`, in service.cli.ingest, adds them)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from service.cli.common import data_dir_option, settings_for
from service.errors import ArticleNotFound


@click.group()
def articles() -> None:
    """Show, list and delete stored articles (`related ingest` adds them)."""


@articles.command("show")
@click.argument("article_id")
@click.option(
    "--view",
    type=click.Choice(["stored", "ranked"]),
    default="stored",
    show_default=True,
    help="ranked: the body as the ranking read it (chrome left out), as GET /articles/<id>?view=ranked.",
)
@data_dir_option
def show(article_id: str, view: str, data_dir: Path | None) -> None:
    """Print the stored article ARTICLE_ID as JSON (the API's GET /articles/<id>)."""
    from service.generations.generation import CurrentGeneration
    from service.ingest.chrome import ranked_view
    from service.store import ArticleStore

    settings = settings_for(data_dir=data_dir)
    store = ArticleStore.existing(settings.db_path)
    stored = store.get(article_id)
    if stored is None:
        raise ArticleNotFound(article_id)
    data = stored.article.to_json()
    if view == "ranked":
        generation = CurrentGeneration(settings.generations_dir).get()
        data = ranked_view(stored.article, store, generation.parts.chrome if generation else None)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@articles.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (no body).")
@data_dir_option
def list_articles(limit: int | None, as_json: bool, data_dir: Path | None) -> None:
    """List the stored articles in the order they were first stored: id, date, title."""
    from service.store import ArticleStore

    store = ArticleStore.existing(settings_for(data_dir=data_dir).db_path)
    for count, stored in enumerate(store.iter_articles(), start=1):
        article = stored.article
        if as_json:
            data = article.to_json()
            del data["body"]
            click.echo(json.dumps(data, ensure_ascii=False))
        else:
            click.echo(f"{article.id}\t{article.published or '-'}\t{article.title}")
        if limit is not None and count >= limit:
            break


@articles.command("delete")
@click.argument("article_ids", nargs=-1, required=True)
@data_dir_option
def delete(article_ids: tuple[str, ...], data_dir: Path | None) -> None:
    """Delete ARTICLE_IDS, all or none (an unknown id deletes nothing). Their lists drop out
    of every other list at once; the next build removes them from the index."""
    from service.store import ArticleStore

    store = ArticleStore.existing(settings_for(data_dir=data_dir).db_path)
    with store.write() as writer:
        for article_id in dict.fromkeys(article_ids):
            if not writer.delete(article_id):
                raise ArticleNotFound(article_id)
    click.echo("\n".join(f"deleted {article_id}" for article_id in dict.fromkeys(article_ids)))
