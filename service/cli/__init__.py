"""The `related` command: a group of subcommands, one module per concern.

Every subcommand takes --data-dir (default $RELATED_DATA_DIR or ./data). Errors print as one
line on stderr with a non-zero exit code (2 for bad input, 3 for a full disk, 1 otherwise); set
RELATED_DEBUG=1 to see the traceback instead. Heavy imports (the model, the store) happen inside
the commands, so `related --help` is quick.
"""

from __future__ import annotations

import logging
import os

import click

from service.cli.articles import articles
from service.cli.build import build_command
from service.cli.common import RelatedGroup
from service.cli.curated import curated
from service.cli.editorial import blocks, pins
from service.cli.evaluate import evaluate_command
from service.cli.experiment import experiment
from service.cli.ingest import ingest, sync_command
from service.cli.lists import export, related_command
from service.cli.replicas import follow_command, publish_command
from service.cli.serve import demo, serve
from service.cli.tune import tune_command


@click.group(cls=RelatedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="related-articles")
def cli() -> None:
    """Related articles for a publisher's site: ingest, build the index, serve."""
    # Libraries (faiss's loader, sentence-transformers) log chatter at INFO: only ours shows.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("related").setLevel(os.environ.get("RELATED_LOG_LEVEL", "INFO").upper())


for command in (
    ingest,
    sync_command,
    articles,
    build_command,
    serve,
    related_command,
    export,
    pins,
    blocks,
    evaluate_command,
    curated,
    tune_command,
    experiment,
    publish_command,
    follow_command,
    demo,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="related")
