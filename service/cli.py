"""The `related` command: ingest, build, serve, related, demo.

Every subcommand takes --data-dir (default $RELATED_DATA_DIR or ./data). Errors print as one
line on stderr with a non-zero exit code; set RELATED_DEBUG=1 to see the traceback instead.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from service.config import Settings, load_settings
from service.errors import RelatedError

F = TypeVar("F", bound=Callable[..., Any])


class RelatedGroup(click.Group):
    """Turns every failure into one line and an exit code; no traceback unless RELATED_DEBUG."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except RelatedError as exc:
            if os.environ.get("RELATED_DEBUG"):
                raise
            click.echo(f"Error: {exc.message}", err=True)
            for detail in (exc.details or [])[:20]:
                if isinstance(detail, dict) and "where" in detail:
                    field = f" field {detail['field']!r}:" if detail.get("field") else ""
                    click.echo(f"  {detail['where']}:{field} {detail['reason']}", err=True)
            ctx.exit(2 if exc.status < 500 else 1)
        except Exception as exc:
            if os.environ.get("RELATED_DEBUG"):
                raise
            click.echo(f"Error: {type(exc).__name__}: {exc}", err=True)
            ctx.exit(1)


def data_dir_option(func: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Data directory [default: $RELATED_DATA_DIR or ./data].",
    )(func)


def settings_for(**overrides: Any) -> Settings:
    return load_settings(**overrides)


@click.group(cls=RelatedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="related-articles")
def cli() -> None:
    """Related articles for a publisher's site: ingest, build the index, serve."""
    # Libraries (faiss's loader, sentence-transformers) log chatter at INFO: only ours shows.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("related").setLevel(os.environ.get("RELATED_LOG_LEVEL", "INFO").upper())


# -- ingest ----------------------------------------------------------------------------------


@cli.command()
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
        desc="ingest", unit=" articles", disable=True if quiet else None, file=sys.stderr
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


# -- build -----------------------------------------------------------------------------------


class PhaseBars:
    """One tqdm bar per build phase, fed by the builder's progress(phase, done, total)."""

    def __init__(self, disable: bool | None) -> None:
        self.disable = disable
        self.bar: tqdm[Any] | None = None
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.phase = phase
            self.bar = tqdm(
                desc=phase,
                total=total,
                disable=self.disable,
                file=sys.stderr,
                unit=" articles" if phase != "writing" else "",
            )
        assert self.bar is not None
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run_build(settings: Settings, *, quiet: bool, full: bool = False) -> Any:
    from service.builder import build
    from service.services import make_encoder
    from service.store import ArticleStore

    bars = PhaseBars(True if quiet else None)
    try:
        with ArticleStore(settings.db_path) as store:
            return build(settings, store, make_encoder(settings), progress=bars, full=full)
    finally:
        bars.close()


@cli.command("build")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--full",
    is_flag=True,
    help="Refit the lexical models and rank every list anew (default: incremental when possible).",
)
@click.option(
    "--until-idle",
    is_flag=True,
    hidden=True,
    help="Build again while rebuilds were requested meanwhile (used by the API).",
)
@data_dir_option
def build_command(
    as_json: bool, quiet: bool, full: bool, until_idle: bool, data_dir: Path | None
) -> None:
    """Encode new and changed articles, build the index and neighbour lists, publish them."""
    from service.rebuild import take_pending

    settings = settings_for(data_dir=data_dir)
    while True:
        take_pending(settings.data_dir)
        report = run_build(settings, quiet=quiet, full=full)
        click.echo(json.dumps(report.to_json()) if as_json else report.summary())
        full = False  # a queued round after a full build only needs the changes
        if not (until_idle and take_pending(settings.data_dir)):
            break


# -- serve -----------------------------------------------------------------------------------


def serve_options(func: F) -> F:
    func = click.option("--threads", type=int, default=None, help="Threads per worker.")(func)
    func = click.option("--workers", type=int, default=None, help="Worker processes.")(func)
    func = click.option("--port", type=int, default=None, help="Port [default: 8000].")(func)
    func = click.option("--host", default=None, help="Bind address [default: 127.0.0.1].")(func)
    return data_dir_option(func)


