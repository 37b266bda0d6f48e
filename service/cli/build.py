"""`related build`: encode what changed, rank, publish a new generation."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from service.cli.common import data_dir_option, progress_disabled, settings_for
from service.config import ENGINES, Settings

if TYPE_CHECKING:
    from service.build_steps import BuildReport


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


def run_build(settings: Settings, *, quiet: bool, full: bool = False) -> BuildReport:
    """Build on the configured engine; then, with RELATED_PUBLISH, publish the generation."""
    from service.builder import build
    from service.engines import make_engine
    from service.services import make_encoder
    from service.store import ArticleStore

    bars = PhaseBars(progress_disabled(quiet))
    encoder = make_encoder(settings)
    engine = make_engine(settings, encoder)
    try:
        with ArticleStore(settings.db_path) as store:
            report = build(settings, store, encoder, progress=bars, full=full, engine=engine)
            if settings.publish:
                from service.publish import publish_all

                published = publish_all(settings, store, progress=bars)
                bars.close()
                if not quiet:
                    click.echo(published.summary(), err=True)
            return report
    finally:
        engine.close()
        bars.close()


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
    from service.rebuild import take_pending

    settings = settings_for(
        data_dir=data_dir, engine=engine, ray_address=ray_address, publish=publish_to
    )
    while True:
        take_pending(settings.data_dir)
        report = run_build(settings, quiet=quiet, full=full)
        click.echo(json.dumps(report.to_json()) if as_json else report.summary())
        full = False  # a queued round after a full build only needs the changes
        if not (until_idle and take_pending(settings.data_dir)):
            break
