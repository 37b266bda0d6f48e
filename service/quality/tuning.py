"""Learning the ranking from a site's curated links, and scoring what was learned honestly.

For every source article with curated links, its candidates are its top `pool` articles by the
default ranking (which finds nearly all curated links: they are what the learned ranking can
reorder). Each (source, candidate) pair is described by its signals' z-scores, the same numbers
the fused score adds up, the popularity prior included: how often the candidate is linked by
*other* sources' curated lists. A logistic regression (classes balanced) learns how much each
signal says about "an editor linked this"; its coefficients, rescaled to the defaults' total
weight, are the learned weights. So a profile stays a fusion of z-scores: 0 is still a typical
article, scores stay comparable, and incremental builds still work.

`cross_validate` never scores a source with weights learned from its own links: sources are
split into folds, each fold is ranked by weights (and popularity) learned on the others, and
nDCG@10 is averaged out of fold, for the defaults and the learned weights alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from embeddings.features import similarities
from embeddings.fusion import zscores
from embeddings.metrics import ndcg_at_k
from embeddings.ranking import rank
from embeddings.signals import RANKING_VERSION, SIGNALS, Weights
from service.editorial.link_files import Links
from service.generations.generation import Generation
from service.quality.profiles import Profile, new_profile_name

POOL = 200
"""Candidates per source that a learned ranking may reorder."""
POPULARITY = [s.name for s in SIGNALS].index("popularity")
CUTOFF = 10


@dataclass(frozen=True)
class TrainingData:
    """Pools and features for the sources of some curated links."""

    sources: list[str]
    pool: npt.NDArray[np.int64]
    """(sources, pool) generation rows, -1 pads."""
    features: npt.NDArray[np.float64]
    """(sources, pool, signals) z-scores; the popularity column is filled per fold."""
    relevant: list[dict[int, float]]
    """Per source: generation row -> gain, for its curated targets that are indexed."""
    ids: npt.NDArray[np.str_]
    """Article id of each generation row."""
    basis_rows: npt.NDArray[np.int64]
    """Generation rows of the statistics basis (popularity is standardised over them)."""


def collect(
    generation: Generation,
    links: Links,
    ids: Mapping[int, str],
    weights: Weights,
    *,
    pool: int = POOL,
    candidates: int = 100,
    progress: Callable[[int], None] | None = None,
) -> TrainingData:
    """Pools and features of the sources of `links` that are indexed and have an indexed
    target; `ids` maps store keys to article ids."""
    keys = np.asarray(generation.parts.keys)
    row_ids = np.asarray([ids.get(int(k), "") for k in keys])
    row_of = {article_id: row for row, article_id in enumerate(row_ids) if article_id}
    sources, relevant = [], []
    for source, targets in links.items():
        found = {row_of[t]: g for t, g in targets.items() if t in row_of and t != source}
        if source in row_of and found:
            sources.append(source)
            relevant.append(found)
    corpus = generation.corpus
    size = min(pool, len(keys) - 1)
    rows = np.asarray([row_of[s] for s in sources], dtype=np.int64)
    pools, features = [], []
    for start in range(0, len(rows), 256):
        batch = rows[start : start + 256]
        queries = corpus.queries(batch)
        ranked = rank(
            corpus,
            queries,
            size,
            weights=weights,
            candidates=max(candidates, size),
            exclude=batch,
            exact=generation.manifest.exact,
        )
        positions = ranked.positions
        sims = similarities(queries, corpus, np.maximum(positions, 0))
        columns = [zscores(sims[s.name], ranked.stats, i) for i, s in enumerate(SIGNALS)]
        pools.append(positions)
        features.append(np.stack(columns, axis=2))
        if progress is not None:
            progress(len(batch))
    basis_rows = np.searchsorted(keys, np.asarray(corpus.basis.keys))
    return TrainingData(
        sources,
        np.concatenate(pools) if pools else np.zeros((0, size), np.int64),
        np.concatenate(features) if features else np.zeros((0, size, len(SIGNALS))),
        relevant,
        row_ids,
        np.clip(basis_rows, 0, len(keys) - 1),
    )


def link_counts(links: Links, sources: list[str] | None = None) -> dict[str, int]:
    """How many curated lists (of `sources`, or all) link each article."""
    counts: dict[str, int] = {}
    chosen = links if sources is None else {s: links[s] for s in sources if s in links}
    for targets in chosen.values():
        for target in targets:
            counts[target] = counts.get(target, 0) + 1
    return counts


def with_popularity(data: TrainingData, counts: Mapping[str, int]) -> npt.NDArray[np.float64]:
    """The features with the popularity column from `counts`, standardised over the basis."""
    prior = np.log1p(np.asarray([counts.get(i, 0) for i in data.ids], dtype=np.float64))
    reference = prior[data.basis_rows]
    spread = float(reference.std())
    features = data.features.copy()
    z = (prior - reference.mean()) / spread if spread > 1e-9 else np.zeros_like(prior)
    features[:, :, POPULARITY] = np.where(data.pool >= 0, z[np.maximum(data.pool, 0)], 0.0)
    return features


def without_popularity(data: TrainingData) -> npt.NDArray[np.float64]:
    """The features with the popularity column zeroed (the defaults give it no weight)."""
    features = data.features.copy()
    features[:, :, POPULARITY] = 0.0
    return features


def fit(
    data: TrainingData,
    features: npt.NDArray[np.float64],
    chosen: npt.NDArray[np.bool_],
    scale: float,
) -> Weights:
    """Weights learned on the sources `chosen`, rescaled to a total of `scale`."""
    from sklearn.linear_model import LogisticRegression

    valid = data.pool[chosen] >= 0
    x = features[chosen][valid]
    y = labels(data, chosen)[valid]
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError("the chosen sources hold no curated link among their candidates")
    mean, spread = x.mean(axis=0), x.std(axis=0)
    usable = spread > 1e-9
    model = LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced")
    model.fit((x[:, usable] - mean[usable]) / spread[usable], y)
    weights = np.zeros(len(SIGNALS))
    weights[usable] = model.coef_[0] / spread[usable]
    total = float(np.abs(weights).sum())
    weights = weights * (scale / total) if total > 0 else weights
    return Weights({s.name: round(float(w), 4) for s, w in zip(SIGNALS, weights, strict=True)})


def labels(data: TrainingData, chosen: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    sources = np.nonzero(chosen)[0]
    return np.asarray(
        [[1.0 if int(row) in data.relevant[i] else 0.0 for row in data.pool[i]] for i in sources]
    )


def ranked_ids(
    data: TrainingData, features: npt.NDArray[np.float64], weights: Weights, source: int
) -> list[str]:
    """The source's candidates ordered by `weights`, as article ids."""
    vector = np.asarray([weights[s.name] for s in SIGNALS])
    scores = np.where(data.pool[source] >= 0, features[source] @ vector, -np.inf)
    order = np.argsort(-scores, kind="stable")
    return [str(data.ids[data.pool[source][i]]) for i in order if np.isfinite(scores[i])]


