"""Incremental builds: carry the previous generation over to the new set of articles.

A generation fits its lexical models and its statistics basis once (a full build) and keeps
them frozen while articles come and go, so a pair's score never depends on the rest of the
collection. An incremental build then re-uses every unchanged article's vectors, lexical rows,
statistics, neighbour list and duplicate pairs, and `embeddings.neighbours.update_lists` ranks
only the new and changed articles and the lists that lost an entry. The result equals ranking
every list from scratch with the same basis.

`plan_build` decides: it returns what can be carried over (`Carried`), or why the build must be
full (`FullBuild`).

What drifts is the frozen fit itself: a full build over the same articles fits its lexical
models (the vocabulary and its document frequencies, which new articles' own words are missing
from) and its statistics basis on all of them, so its lists differ from the incremental ones
(auth0_blog: 3.2 to 4.3% of top-5 entries after 5% growth). Refitting either moves every score, which
is what a full build costs; so the build estimates the drift from the share of articles changed
since the fit (`list_drift`) and builds in full once the estimate passes RELATED_MAX_DRIFT
(2%): a served list then stays within that bound of what a full build would give.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.features import Corpus
from embeddings.index import VectorIndex
from embeddings.neighbours import ListOptions, NeighbourLists, update_lists
from embeddings.signals import SPARSE_SIGNALS, STATS_WIDTH, Weights
from service.build.report import BuildReport
from service.build.steps import (
    DUPLICATE_FLOOR,
    ArticlesRead,
    Job,
    Ranked,
    cached_vectors,
    commit_generation,
    encode_missing,
    fingerprint,
)
from service.config.settings import Settings
from service.generations.generation import Generation
from service.generations.parts import INDEX_FILE
from service.quality.profiles import Profile

DRIFT_PER_CHANGE = 2.0
"""Share of top-5 entries an incremental build's lists differ from a full build's, per share
of the fitted articles changed since the fit, rounded up from what was measured (the estimate
must not undershoot): 0.64 to 0.86 on auth0_blog (200 posts built, 10 more ingested: 3.2% of
entries differed, bench/bench_drift.py; 4.3% in issue 22's probe) and up to 1.6 on the bundled
sample (one article added to 65: 2.4%; tests/test_drift.py checks the estimate there)."""


def list_drift(changed: int, fitted_rows: int) -> float:
    """The estimated share of top-5 entries that differ from what a full build would rank, after
    `changed` articles were added, changed or deleted since `fitted_rows` were fitted."""
    return min(1.0, DRIFT_PER_CHANGE * changed / max(fitted_rows, 1))


@dataclass(frozen=True)
class FullBuild:
    why: str

    def rows_to_read(self, count: int) -> npt.NDArray[np.int64]:
        return np.arange(count, dtype=np.int64)


@dataclass(frozen=True)
class Carried:
    """The previous generation's state, laid out on the new rows (key order)."""

    previous: Generation
    fresh: npt.NDArray[np.bool_]
    """New or changed rows: everything about them is computed anew."""
    lost: npt.NDArray[np.bool_]
    """Unchanged rows whose list held a deleted or changed article."""
    old_rows: npt.NDArray[np.int64]
    """For each new row, its row in the previous generation (-1 when fresh)."""
    new_of_old: npt.NDArray[np.int64]
    """For each previous row, its new row (-1: deleted or changed)."""
    lists: NeighbourLists
    """The previous lists, statistics and duplicate pairs of the surviving rows."""
    removed: int

    def rows_to_read(self, count: int) -> npt.NDArray[np.int64]:
        return np.nonzero(self.fresh)[0].astype(np.int64)


def plan_build(
    settings: Settings,
    previous: Generation | None,
    keys: npt.NDArray[np.int64],
    changed: set[int],
    *,
    full: bool,
    profile: Profile | None = None,
) -> Carried | FullBuild:
    """What the new build can carry over from `previous`, or why it must be full."""
    if full:
        return FullBuild("asked for (--full)")
    if previous is None:
        return FullBuild("there is no previous generation")
    manifest = previous.manifest
    k = min(settings.neighbours, max(len(keys) - 1, 1))
    wanted = fingerprint(settings, profile)
    if manifest.fingerprint.get("ranking_version") != wanted["ranking_version"]:
        return FullBuild(
            f"the ranking formula changed since the last build (version "
            f"{manifest.fingerprint.get('ranking_version')}, now {wanted['ranking_version']})"
        )
    if manifest.fingerprint.get("profile") != wanted["profile"]:
        return FullBuild(
            f"the ranking profile changed since the last build "
            f"({manifest.fingerprint.get('profile') or 'defaults'} -> {wanted['profile'] or 'defaults'})"
        )
    if manifest.fingerprint != wanted:
        return FullBuild("settings that shape the lists changed since the last build")
    if manifest.exact != (len(keys) <= settings.exact_max):
        return FullBuild(
            "the collection crossed RELATED_EXACT_MAX (exact search on one side, HNSW on the other)"
        )
    if manifest.neighbours != k:
        return FullBuild("the neighbour list length changed")
    old_keys = np.asarray(previous.parts.keys)
    old_rows = np.searchsorted(old_keys, keys)
    old_rows = np.where(
        (old_rows < len(old_keys)) & (old_keys[np.minimum(old_rows, len(old_keys) - 1)] == keys),
        old_rows,
        -1,
    )
    fresh = (old_rows < 0) | np.isin(keys, np.fromiter(changed, dtype=np.int64, count=len(changed)))
    old_rows = np.where(fresh, -1, old_rows).astype(np.int64)
    surviving_old = np.zeros(len(old_keys), dtype=bool)
    surviving_old[old_rows[old_rows >= 0]] = True
    removed = int((~surviving_old).sum())
    drift = manifest.fit.changed_since + int(fresh.sum()) + removed
    if drift > settings.refit_fraction * max(manifest.fit.rows, 1):
        return FullBuild(
            f"{drift} articles changed since the lexical models were fitted "
            f"(refit above {settings.refit_fraction:.0%})"
        )
    estimate = list_drift(drift, manifest.fit.rows)
    if estimate > settings.max_drift:
        return FullBuild(
            f"{drift} articles changed since the last fit: the lists would differ from a full "
            f"build's by about {estimate:.1%} of their top-5 entries (RELATED_MAX_DRIFT "
            f"{settings.max_drift:.0%})"
        )

    # Old row -> new row for the survivors, -1 for the removed.
    new_of_old = np.full(len(old_keys), -1, dtype=np.int64)
    new_of_old[old_rows[old_rows >= 0]] = np.nonzero(old_rows >= 0)[0]
    n = len(keys)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    positions = np.full((n, k), -1, dtype=np.int64)
    stats = np.zeros((n, STATS_WIDTH), dtype=np.float32)
    kept = np.nonzero(old_rows >= 0)[0]
    old_positions = previous.neighbour_positions()[old_rows[kept]]
    mapped = np.where(old_positions >= 0, new_of_old[np.maximum(old_positions, 0)], -1)
    lost = np.zeros(n, dtype=bool)
    lost[kept] = ((old_positions >= 0) & (mapped < 0)).any(axis=1)
    scores[kept] = np.asarray(previous.parts.neighbour_scores)[old_rows[kept]]
    positions[kept] = mapped
    stats[kept] = np.asarray(previous.parts.stats)[old_rows[kept]]

    parts = previous.parts
    pair_rows, pair_cols, pair_sims = (
        np.asarray(a) for a in (parts.duplicate_rows, parts.duplicate_cols, parts.duplicate_sims)
    )
    both = (new_of_old[pair_rows] >= 0) & (new_of_old[pair_cols] >= 0)
    lists = NeighbourLists(
        scores,
        positions,
        stats,
        new_of_old[pair_rows[both]],
        new_of_old[pair_cols[both]],
        pair_sims[both],
    )
    return Carried(previous, fresh, lost, old_rows, new_of_old, lists, removed)


def incremental_build(job: Job, read: ArticlesRead, plan: Carried) -> BuildReport:
    """Carry `plan.previous` over: `read` holds the fresh rows' articles, in key order."""
    settings, previous, keys = job.settings, plan.previous, job.keys
    encoded = encode_missing(job, read)

    parts = previous.parts
    dimension = parts.index.dimension
    vectors = carried(plan, parts.vectors, cached_vectors(job, read.hashes, dimension))
    published = carried(plan, parts.published, np.asarray(read.published, dtype=np.float64))
    langs = carried(plan, parts.langs, np.asarray(read.langs, dtype=str))
    popularity = carried(plan, parts.scalars["popularity"], job.popularity(read.ids))

    job.progress("indexing", 0, len(keys))
    index = (
        VectorIndex.build(vectors, job.index_settings())
        if job.exact
        else _extend_index(previous, plan, vectors)
    )
    models = previous.parts.models
    matrices = {
        s.name: carry_rows(
            previous.parts.matrices[s.name],
            models[s.name].transform(read.documents[s.name]),
            plan.old_rows,
        )
        for s in SPARSE_SIGNALS
    }
    scalars = {"age": published, "popularity": popularity}
    corpus = Corpus(vectors, matrices, scalars, index=index, keys=keys, basis=previous.corpus.basis)
    weights = Weights(previous.manifest.ranking.weights)  # frozen with the basis
    ranking = job.counter("neighbours", len(keys))
    ranking(0)  # the phase starts now, not when its first batch is done
    lists, recomputed = update_lists(
        corpus,
        job.k,
        fresh=plan.fresh,
        previous=plan.lists,
        lost=plan.lost,
        options=ListOptions(weights, settings.candidates, job.exact, DUPLICATE_FLOOR),
        progress=ranking,
        ranker=job.engine.rank,
    )
    fit = previous.manifest.fit
    changes = int(plan.fresh.sum()) + plan.removed
    return commit_generation(
        job,
        Ranked(
            mode="incremental",
            full_because=None,
            corpus=corpus,
            models=models,
            lists=lists,
            published=published,
            langs=langs,
            fit=replace(fit, changed_since=fit.changed_since + changes),
            chrome=previous.parts.chrome,
            weights=weights,
            recomputed=recomputed,
            encoded=encoded,
            current_hashes=None,  # only a full build read every article
        ),
    )


def carried(plan: Carried, old: npt.ArrayLike, fresh: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A per-row array in the new row order: the previous generation's values for kept rows,
    `fresh` (in key order) for new and changed ones."""
    old = np.asarray(old)
    kept = np.nonzero(~plan.fresh)[0]
    result = np.empty((len(plan.fresh), *old.shape[1:]), dtype=np.result_type(old, fresh))
    result[kept] = old[plan.old_rows[kept]]
    result[np.nonzero(plan.fresh)[0]] = fresh
    return result


def _extend_index(
    previous: Generation, plan: Carried, vectors: npt.NDArray[np.float32]
) -> VectorIndex:
    """The previous HNSW graph with the fresh rows added and every stored vector readdressed to
    its new row: proportional to the change, where a rebuild costs minutes at a million rows."""
    index = VectorIndex.load(previous.path / INDEX_FILE, mmap=False)
    stored = index.rows if index.rows is not None else np.arange(len(index), dtype=np.int64)
    rows = np.where(stored >= 0, plan.new_of_old[np.maximum(stored, 0)], -1)
    fresh_rows = np.nonzero(plan.fresh)[0].astype(np.int64)
    return index.extended(rows, vectors[fresh_rows], fresh_rows)


def carry_rows(
    old: sp.csr_matrix, fresh: sp.csr_matrix, old_rows: npt.NDArray[np.int64]
) -> sp.csr_matrix:
    """Rows in new order: old matrix rows where old_rows >= 0, else the next row of `fresh`."""
    is_old = old_rows >= 0
    stacked = sp.vstack([old[old_rows[is_old]], fresh]).tocsr()
    order = np.empty(len(old_rows), dtype=np.int64)
    order[is_old] = np.arange(int(is_old.sum()))
    order[~is_old] = int(is_old.sum()) + np.arange(int((~is_old).sum()))
    result: sp.csr_matrix = stacked[order]
    return result
