"""`related evaluate`: the lists and the baselines against curated links."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from service.cli.common import (
    data_dir_option,
    option_flags,
    progress_disabled,
    raw_options,
    reading_settings,
)


def stored_links(store: Any) -> dict[str, dict[str, float]]:
    from service.editorial.link_files import InvalidLinks

    links: dict[str, dict[str, float]] = store.all_curated()
    if not links:
        raise InvalidLinks(
            "No curated links are stored: give a LINKS file, or store them first with "
            "`related curated import FILE`"
        )
    return links


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


@click.command("evaluate")
@click.argument(
    "links", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
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
    help="Write a self-contained HTML page for editors: the table, what each figure means, "
    "the curves, figures per section and example lists side by side.",
)
@option_flags("ranking")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def evaluate_command(
    links: Path | None,
    cutoffs: list[int],
    past_only: bool,
    as_json: bool,
    per_article: Path | None,
    report: Path | None,
    quiet: bool,
    data_dir: Path | None,
    **options: Any,
) -> None:
    """Compare the related lists, and simple baselines, with curated links.

    LINKS is JSONL ({"id": ..., "related": [ids in curated order], "grades": [...]?}) or CSV
    (source_id,target_id[,grade]); without it, the links stored with `related curated import`.
    """
    from service.editorial.link_files import read_links
    from service.quality.evaluate import evaluate, write_per_article
    from service.quality.latest import evaluation_document, save_latest
    from service.services import Services

    settings = reading_settings(data_dir)
    services = Services.open(settings)
    curated = read_links(links) if links is not None else stored_links(services.store)
    with tqdm(
        desc="evaluate",
        total=len(curated),
        unit=" sources",
        disable=progress_disabled(quiet),
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
    source = (
        {"kind": "file", "path": str(links.resolve())}
        if links is not None
        else {"kind": "stored", "sources": len(curated), "links": sum(map(len, curated.values()))}
    )
    document = evaluation_document(evaluation, services.store, links=source)
    saved: Path | None = None
    try:
        saved = save_latest(document, settings.data_dir)
    except OSError as exc:
        click.echo(
            f"Warning: the evaluation could not be saved for the editors' page: {exc}", err=True
        )
    if report is not None:
        from service.quality.report import write_report

        write_report(document, report)
    if as_json:
        written = {
            "saved": None if saved is None else str(saved),
            "report": None if report is None else str(report.resolve()),
        }
        click.echo(json.dumps({**evaluation.to_json(), **written}))
        return
    click.echo(evaluation.table())
    if saved is not None:
        click.echo(f"Saved for the editors' page (/ui/collection): {saved}", err=True)
    if report is not None:
        click.echo(f"Report written to {report.resolve()}", err=True)
