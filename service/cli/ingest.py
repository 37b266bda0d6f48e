"""`related ingest SOURCE...` and `related sync SOURCE...`: articles in from files and sites.

A file of records (JSONL, JSON array, CSV) is one transaction, as it always was; every other
source (a sitemap, feed or page URL, a WordPress site, a WXR export, a Markdown folder) is read
page by page through `service.ingest.sync.run_pass`: a page that fails is named with its reason
and the others are stored. Exit codes: 0 all stored; 3 stored, but some pages failed; 2 a
source is not what it was read as (or a file's records are invalid); 1 anything else.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from service.cli.common import data_dir_option, exit_code, progress_disabled, settings_for
from service.errors import InvalidParameter, RelatedError, error_body
from service.ingest.sources import KINDS, Source

SOME_FAILED = 3
"""Exit code when articles were stored but some pages (or sources) failed."""
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds of `30s`, `5m`, `1h`, `1d` or a bare number of seconds."""
    match = DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise InvalidParameter(f"--every must be a duration like 30s, 5m or 1h, got {text!r}")
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


def _source_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--from",
                "kind",
                type=click.Choice(KINDS),
                default=None,
                help="What every SOURCE is [default: detected: a folder is Markdown, .xml a "
                "WXR export, a URL is told by what it serves; WordPress must be named].",
            ),
            click.option(
                "--id-from",
                type=click.Choice(["url", "slug"]),
                default="url",
                help="Ids from the URL's path, or from its last segment (the slug).",
            ),
            click.option(
                "--no-curated",
                is_flag=True,
                help="Do not harvest the pages' related boxes as curated links.",
            ),
            click.option("--json", "as_json", is_flag=True, help="One JSON object per source."),
            click.option("--quiet", is_flag=True, help="No progress bar."),
            data_dir_option,
        ]
    ):
        func = option(func)
    return func


@click.command()
@click.argument("sources", nargs=-1, required=True)
@_source_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "json", "csv"]),
    default=None,
    help="Format of a records file [default: from the extension or content].",
)
@click.option("--skip-invalid", is_flag=True, help="Of a records file, store the valid records.")
@click.pass_context
def ingest(
    ctx: click.Context,
    sources: tuple[str, ...],
    kind: str | None,
    id_from: str,
    no_curated: bool,
    as_json: bool,
    quiet: bool,
    data_dir: Path | None,
    fmt: str | None,
    skip_invalid: bool,
) -> None:
    """Upsert the articles of each SOURCE: a records file (JSONL, JSON array or CSV; one
    transaction), a sitemap, feed or page URL, a WordPress site (--from wordpress), a WXR
    export or a folder of Markdown files. Pages' related boxes become curated links."""
    from service.disk.lock import FileLock
    from service.ingest.sync import LOCK_FILE, record_pass, run_pass, state_key
    from service.store import ArticleStore

    settings = settings_for(data_dir=data_dir)
    store = ArticleStore(settings.db_path)
    worst = 0
    for text in sources:
        source = Source.parse(text, kind)
        if not source.is_url and source.local_kind() == "file":
            code = _ingest_file(
                store, Path(source.location), fmt, skip_invalid, as_json, quiet, not no_curated
            )
            worst = max(worst, code)
            continue
        # A whole read of the source, kept as its last pass: a later `related sync` of it
        # then fetches only what changed since.
        with FileLock(settings.data_dir / LOCK_FILE).waiting(), _bar(quiet) as bar:
            result, state = run_pass(
                settings,
                store,
                source,
                curated=not no_curated,
                id_from=id_from,
                progress=_updater(bar),
            )
            if result.error is None:
                record_pass(settings.data_dir, state_key(source), state)
        worst = max(worst, _show(result, as_json))
    ctx.exit(worst)


@click.command("sync")
@click.argument("sources", nargs=-1)
@_source_options
@click.option(
    "--every",
    default=None,
    help="Time between passes (30s, 5m, 1h) [default: $RELATED_SITE_SYNC_EVERY, 300s].",
)
@click.option("--once", is_flag=True, help="One pass over each SOURCE, then exit.")
@click.option(
    "--prune",
    is_flag=True,
    help="Delete the articles earlier passes stored that the source no longer lists "
    "(sitemaps, WordPress, folders; never from a feed). Off by default.",
)
@click.pass_context
def sync_command(
    ctx: click.Context,
    sources: tuple[str, ...],
    kind: str | None,
    id_from: str,
    no_curated: bool,
    as_json: bool,
    quiet: bool,
    data_dir: Path | None,
    every: str | None,
    once: bool,
    prune: bool,
) -> None:
    """Keep the store in step with a site: each pass fetches only what is new or changed since
    the last (sitemap lastmod, feed items, WordPress modified_after, conditional GET) and
    upserts it; a running server's automatic rebuild gives new articles their lists. SOURCES
    default to $RELATED_SITE_SOURCES. (Read replicas follow a primary with `related follow`.)"""
    from service.ingest.sync import sync_sources
    from service.store import ArticleStore

    settings = settings_for(data_dir=data_dir)
    texts = list(sources) or settings.site_sources.split()
    if not texts:
        raise InvalidParameter("no SOURCE given and RELATED_SITE_SOURCES is empty")
    parsed = [Source.parse(text, kind) for text in texts]
    interval = parse_duration(every) if every is not None else settings.site_sync_every
    store = ArticleStore(settings.db_path)
    while True:
        started = time.monotonic()
        worst = 0
        with _bar(quiet) as bar:
            results = sync_sources(
                settings,
                store,
                parsed,
                prune=prune,
                curated=not no_curated,
                id_from=id_from,
                progress=_updater(bar),
            )
        for result in results:
            worst = max(worst, _show(result, as_json))
        if once:
            ctx.exit(worst)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def _bar(quiet: bool) -> tqdm[Any]:
    return tqdm(desc="pages", unit=" pages", disable=progress_disabled(quiet), file=sys.stderr)


def _updater(bar: tqdm[Any]) -> Any:
    def update(count: int) -> None:
        bar.update(count - bar.n)

    return update


def _show(result: Any, as_json: bool) -> int:
    """Print one pass's outcome; its exit code."""
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        click.echo(result.summary())
        for where, reason in result.report.failed:
            click.echo(f"  failed {where}: {reason}", err=True)
    if result.error is not None:
        return 2 if result.error_status < 500 else 1
    return SOME_FAILED if result.report.failed else 0


def _ingest_file(
    store: Any,
    file: Path,
    fmt: str | None,
    skip_invalid: bool,
    as_json: bool,
    quiet: bool,
    curated: bool,
) -> int:
    """A records file, all or nothing (the behaviour `related ingest FILE` always had)."""
    from service.ingest.files import detect_format, read_records
    from service.ingest.load import ingest as run_ingest

    if file.is_dir():
        raise InvalidParameter(f"{file} is a folder: use --from markdown")
    fmt = fmt or detect_format(file)
    try:
        with tqdm(
            desc="ingest", unit=" articles", disable=progress_disabled(quiet), file=sys.stderr
        ) as bar:
            report = run_ingest(
                store,
                read_records(file, fmt),
                skip_invalid=skip_invalid,
                csv_cells=fmt == "csv",
                progress=lambda: bar.update(1),
                curated=curated,
            )
    except RelatedError as exc:
        if not as_json:
            raise
        click.echo(json.dumps(error_body(exc.status, exc.code, exc.message, exc.details)))
        return exit_code(exc)
    if as_json:
        click.echo(json.dumps(report.to_json()))
        return 0
    click.echo(report.summary())
    for problem in report.problems:
        click.echo(f"  skipped {problem}", err=True)
    return 0
