"""`related evaluate`: the service's related lists and the baselines against curated links.

Every method ranks the same candidates (the articles both stored and indexed) under the same
exclusions (never the source itself; with past_only, only articles published before it). The
service's own lists come from `Recommender.related`, the code behind the HTTP endpoint.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.baselines import (
    Baseline,
    BM25MoreLikeThisBaseline,
    DenseBaseline,
    MostRecentBaseline,
    RandomBaseline,
    TfidfBaseline,
    top_k,
)
from embeddings.metrics import coverage, evaluate_rankings, ndcg_at_k, recall_at_k
from embeddings.signals import effective_weights
from service.article import Article
from service.editorial.link_files import Links
from service.errors import InvalidParameter
from service.generations.generation import Generation
from service.ingest.chrome import ranked_article, stored_titles
from service.quality.body_links import BODY_LINKS
from service.quality.profiles import load_profile
from service.quality.tuning import (
    CrossValidation,
    collect,
    cross_validate,
    ranked_ids,
    without_popularity,
)
from service.services import Services

SERVICE = "service"
DEFAULTS = "defaults"
"""With a learned profile active: the default ranking over the same candidates."""
CURVE_DEPTH = 20


@dataclass
class Evaluation:
    cutoffs: list[int]
    past_only: bool
    methods: dict[str, dict[str, float]]
    curves: dict[str, dict[str, list[float]]]
    counts: dict[str, Any]
    per_source: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    def best(self) -> dict[str, str]:
        """Per metric, the method with the highest value (ties: the first listed)."""
        metrics = next(iter(self.methods.values())).keys()
        return {m: max(self.methods, key=lambda name: self.methods[name][m]) for m in metrics}

    def to_json(self) -> dict[str, Any]:
        return {
            "cutoffs": self.cutoffs,
            "past_only": self.past_only,
            "options": self.options,
            **self.counts,
            "methods": self.methods,
            "best": self.best(),
            "curves": self.curves,
        }

    def table(self) -> str:
        columns = list(next(iter(self.methods.values())))
        best = self.best()
        width = max(len(name) for name in self.methods) + 2
        header = "method".ljust(width) + "".join(c.rjust(max(len(c), 7) + 2) for c in columns)
        lines = [header]
        for name, metrics in self.methods.items():
            cells = []
            for column in columns:
                mark = "*" if best[column] == name else " "
                cells.append(f"{metrics[column]:.3f}{mark}".rjust(max(len(column), 7) + 2))
            lines.append(name.ljust(width) + "".join(cells))
        counts = self.counts
        reasons = ", ".join(f"{n} {why}" for why, n in counts["sources_skipped"].items())
        lines.append(
            f"{counts['sources_evaluated']} sources evaluated, {counts['sources_skipped_total']} skipped"
            f"{f' ({reasons})' if reasons else ''}; {counts['links_evaluated']} curated links, "
            f"{counts['links_missing']} to articles not indexed"
            + (
                f", {counts['links_set_aside']} to later articles set aside"
                if self.past_only
                else ""
            )
            + f"; {counts['candidates']} candidates. * = best."
        )
        if counts.get("service_ranking", "").startswith("profile"):
            lines.append(f"service: {counts['service_ranking']}; defaults: the default ranking.")
        return "\n".join(lines)


@dataclass
class Candidates:
    """The articles every method may rank: those both stored and indexed, by generation row."""

    in_store: np.ndarray
    ids: list[str]
    titles: list[str]
    articles: list[Article | None]
    published: np.ndarray
    position: dict[str, int]

    @classmethod
    def of(cls, services: Services, generation: Generation) -> Candidates:
        keys = np.asarray(generation.parts.keys)
        # The baselines read what the service's signals read: chrome out (ranked_article).
        chrome, titles = generation.parts.chrome, stored_titles(services.store)
        stored = {
            s.key: ranked_article(s.article, chrome, titles) for s in services.store.iter_articles()
        }
        articles = [stored.get(int(key)) for key in keys]
        return cls(
            in_store=np.asarray([int(key) in stored for key in keys]),
            ids=[a.id if a is not None else "" for a in articles],
            titles=[a.title if a is not None else "" for a in articles],
            articles=articles,
            published=np.asarray(generation.parts.published, dtype=np.float64),
            position={a.id: i for i, a in enumerate(articles) if a is not None},
        )

    def allowed(self, where: int, past_only: bool) -> np.ndarray:
        """Rows a list for the source at row `where` may hold."""
        if not past_only:
            return self.in_store
        earlier = np.nan_to_num(self.published, nan=np.inf) < self.published[where]
        allowed: np.ndarray = np.logical_and(self.in_store, earlier)
        return allowed


@dataclass
class Evaluable:
    """The curated links that can be scored, and how many of the rest were left out and why."""

    relevant: Links = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    links_missing: int = 0
    links_set_aside: int = 0


def evaluable(links: Links, candidates: Candidates, past_only: bool) -> Evaluable:
    found = Evaluable()
    position, published = candidates.position, candidates.published
    for source, targets in links.items():
        if source not in position:
            found.skipped["source_not_indexed"] += 1
            continue
        source_time = published[position[source]]
        if past_only and np.isnan(source_time):
            found.skipped["source_undated"] += 1
            continue
        kept: dict[str, float] = {}
        for target, gain in targets.items():
            if target not in position:
                found.links_missing += 1
            elif past_only and not published[position[target]] < source_time:
                found.links_set_aside += 1
            else:
                kept[target] = gain
        if kept:
            found.relevant[source] = kept
        else:
            found.skipped["no_links_left"] += 1
    return found


def baselines(candidates: Candidates, generation: Generation) -> list[Baseline]:
    articles = candidates.articles
    return [
        RandomBaseline(len(articles)),
        MostRecentBaseline(candidates.published),
        BM25MoreLikeThisBaseline([f"{a.title}\n{a.body}" if a else "" for a in articles]),
        TfidfBaseline([baseline_document(a) if a else "" for a in articles]),
        DenseBaseline(np.asarray(generation.parts.vectors)),
    ]


Rankings = dict[str, dict[str, list[str]]]
"""Per method, per source id: the ids it ranks, best first."""


def scores(
    rankings: Rankings, relevant: Links, cutoffs: list[int], candidates: int
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, list[float]]]]:
    """Per method, its metrics at every cut-off, and its recall and nDCG curves."""
    methods: dict[str, dict[str, float]] = {}
    curves: dict[str, dict[str, list[float]]] = {}
    top = max(cutoffs)
    for name, ranked in rankings.items():
        metrics = evaluate_rankings(ranked, relevant, cutoffs)
        metrics[f"coverage@{top}"] = coverage([r[:top] for r in ranked.values()], candidates)
        methods[name] = {key: round(value, 4) for key, value in metrics.items()}
        curves[name] = {
            "recall": [
                _mean(recall_at_k(ranked[s], relevant[s], k) for s in relevant)
                for k in range(1, CURVE_DEPTH + 1)
            ],
            "ndcg": [
                _mean(ndcg_at_k(ranked[s], relevant[s], k) for s in relevant)
                for k in range(1, CURVE_DEPTH + 1)
            ],
        }
    return methods, curves


def per_source_rows(
    service: dict[str, list[str]], relevant: Links, candidates: Candidates, top: int
) -> list[dict[str, Any]]:
    """One row per source for the report: the service's list against the curated one."""
    rows = []
    for source, gains in relevant.items():
        system = service[source][:top]
        hits = [t for t in system if t in gains]
        rows.append(
            {
                "source_id": source,
                "source_title": candidates.titles[candidates.position[source]],
                "curated": "|".join(gains),
                "system": "|".join(system),
                "hits": "|".join(hits),
                "missed": "|".join(t for t in gains if t not in system),
                "first_hit_rank": (system.index(hits[0]) + 1) if hits else "",
                f"recall@{top}": round(recall_at_k(system, gains, top), 4),
                f"ndcg@{top}": round(ndcg_at_k(system, gains, top), 4),
            }
        )
    return rows