SHRINKAGE = (0.25, 0.5, 0.75, 1.0)
"""How far a learned ranking may move from the defaults: (1 - s) x defaults + s x learned."""
INNER_FOLDS = 3


@dataclass(frozen=True)
class Choice:
    """What the inner cross-validation picked: how far to move from the defaults, and whether
    the popularity prior is worth its noise (it needs many links to be estimated)."""

    shrinkage: float
    popularity: bool

    def describe(self) -> str:
        if self.shrinkage == 0:
            return "the defaults (nothing learned beat them)"
        prior = "with" if self.popularity else "without"
        return f"{self.shrinkage:.0%} of the way to the learned weights, {prior} popularity"


DEFAULTS_CHOICE = Choice(0.0, False)


def fit_chosen(
    data: TrainingData,
    links: Links,
    defaults: Weights,
    chosen: npt.NDArray[np.bool_],
    choice: Choice,
    scale: float,
) -> tuple[Weights, npt.NDArray[np.float64]]:
    """The weights `choice` gives when learned on the sources `chosen`, and the features they
    rank with (popularity counted from those sources' links, or zeroed)."""
    sources = [data.sources[i] for i in np.nonzero(chosen)[0]]
    features = with_popularity(data, link_counts(links, sources))
    if not choice.popularity:
        features[:, :, POPULARITY] = 0.0
    if choice.shrinkage == 0:
        return defaults, features
    learned = fit(data, features, chosen, scale)
    blend = {
        s.name: round(
            (1 - choice.shrinkage) * defaults[s.name] + choice.shrinkage * learned[s.name], 4
        )
        for s in SIGNALS
    }
    return Weights(blend), features


