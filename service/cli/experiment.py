"""`related experiment`: start, show, stop and report A/B experiments of a data directory
(what `/experiments` does over HTTP; a running server sees a change on its next request)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from service.cli.common import data_dir_option, settings_for


@click.group()
def experiment() -> None:
    """A/B experiments: which ranking readers click more (defaults, tuned, curated)."""


@experiment.command("start")
@click.argument("name")
@click.option(
    "--variants",
    required=True,
    help="Comma-separated: defaults, tuned, curated; the first is the control.",
)
@click.option(
    "--split", default=None, help="Percent of visitors per variant, e.g. 50,50 [default: even]."
)
@click.option("--alpha", default=None, help="Significance level of the verdict [default: 0.05].")
@click.option("--power", default=None, help="Chance of detecting the MDE [default: 0.8].")
@click.option(
    "--mde", default=None, help="Smallest relative CTR change worth detecting [default: 0.2]."
)
@click.option(
    "--baseline-ctr",
    default=None,
    help="The control's expected CTR, to size the test [default: 0.05].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the experiment as JSON.")
@data_dir_option
def start(name: str, as_json: bool, data_dir: Path | None, **values: Any) -> None:
    """Start experiment NAME; its plan (and so the impressions it needs) is fixed now."""
    from service.quality.experiments import Experiments, start_from_values

    settings = settings_for(data_dir=data_dir)
    store = Experiments(settings.data_dir)
    started = start_from_values(store, settings.data_dir, {"name": name, **values})
    if as_json:
        click.echo(json.dumps(started.to_json()))
        return
    click.echo(
        f"started {started.name}: {', '.join(f'{v} {s}%' for v, s in zip(started.variants, started.split, strict=True))}; "
        f"a verdict after {started.plan.impressions_per_variant:,} impressions per variant"
    )


@experiment.command("status")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@data_dir_option
def status(name: str | None, as_json: bool, data_dir: Path | None) -> None:
    """Show experiment NAME (default: every experiment)."""
    from service.quality.experiments import Experiments

    store = Experiments(settings_for(data_dir=data_dir).data_dir)
    chosen = [store.get(name)] if name else store.all()
    if as_json:
        click.echo(json.dumps([e.to_json() for e in chosen]))
        return
    for e in chosen:
        state = "running" if e.running else "stopped"
        click.echo(f"{e.name}\t{state}\t{','.join(e.variants)}\t{','.join(map(str, e.split))}")
    if not chosen:
        click.echo("(no experiments)")


@experiment.command("stop")
@click.argument("name")
@data_dir_option
def stop(name: str, data_dir: Path | None) -> None:
    """Stop experiment NAME: every visitor gets the defaults again; its events stay."""
    from service.quality.experiments import Experiments

    stopped = Experiments(settings_for(data_dir=data_dir).data_dir).stop(name)
    click.echo(f"stopped {stopped.name}")


@experiment.command("report")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@data_dir_option
def report(name: str, as_json: bool, data_dir: Path | None) -> None:
    """Impressions, clicks and CTR per variant with 95% intervals, the test against the
    control, the impressions still needed, and the verdict."""
    from service.quality.experiment_report import experiment_report
    from service.quality.experiments import Experiments
    from service.store import ArticleStore
    from service.store.events import EventStore

    settings = settings_for(data_dir=data_dir)
    found = Experiments(settings.data_dir).get(name)
    events = EventStore(
        settings.events_path,
        max_rows=settings.events_max_rows,
        retention_days=settings.events_retention_days,
    )
    body = experiment_report(found, events, ArticleStore.existing(settings.db_path))
    if as_json:
        click.echo(json.dumps(body))
        return
    click.echo(f"{'variant':<10} {'impr':>9} {'clicks':>8} {'CTR':>8}  95% interval     p")
    for row in body["variants"]:
        ctr = "-" if row["ctr"] is None else f"{row['ctr']:.2%}"
        low, high = row["interval"]
        p = row.get("against_control", {}).get("p")
        click.echo(
            f"{row['variant']:<10} {row['impressions']:>9,} {row['clicks']:>8,} {ctr:>8}  "
            f"{low:.2%}-{high:.2%}  {'control' if p is None else f'{p:.4f}'}"
        )
    click.echo(body["verdict"]["text"])
