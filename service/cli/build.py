"""`related build`: encode what changed, rank, publish a new generation."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click
from tqdm import tqdm

from service.cli.common import data_dir_option, progress_disabled, settings_for
from service.config.settings import ENGINES, Settings

if TYPE_CHECKING:
    from service.build.report import BuildReport


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


class PhaseLines:
    """Progress as plain lines, for output that is not a terminal (a log file, a pipe, CI):
    a line when a phase starts and ends, and one every LINE_EVERY_S seconds in between."""

    LINE_EVERY_S = 10.0

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.phase = ""
        self.last = 0.0
        self.done = self.total = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != self.phase:
            self.close()
            self.phase, self.last = phase, now
            self._line(done, total)
        elif done >= total or now - self.last >= self.LINE_EVERY_S:
            self.last = now
            self._line(done, total)
        self.done, self.total = done, total

    def _line(self, done: int, total: int) -> None:
        share = f" ({100 * done / total:.0f}%)" if total else ""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        print(f"{stamp} {self.phase}: {done}/{total}{share}", file=self.out, flush=True)

    def close(self) -> None:
        if self.phase and self.done < self.total:
            self._line(self.done, self.total)
        self.phase = ""


def progress_for(quiet: bool) -> PhaseBars | PhaseLines:
    """Bars on a terminal, lines elsewhere, nothing with --quiet."""
    if not quiet and not sys.stderr.isatty():
        return PhaseLines(sys.stderr)
    return PhaseBars(progress_disabled(quiet))


def run_build(settings: Settings, *, quiet: bool, full: bool = False) -> BuildReport:
    """Build on the configured engine; then, with RELATED_PUBLISH, publish the generation."""
    from service.build.builder import build
    from service.build.engines import make_engine
    from service.services import make_encoder
    from service.store import ArticleStore

    bars = progress_for(quiet)
    started = time.monotonic()
    outcome, mode = "failed", "unknown"
    encoder = make_encoder(settings)
    engine = make_engine(settings, encoder)
    try:
        with ArticleStore(settings.db_path) as store:
            report = build(settings, store, encoder, progress=bars, full=full, engine=engine)
            if settings.publish:
                from service.replicas.publish import publish_all

                published = publish_all(settings, store, progress=bars)
                bars.close()
                if not quiet:
                    click.echo(published.summary(), err=True)
        outcome, mode = "succeeded", report.mode
        return report
    finally:
        engine.close()
        bars.close()
        record_build(time.monotonic() - started, outcome, mode)


def record_build(seconds: float, outcome: str, mode: str) -> None:
    """Count the build in the metrics of the server that started it (if one did)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from service.web.prometheus import record_build as record

        record(seconds, outcome, mode)


@click.command("build")
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
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="Where encoding and ranking run [default: $RELATED_ENGINE or local].",
)
@click.option(
    "--ray-address",
    default=None,
    help="Ray cluster for --engine ray [default: $RELATED_RAY_ADDRESS, else a local Ray].",
)
@click.option(
    "--publish",
    "publish_to",
    default=None,
    metavar="LOCATION",
    help="Also publish the generation for read replicas: a shared directory or fsspec URL "
    "[default: $RELATED_PUBLISH].",
)
@data_dir_option
def build_command(
    as_json: bool,
    quiet: bool,
    full: bool,
    until_idle: bool,
    engine: str | None,
    ray_address: str | None,
    publish_to: str | None,
    data_dir: Path | None,
) -> None:
    """Encode new and changed articles, build the index and neighbour lists, publish them."""
    from service.build.rebuild import take_pending
    from service.build.state import build_lock
    from service.errors import RebuildInProgress

    settings = settings_for(
        data_dir=data_dir, engine=engine, ray_address=ray_address, publish=publish_to
    )
    while True:
        if until_idle:  # asked for by the API: wait for a running build rather than fail
            build_lock(settings.data_dir).wait_free()
        take_pending(settings.data_dir)
        try:
            report = run_build(settings, quiet=quiet, full=full)
        except RebuildInProgress:
            if until_idle:
                continue  # another build took the lock first: wait for it, then build
            raise
        click.echo(json.dumps(report.to_json()) if as_json else report.summary())
        full = False  # a queued round after a full build only needs the changes
        if not (until_idle and take_pending(settings.data_dir)):
            break
