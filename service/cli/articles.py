"""`related ingest`: upsert the articles of a file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tqdm import tqdm

from service.cli.common import data_dir_option, progress_disabled, settings_for


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "json", "csv"]),
    default=None,
    help="Input format [default: from the extension or content].",
)
@click.option("--skip-invalid", is_flag=True, help="Store the valid records and report the rest.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def ingest(
    file: Path,
    fmt: str | None,
    skip_invalid: bool,
    as_json: bool,
    quiet: bool,
    data_dir: Path | None,
) -> None:
    """Upsert the articles in FILE (JSONL, JSON array or CSV). A file is one transaction."""
    from service.ingest import ingest as run_ingest
    from service.readers import detect_format, read_records
    from service.store import ArticleStore

    settings = settings_for(data_dir=data_dir)
    fmt = fmt or detect_format(file)
    store = ArticleStore(settings.db_path)
    with tqdm(
        desc="ingest", unit=" articles", disable=progress_disabled(quiet), file=sys.stderr
    ) as bar:
        report = run_ingest(
            store,
            read_records(file, fmt),
            skip_invalid=skip_invalid,
            csv_cells=fmt == "csv",
            progress=lambda: bar.update(1),
        )
    if as_json:
        click.echo(json.dumps(report.to_json()))
        return
    click.echo(report.summary())
    for problem in report.problems:
        click.echo(f"  skipped {problem}", err=True)
