"""`related` subcommands for editors: pins, blocks, export and evaluate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from service.cli import (
    cli,
    data_dir_option,
    filter_options,
    ranking_options,
    raw_options,
    settings_for,
)

# -- editorial overrides -----------------------------------------------------------------------


def _edit_ids(
    kind: str, article_id: str | None, ids: tuple[str, ...], clear: bool, data_dir: Path | None
) -> None:
    from service.recommender import GLOBAL_BLOCKS
    from service.store import ArticleStore

    store = ArticleStore(settings_for(data_dir=data_dir).db_path)
    owner = GLOBAL_BLOCKS if article_id is None else article_id
    if article_id is not None and store.get(article_id) is None:
        from service.errors import ArticleNotFound

        raise ArticleNotFound(article_id)
    if ids or clear:
        if kind == "pins" and owner in ids:
            raise click.BadParameter("an article cannot be pinned under itself")
        (store.set_pins if kind == "pins" else store.set_blocks)(owner, list(dict.fromkeys(ids)))
    current = store.pins(owner) if kind == "pins" else store.blocks(owner)
    click.echo("\n".join(current) if current else f"(no {kind})")


@cli.command()
@click.argument("article_id")
@click.argument("ids", nargs=-1)
@click.option("--clear", is_flag=True, help="Remove every pin of ARTICLE_ID.")
@data_dir_option
def pins(article_id: str, ids: tuple[str, ...], clear: bool, data_dir: Path | None) -> None:
    """Show, or set to IDS in this order, the articles pinned first under ARTICLE_ID."""
    _edit_ids("pins", article_id, ids, clear, data_dir)


@cli.command()
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


# -- export ----------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write [default: standard output].",
)
@click.option("--k", "k", type=int, default=None, help="Related articles per article [default: 5].")
@filter_options
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def export(
    fmt: str, output: Path | None, quiet: bool, data_dir: Path | None, **options: Any
) -> None:
    """Write every article's related list, for static sites and CDN caches (streamed)."""
    from service.export import export_related
    from service.services import Services

    settings = settings_for(data_dir=data_dir)
    services = Services.open(settings)
    chosen = services.recommender.options(raw_options(options))
    with tqdm(
        desc="export",
        total=services.store.count(),
        unit=" articles",
        disable=True if quiet else None,
        file=sys.stderr,
    ) as bar:
        if output is None:
            count = export_related(services, chosen, sys.stdout, fmt, progress=bar.update)
        else:
            tmp = output.with_name(f".{output.name}.tmp")
            with tmp.open("w", encoding="utf-8", newline="") as handle:
                count = export_related(services, chosen, handle, fmt, progress=bar.update)
            tmp.replace(output)  # readers never see half a file
    click.echo(f"exported {count} related lists", err=True)


# -- evaluate --------------------------------------------------------------------------------


def parse_cutoffs(_ctx: click.Context, _param: click.Parameter, value: str) -> list[int]:
    try:
        cutoffs = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected whole numbers separated by commas, got {value!r}"
        ) from None
    if not cutoffs or min(cutoffs) < 1:
        raise click.BadParameter("cut-offs must be whole numbers of at least 1")
    return cutoffs


@cli.command("evaluate")
@click.argument("links", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--k",
    "cutoffs",
    default="3,5,10",
    callback=parse_cutoffs,
    show_default=True,
    help="Cut-offs, separated by commas.",
)
@click.option(
    "--past-only",
    is_flag=True,
    help="Only articles published before the source are candidates; links to later ones are set aside.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
    "--per-article",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write each source's curated links, the service's list and the hits to this CSV.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a self-contained HTML page with the table and recall/nDCG curves.",
)
@ranking_options
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def evaluate_command(
    links: Path,
    cutoffs: list[int],
    past_only: bool,
    as_json: bool,
    per_article: Path | None,
    report: Path | None,
    quiet: bool,
    data_dir: Path | None,
    **options: Any,
) -> None:
    """Compare the related lists, and simple baselines, with curated links in LINKS.

    LINKS is JSONL ({"id": ..., "related": [ids in curated order], "grades": [...]?}) or CSV
    (source_id,target_id[,grade]).
    """
    from service.evaluate import evaluate, read_links, write_per_article
    from service.services import Services

    settings = settings_for(data_dir=data_dir)
    services = Services.open(settings)
    curated = read_links(links)
    with tqdm(
        desc="evaluate",
        total=len(curated),
        unit=" sources",
        disable=True if quiet else None,
        file=sys.stderr,
    ) as bar:
        evaluation = evaluate(
            services,
            curated,
            cutoffs=cutoffs,
            past_only=past_only,
            options=raw_options(options),
            progress=bar.update,
        )
    if per_article is not None:
        write_per_article(evaluation, per_article)
    if report is not None:
        from service.report import write_report

        write_report(evaluation, report)
    click.echo(json.dumps(evaluation.to_json()) if as_json else evaluation.table())