def select(
    data: TrainingData, links: Links, defaults: Weights, chosen: npt.NDArray[np.bool_], scale: float
) -> Choice:
    """The choice that ranks best in an inner cross-validation over the sources `chosen`; the
    defaults unless something beats them there."""
    indices = np.nonzero(chosen)[0]
    if len(indices) < 2 * INNER_FOLDS:
        return DEFAULTS_CHOICE
    fold_of = np.random.default_rng(1).permutation(len(indices)) % INNER_FOLDS
    grid = [Choice(s, p) for s in SHRINKAGE for p in (True, False)]
    totals = dict.fromkeys([DEFAULTS_CHOICE, *grid], 0.0)
    for fold in range(INNER_FOLDS):
        train = np.zeros(len(data.sources), dtype=bool)
        train[indices[fold_of != fold]] = True
        test = indices[fold_of == fold]
        for choice in totals:
            try:
                weights, features = fit_chosen(data, links, defaults, train, choice, scale)
            except ValueError:
                totals[choice] = -np.inf
                continue
            totals[choice] += sum(source_ndcg(data, features, weights, int(i)) for i in test)
    best = max(grid, key=lambda c: (totals[c], -c.shrinkage))
    return best if totals[best] > totals[DEFAULTS_CHOICE] else DEFAULTS_CHOICE


def source_ndcg(
    data: TrainingData, features: npt.NDArray[np.float64], weights: Weights, source: int
) -> float:
    gains = {str(data.ids[r]): g for r, g in data.relevant[source].items()}
    return ndcg_at_k(ranked_ids(data, features, weights, source), gains, CUTOFF)


@dataclass(frozen=True)
class CrossValidation:
    folds: int
    defaults: float
    """Mean nDCG@10 of the defaults over every source (they learn nothing)."""
    tuned: float
    """Mean nDCG@10 out of fold: each source ranked by what was learned without it."""
    fold_weights: list[Weights]
    fold_choices: list[Choice]
    defaults_lists: dict[str, list[str]]
    tuned_lists: dict[str, list[str]]


def cross_validate(
    data: TrainingData,
    links: Links,
    defaults: Weights,
    *,
    folds: int = 5,
    seed: int = 0,
    scale: float = 2.5,
) -> CrossValidation:
    """Out-of-fold nDCG@10 of the defaults and of learning (folds grouped by source; what to
    learn is chosen inside each fold, on its training sources only)."""
    count = len(data.sources)
    if count < 2 * folds:
        raise ValueError(f"{count} sources with curated links: too few for {folds} folds")
    fold_of = np.random.default_rng(seed).permutation(count) % folds
    defaults_lists: dict[str, list[str]] = {}
    tuned_lists: dict[str, list[str]] = {}
    learned, choices = [], []
    for fold in range(folds):
        train = fold_of != fold
        choice = select(data, links, defaults, train, scale)
        weights, features = fit_chosen(data, links, defaults, train, choice, scale)
        learned.append(weights)
        choices.append(choice)
        for i in np.nonzero(~train)[0]:
            tuned_lists[data.sources[i]] = ranked_ids(data, features, weights, int(i))
            defaults_lists[data.sources[i]] = ranked_ids(data, features, defaults, int(i))
    return CrossValidation(
        folds,
        mean_ndcg(data, defaults_lists),
        mean_ndcg(data, tuned_lists),
        learned,
        choices,
        defaults_lists,
        tuned_lists,
    )


def mean_ndcg(data: TrainingData, lists: Mapping[str, list[str]]) -> float:
    """Mean nDCG@10 over the sources, against their indexed curated targets."""
    values = [
        ndcg_at_k(lists[source], {str(data.ids[r]): g for r, g in data.relevant[i].items()}, CUTOFF)
        for i, source in enumerate(data.sources)
    ]
    return float(np.mean(values)) if values else 0.0


def learn(
    data: TrainingData,
    links: Links,
    defaults: Weights,
    *,
    folds: int = 5,
    scale: float = 2.5,
    labels: str = "curated",
) -> tuple[Profile, CrossValidation]:
    """A profile learned on every source, and how learning fares out of fold; `labels` says
    what the links are (`service.quality.body_links.LABEL_SOURCES`)."""
    check = cross_validate(data, links, defaults, folds=folds, scale=scale)
    everything = np.ones(len(data.sources), dtype=bool)
    choice = select(data, links, defaults, everything, scale)
    weights, _ = fit_chosen(data, links, defaults, everything, choice, scale)
    profile = Profile(
        name=new_profile_name(),
        weights=dict(weights),
        popularity=link_counts(links) if choice.popularity else {},
        learned={
            "ranking_version": RANKING_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "labels": labels,
            "sources": len(data.sources),
            "links": sum(len(r) for r in data.relevant),
            "pool": int(data.pool.shape[1]),
            "folds": folds,
            "ndcg@10 defaults": round(check.defaults, 4),
            "ndcg@10 tuned, out of fold": round(check.tuned, 4),
            "defaults": dict(defaults),
            "choice": choice.describe(),
            "fold choices": [c.describe() for c in check.fold_choices],
        },
    )
    return profile, check
