"""`related related` and `related export`: related lists on the command line and in bulk."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO, cast

import click
from tqdm import tqdm

from service.cli.common import (
    data_dir_option,
    option_flags,
    progress_disabled,
    raw_options,
    reading_settings,
)

NOTES = {
    "live": "computed live: this article is newer than the index",
    "search": "the precomputed list ran out under the filters: searched the index",
}


@click.command("related")
@click.argument("article_id")
@option_flags("count", "filter", "ranking", "output")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as the HTTP API.")
@data_dir_option
def related_command(article_id: str, as_json: bool, data_dir: Path | None, **options: Any) -> None:
    """Print the articles related to ARTICLE_ID (the same code path as the HTTP API)."""
    from service.services import Services

    settings = reading_settings(data_dir)
    recommender = Services.open(settings).recommender
    result = recommender.related(article_id, options=recommender.options(raw_options(options)))
    if as_json:
        click.echo(json.dumps({"ok": True, **result.to_json()}, ensure_ascii=False))
        return
    click.echo(f"{result.article.id}: {result.article.title}")
    for rank, item in enumerate(result.items, start=1):
        score = "pinned" if item.pinned else f"{item.score:.3f}"
        click.echo(f"{rank:>3}. {score:>7}  {item.article.id}  {item.article.title}")
        if item.explanation:
            click.echo(f"        {json.dumps(item.explanation, ensure_ascii=False)}")
    if result.source in NOTES:
        click.echo(f"({NOTES[result.source]})", err=True)
    cut = sum(result.cut.values())
    if cut or result.suppressed_duplicates:
        click.echo(
            f"({cut} cut by thresholds, {result.suppressed_duplicates} near-duplicates skipped)",
            err=True,
        )


@click.command()
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
@option_flags("count", "filter", "ranking")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def export(
    fmt: str, output: Path | None, quiet: bool, data_dir: Path | None, **options: Any
) -> None:
    """Write every article's related list, for static sites and CDN caches (streamed)."""
    from service.disk.atomic import atomic_file
    from service.related.export import export_related
    from service.services import Services

    settings = reading_settings(data_dir)
    services = Services.open(settings)
    chosen = services.recommender.options(raw_options(options))
    with tqdm(
        desc="export",
        total=services.store.count(),
        unit=" articles",
        disable=progress_disabled(quiet),
        file=sys.stderr,
    ) as bar:
        if output is None:
            count = export_related(services, chosen, sys.stdout, fmt, progress=bar.update)
        else:
            with atomic_file(output, "w", newline="") as handle:  # never half a file
                count = export_related(
                    services, chosen, cast(TextIO, handle), fmt, progress=bar.update
                )
    click.echo(f"exported {count} related lists", err=True)
