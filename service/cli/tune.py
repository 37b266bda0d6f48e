"""`related tune`: learn the ranking from the site's stored curated links."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tqdm import tqdm

from service.cli.common import data_dir_option, progress_disabled, settings_for

if TYPE_CHECKING:
    from service.services import Services
    from service.store import Links


@click.command("tune")
@click.option("--folds", type=int, default=5, show_default=True, help="Cross-validation folds.")
@click.option(
    "--pool",
    type=int,
    default=200,
    show_default=True,
    help="Candidates per source (by the default ranking) that the learned ranking reorders.",
)
@click.option(
    "--from",
    "labels",
    type=click.Choice(["curated", "links"]),
    default="curated",
    show_default=True,
    help="Learn from the stored curated links, or from the links inside the articles' bodies "
    "(weak labels: never chosen by itself, see the Evaluation docs for what it did on a wiki "
    "and on reference docs).",
)
@click.option("--reset", is_flag=True, help="Go back to the default ranking.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def tune_command(
    folds: int, pool: int, labels: str, reset: bool, quiet: bool, data_dir: Path | None
) -> None:
    """Learn the ranking from the curated links stored with `related curated import`, or
    from the links inside the articles' bodies (`--from links`).

    Prints nDCG@10 of the defaults and of the learned ranking out of fold (each source ranked
    by weights learned without its links), saves the learned profile in the data directory and
    makes it active: the next `related build` (a full one) ranks with it.
    """
    from embeddings.signals import effective_weights
    from service.errors import InvalidParameter
    from service.quality.body_links import BODY_LINKS
    from service.quality.profiles import reset_profile, save_profile
    from service.quality.tuning import collect, learn
    from service.services import Services

    settings = settings_for(data_dir=data_dir)
    if reset:
        name = reset_profile(settings.data_dir)
        click.echo(
            f"profile {name} is no longer active: the next build uses the defaults"
            if name
            else "no profile was active: builds use the defaults"
        )
        return
    if folds < 2:
        raise InvalidParameter("Option '--folds' must be at least 2")
    services = Services.open(settings)
    links, learned_from = training_links(services, labels)
    generation = services.recommender.generation()
    # The defaults as a default build ranks (whatever profile built the served generation).
    defaults = effective_weights(settings.weights, generation.parts.published)
    ids = {stored.key: stored.article.id for stored in services.store.iter_articles()}
    with tqdm(
        desc="tune", total=len(links), unit=" sources", disable=progress_disabled(quiet),
        file=sys.stderr,
    ) as bar:  # fmt: skip
        data = collect(
            generation, links, ids, defaults, pool=pool,
            candidates=settings.candidates, progress=bar.update,
        )  # fmt: skip
    try:
        profile, check = learn(data, links, defaults, folds=folds, labels=learned_from)
    except ValueError as exc:
        raise InvalidParameter(f"Can't learn from these links: {exc}") from None
    click.echo(
        f"learned from {len(data.sources)} sources ({profile.learned['links']} "
        f"{'body links' if learned_from == BODY_LINKS else 'links'}), "
        f"{folds}-fold cross-validation grouped by source:"
    )
    click.echo(f"  nDCG@10 defaults                 {check.defaults:.4f}")
    click.echo(f"  nDCG@10 learned, out of fold     {check.tuned:.4f}")
    click.echo(f"learned: {profile.learned['choice']}")
    if profile.weights == dict(defaults):
        click.echo("nothing learned from these links beat the defaults: builds keep using them")
        return
    click.echo("weights:  " + "  ".join(f"{k} {v:g}" for k, v in profile.weights.items()))
    path = save_profile(settings.data_dir, profile)
    click.echo(f"profile {profile.name} saved ({path}) and active: run `related build`")


def training_links(services: Services, labels: str) -> tuple[Links, str]:
    """The links to learn from and what they are (`--from`): the stored curated links, or the
    body links resolved to stored articles."""
    from service.errors import InvalidParameter
    from service.quality.body_links import BODY_LINKS, CURATED, body_link_labels

    if labels == CURATED:
        curated = services.store.all_curated()
        if not curated:
            # Body links are not a fallback: learned from them, the ranking scored lower than the
            # defaults against a wiki's curated boxes and reference docs' See also lists
            # (docs/evaluation.md).
            raise InvalidParameter(
                "No curated links are stored: store them first with `related curated import "
                "FILE` (or learn from the links in the articles' bodies: `--from links`)"
            )
        return curated, CURATED
    found = body_link_labels(stored.article for stored in services.store.iter_articles())
    if not found.links:
        raise InvalidParameter(
            "No article's body links another stored article: ingest records with `links` "
            f"({found.written} body links, {found.unresolved} to no stored article)"
        )
    click.echo(
        f"learning from the body links ({found.resolved} of {found.written} name another "
        "stored article)"
    )
    return found.links, BODY_LINKS