def evaluate(
    services: Services,
    links: Links,
    *,
    cutoffs: Sequence[int] = (3, 5, 10),
    past_only: bool = False,
    options: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Evaluate every method; `options` (raw, as on the CLI) change the service's ranking."""
    cutoffs = sorted(set(cutoffs))
    depth = max(*cutoffs, CURVE_DEPTH)
    if cutoffs[0] < 1 or depth > services.settings.max_k:
        raise InvalidParameter(
            f"cut-offs must be between 1 and RELATED_MAX_K ({services.settings.max_k})"
        )
    generation = services.recommender.generation()
    service_options = services.recommender.options(options, k=depth, past_only=past_only or None)
    candidates = Candidates.of(services, generation)
    found = evaluable(links, candidates, past_only)
    relevant, ids = found.relevant, candidates.ids
    methods_of = baselines(candidates, generation)
    rankings: Rankings = {b.name: {} for b in methods_of}
    rankings[SERVICE] = {}
    # A profile learned from the curated links saw them: its own lists would be scored in
    # sample. Score it out of fold instead, next to the defaults, each over the same candidates.
    # One learned from the body links never saw them: its served lists are scored as they are.
    profile = generation.manifest.ranking.profile
    from_body = profile is not None and learned_from_body_links(services, profile)
    learned = (
        out_of_fold(services, generation, relevant, candidates.published)
        if profile and not from_body
        else None
    )
    if learned is not None or from_body:
        rankings[DEFAULTS] = {}
    defaults_of = (
        default_lists(services, generation, relevant, candidates.published) if from_body else {}
    )
    for source in relevant:
        where = candidates.position[source]
        allowed = candidates.allowed(where, past_only)
        for baseline in methods_of:
            found_rows = top_k(baseline.scores(where), depth, exclude=where, allowed=allowed)
            # `allowed` holds stored articles only, so every position found has an id.
            rankings[baseline.name][source] = [ids[p] for p in found_rows]
        if learned is None:
            result = services.recommender.related(source, options=service_options)
            rankings[SERVICE][source] = [item.article.id for item in result.items]
            if from_body:
                keep = {ids[p] for p in np.nonzero(allowed)[0]}
                ranked = defaults_of.get(source, [])
                rankings[DEFAULTS][source] = [i for i in ranked if i in keep][:depth]
        else:
            keep = {ids[p] for p in np.nonzero(allowed)[0]}
            for name, lists in ((SERVICE, learned.tuned_lists), (DEFAULTS, learned.defaults_lists)):
                rankings[name][source] = [i for i in lists.get(source, []) if i in keep][:depth]
        if progress is not None:
            progress(1)

    in_store = int(candidates.in_store.sum())
    methods, curves = scores(rankings, relevant, cutoffs, in_store)
    per_source = per_source_rows(rankings[SERVICE], relevant, candidates, max(cutoffs))
    counts = {
        "sources_evaluated": len(relevant),
        "sources_skipped": dict(found.skipped),
        "sources_skipped_total": sum(found.skipped.values()),
        "links_evaluated": sum(len(g) for g in relevant.values()),
        "links_missing": found.links_missing,
        "links_set_aside": found.links_set_aside,
        "candidates": in_store,
        "generation": generation.name,
        "service_ranking": (
            f"profile {profile}, scored out of fold ({learned.folds} folds grouped by source)"
            if learned is not None
            else f"profile {profile}, learned from the body links: the lists the service serves"
            if from_body
            else "the lists the service serves"
        ),
    }
    return Evaluation(
        cutoffs, past_only, methods, curves, counts, per_source, service_options.to_json()
    )


def out_of_fold(
    services: Services, generation: Generation, relevant: Links, published: Any
) -> CrossValidation:
    """The learned ranking scored out of fold on `relevant`, and the defaults beside it."""
    ids = {stored.key: stored.article.id for stored in services.store.iter_articles()}
    defaults = effective_weights(services.settings.weights, published)
    data = collect(generation, relevant, ids, defaults, candidates=services.settings.candidates)
    return cross_validate(data, relevant, defaults)


def learned_from_body_links(services: Services, profile: str) -> bool:
    """Whether the profile `profile` learned from the body links (so never saw curated ones)."""
    learned = load_profile(services.settings.data_dir, profile).learned
    return bool(learned.get("labels") == BODY_LINKS)


def default_lists(
    services: Services, generation: Generation, relevant: Links, published: Any
) -> dict[str, list[str]]:
    """Each source's list by the default ranking (over the pool `collect` draws)."""
    ids = {stored.key: stored.article.id for stored in services.store.iter_articles()}
    defaults = effective_weights(services.settings.weights, published)
    data = collect(generation, relevant, ids, defaults, candidates=services.settings.candidates)
    features = without_popularity(data)
    return {s: ranked_ids(data, features, defaults, i) for i, s in enumerate(data.sources)}


def baseline_document(article: Article) -> str:
    """What the tf-idf baseline reads: the title twice and the body (fixed, so the baseline
    stays the same whatever the service's own signals read)."""
    return f"{article.title}\n{article.title}\n{article.body}"


def _mean(values: Any) -> float:
    items = list(values)
    return round(sum(items) / len(items), 4) if items else 0.0


def write_per_article(evaluation: Evaluation, path: Path) -> None:
    rows = evaluation.per_source
    with path.open("w", newline="", encoding="utf-8") as handle:
        if not rows:
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