@cli.command()
@serve_options
def serve(**serve_args: Any) -> None:
    """Serve the HTTP API with gunicorn."""
    from service.server import serve as run_server

    settings = settings_for(**serve_args)
    click.echo(
        f"serving {settings.data_dir} on http://{settings.host}:{settings.port} "
        f"({settings.workers} workers)",
        err=True,
    )
    run_server(settings)


# -- related ---------------------------------------------------------------------------------


def ranking_options(func: F) -> F:
    """Options that change ranking: the same names as the HTTP parameters and settings."""
    for name, kind, text in reversed(
        [
            ("lang", str, "auto (the source's language), any, or a code."),
            (
                "recency",
                click.Choice(["none", "exponential", "gaussian"]),
                "Decay scores by age difference.",
            ),
            ("half-life-days", float, "Age difference at which recency halves a score."),
            (
                "duplicate-threshold",
                float,
                "Full-text tf-idf cosine that counts as a near-duplicate (1.01: off).",
            ),
            ("diversity", float, "MMR diversity, 0 (off) to 1."),
            ("min-score", float, "Drop results scoring below this."),
            ("min-relative", float, "Drop results below this fraction of the best score."),
        ]
    ):
        func = click.option(f"--{name}", type=kind, default=None, help=text)(func)
    return func


def filter_options(func: F) -> F:
    """Filters applied before the top-k cut."""
    func = click.option("--exclude", multiple=True, help="Never return this id (repeatable).")(func)
    func = click.option(
        "--past-only", is_flag=True, default=None, help="Only articles published before the source."
    )(func)
    func = click.option(
        "--published-before", default=None, help="Published strictly before this ISO date."
    )(func)
    func = click.option(
        "--published-after", default=None, help="Published on or after this ISO date."
    )(func)
    func = click.option("--tag", multiple=True, help="Any of these tags (repeatable).")(func)
    func = click.option("--section", multiple=True, help="Any of these sections (repeatable).")(
        func
    )
    return ranking_options(func)


def raw_options(values: dict[str, Any]) -> dict[str, Any]:
    """CLI values as raw options: unset flags and empty repeatables mean 'the default'."""
    return {
        name: value
        for name, value in values.items()
        if value is not None and value != () and value is not False
    }


@cli.command("related")
@click.argument("article_id")
@click.option("--k", "k", type=int, default=None, help="How many related articles [default: 5].")
@filter_options
@click.option("--explain", is_flag=True, help="Say why each result is related.")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as the HTTP API.")
@data_dir_option
def related_command(article_id: str, as_json: bool, data_dir: Path | None, **options: Any) -> None:
    """Print the articles related to ARTICLE_ID (the same code path as the HTTP API)."""
    from service.services import Services

    settings = settings_for(data_dir=data_dir)
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
    notes = {
        "live": "computed live: this article is newer than the index",
        "search": "the precomputed list ran out under the filters: searched the index",
    }
    if result.source in notes:
        click.echo(f"({notes[result.source]})", err=True)
    cut = sum(result.cut.values())
    if cut or result.suppressed_duplicates:
        click.echo(
            f"({cut} cut by thresholds, {result.suppressed_duplicates} near-duplicates skipped)",
            err=True,
        )


# -- demo ------------------------------------------------------------------------------------


def sample_path(name: str) -> Path:
    return Path(str(resources.files("service") / "sample" / name))


@cli.command()
@serve_options
def demo(**serve_args: Any) -> None:
    """Ingest the bundled sample corpus, build the index and serve it."""
    from service.ingest import ingest as run_ingest
    from service.readers import read_records
    from service.server import serve as run_server
    from service.store import ArticleStore

    settings = settings_for(**serve_args)
    started = time.monotonic()
    report = run_ingest(ArticleStore(settings.db_path), read_records(sample_path("articles.jsonl")))
    click.echo(f"sample corpus: {report.summary()}", err=True)
    build_report = run_build(settings, quiet=False)
    click.echo(build_report.summary(), err=True)
    base = f"http://{settings.host}:{settings.port}"
    click.echo(
        f"ready in {time.monotonic() - started:.0f}s. Try:\n"
        f"  curl '{base}/articles/2026-03-02-heatwave-grid-record/related?k=3'\n"
        f"  curl {base}/index",
        err=True,
    )
    run_server(settings)


# The editorial and reporting commands live in their own module; importing it registers them.
from service import cli_editorial  # noqa: E402, F401


def main() -> None:
    cli(prog_name="related")


if __name__ == "__main__":
    main()
