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
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the HTTP API's JSON (less the recommendation_id and variant a server gives a page).",
)
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


STREAMS = ("jsonl", "csv")
STATIC = ("hugo", "jekyll", "json-dir")
"""Formats written as data files into a folder (`service.related.static_export`)."""


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*STREAMS, *STATIC]),
    default="jsonl",
    show_default=True,
    help="jsonl or csv: one stream; hugo, jekyll or json-dir: data files in the --output folder.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="File to write [default: standard output]; the folder (a site's root) for hugo, "
    "jekyll and json-dir.",
)
@option_flags("count", "filter", "ranking")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def export(
    fmt: str, output: Path | None, quiet: bool, data_dir: Path | None, **options: Any
) -> None:
    """Write every article's related list, for static sites and CDN caches (streamed).

    For hugo, jekyll and json-dir a file is rewritten only when its bytes change, so running it
    after every build touches only what the build changed."""
    from service.disk.atomic import atomic_file
    from service.related.export import export_related
    from service.related.static_export import export_static
    from service.services import Services

    if fmt in STATIC and output is None:
        raise click.UsageError(f"--format {fmt} writes a folder of data files: give --output DIR")
    if output is not None and output.is_dir() and fmt in STREAMS:
        raise click.UsageError(f"--output {output} is a folder; --format {fmt} writes one file")
    if output is not None and output.exists() and not output.is_dir() and fmt in STATIC:
        raise click.UsageError(f"--output {output} is a file; --format {fmt} writes into a folder")
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
        if fmt in STATIC:
            assert output is not None
            report = export_static(services, chosen, output, fmt, progress=bar.update)
        elif output is None:
            count = export_related(services, chosen, sys.stdout, fmt, progress=bar.update)
        else:
            with atomic_file(output, "w", newline="") as handle:  # never half a file
                count = export_related(
                    services, chosen, cast(TextIO, handle), fmt, progress=bar.update
                )
    if fmt in STATIC:
        done = report.to_json()
        click.echo(
            f"exported {done['lists']} related lists into {output}: {done['written']} files "
            f"written, {done['unchanged']} unchanged, {done['removed']} removed",
            err=True,
        )
        return
    click.echo(f"exported {count} related lists", err=True)
