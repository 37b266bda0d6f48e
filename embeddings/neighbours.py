"""Precomputed top-k neighbour lists for every item, so a lookup needs no search.

Lists are two (n, k) arrays, neighbour positions (-1 pads a short list) and their fused scores,
best first; an item is never in its own list. With them come each item's statistics (see
`embeddings.fusion`) and the pairs whose full-text cosine reaches a floor, for near-duplicate
checks. `update_lists` repairs the lists after a change instead of ranking every one anew.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.candidates import candidate_pool
from embeddings.features import Corpus, paired, similarities
from embeddings.fusion import fuse
from embeddings.ranking import Ranked, rank
from embeddings.signals import SIGNALS, STATS_WIDTH, Weights

PositionArray = npt.NDArray[np.int64]
ScoreArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class NeighbourLists:
    """Every item's top-k (scores, positions; -1 pads), each item's statistics against the
    basis, and the pairs whose full-text cosine reaches the duplicate floor (sorted by row)."""

    scores: ScoreArray
    positions: PositionArray
    stats: npt.NDArray[np.float32]
    pair_rows: PositionArray
    pair_cols: PositionArray
    pair_sims: npt.NDArray[np.float32]


@dataclass(frozen=True)
class ListOptions:
    """How lists are ranked: the signal weights; exact search over every row or an approximate
    pool of `candidates` per signal; and the full-text cosine from which a pair is recorded as a
    possible duplicate. One value travels from the build to whichever engine ranks."""

    weights: Weights | None = None
    candidates: int = 100
    exact: bool = True
    pairs_floor: float = 0.5


def _batch_size(n: int) -> int:
    # Each batch holds a few (batch, n) score arrays: keep them near 20M cells.
    return max(1, min(512, 20_000_000 // max(n, 1)))


# A candidate batch gathers (batch, 2C, dimension) vectors: 256 x 400 x 384 floats is 157 MB.
CANDIDATE_BATCH = 256
RANKING_THREADS = min(os.cpu_count() or 1, 8)


def ranked_lists(
    corpus: Corpus,
    rows: PositionArray,
    k: int,
    options: ListOptions = ListOptions(),
    progress: Callable[[int], None] | None = None,
) -> NeighbourLists:
    """Top-k fused neighbours (see embeddings.ranking) of the items at `rows` of `corpus`."""
    count = len(rows)
    scores = np.full((count, k), -np.inf, dtype=np.float32)
    positions = np.full((count, k), -1, dtype=np.int64)
    stats = np.zeros((count, STATS_WIDTH), dtype=np.float32)
    pairs: list[tuple[PositionArray, PositionArray, npt.NDArray[np.float32]]] = []
    step = _batch_size(len(corpus)) if options.exact else CANDIDATE_BATCH
    if not options.exact:
        _ = corpus.postings  # computed once here, not by two threads at once

    def rank_batch(start: int) -> Ranked:
        batch = rows[start : start + step]
        return rank(
            corpus,
            corpus.queries(batch),
            k,
            weights=options.weights,
            candidates=options.candidates,
            exclude=batch,
            exact=options.exact,
            pairs_floor=options.pairs_floor,
        )

    # Batches run on every core: the sparse products, sorts and FAISS searches release the GIL.
    with ThreadPoolExecutor(max_workers=RANKING_THREADS) as pool:
        for start, ranked in zip(
            range(0, count, step), pool.map(rank_batch, range(0, count, step)), strict=True
        ):
            batch = rows[start : start + step]
            scores[start : start + len(batch)] = ranked.scores
            positions[start : start + len(batch)] = ranked.positions
            stats[start : start + len(batch)] = ranked.stats
            assert ranked.text_pairs is not None
            query_index, cols, sims = ranked.text_pairs
            pairs.append((batch[query_index], cols, sims))
            if progress is not None:
                progress(len(batch))
    return NeighbourLists(scores, positions, stats, *_join_pairs(pairs))


def _join_pairs(
    pairs: list[tuple[PositionArray, PositionArray, npt.NDArray[np.float32]]],
) -> tuple[PositionArray, PositionArray, npt.NDArray[np.float32]]:
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    rows = np.concatenate([p[0] for p in pairs])
    cols = np.concatenate([p[1] for p in pairs])
    sims = np.concatenate([p[2] for p in pairs])
    order = np.lexsort((cols, rows))
    return (
        rows[order].astype(np.int64),
        cols[order].astype(np.int64),
        sims[order].astype(np.float32),
    )


def all_ranked_neighbours(corpus: Corpus, k: int, **options: Any) -> NeighbourLists:
    """Top-k fused neighbours of every item of `corpus` (`options`: the fields of ListOptions)."""
    return ranked_lists(corpus, np.arange(len(corpus), dtype=np.int64), k, ListOptions(**options))


def update_lists(
    corpus: Corpus,
    k: int,
    *,
    fresh: npt.NDArray[np.bool_],
    previous: NeighbourLists,
    lost: npt.NDArray[np.bool_],
    options: ListOptions = ListOptions(),
    progress: Callable[[int], None] | None = None,
    ranker: Callable[..., NeighbourLists] = ranked_lists,
) -> tuple[NeighbourLists, int]:
    """Lists of every item after a change, recomputing only what the change touched.

    `fresh` marks new and changed rows; `previous` holds, for the other rows, their lists,
    statistics and pairs from the last build, already mapped to this corpus's positions; `lost`
    marks rows whose old list held an item deleted or changed since. Fresh rows and those are
    ranked from scratch. Every other row's list lost nothing, so its new top-k is the top-k of
    its old list and the fresh rows:
    one (rows x fresh) block of pair scores (the basis is frozen, so a pair's score depends on
    the pair alone). With `exact` False (collections above exact search) lists are ranked from
    candidates, and only the rows among each fresh item's own candidates are offered it, which is
    what a full approximate build would consider. `ranker` ranks the recomputed rows (same
    signature as `ranked_lists`; a distributed build passes its own). Returns the lists and how
    many were recomputed.
    """
    weights = options.weights or Weights()
    exact, candidates = options.exact, options.candidates
    keys = np.asarray(corpus.keys)
    recompute = fresh | lost
    redo = np.nonzero(recompute)[0].astype(np.int64)
    redone = ranker(corpus, redo, k, options, progress=progress)
    scores = previous.scores.copy()
    positions = previous.positions.copy()
    stats = previous.stats.copy()
    scores[redo], positions[redo], stats[redo] = redone.scores, redone.positions, redone.stats

    fresh_rows = np.nonzero(fresh)[0].astype(np.int64)
    keep = np.nonzero(~recompute)[0].astype(np.int64)
    if len(fresh_rows) and len(keep) and not exact:
        _offer_to_candidates(
            corpus, scores, positions, stats, fresh_rows, ~recompute, weights, candidates
        )
    elif len(fresh_rows) and len(keep):
        targets = corpus.take(fresh_rows)
        step = _batch_size(len(fresh_rows) + k)
        for start in range(0, len(keep), step):
            batch = keep[start : start + step]
            found = similarities(corpus.take(batch), targets)
            new_scores = fuse(found, stats[batch], weights)
            offered = np.broadcast_to(fresh_rows, (len(batch), len(fresh_rows)))
            _merge_top(scores, positions, keys, batch, new_scores, offered)
            if progress is not None:
                progress(len(batch))

    # Pairs: the old ones between surviving rows, plus every pair with a fresh row (both ways).
    survived = ~(fresh[previous.pair_rows] | fresh[previous.pair_cols])
    from_fresh = fresh[redone.pair_rows]
    fresh_pairs = [
        (redone.pair_rows[from_fresh], redone.pair_cols[from_fresh], redone.pair_sims[from_fresh]),
        (redone.pair_cols[from_fresh], redone.pair_rows[from_fresh], redone.pair_sims[from_fresh]),
        (previous.pair_rows[survived], previous.pair_cols[survived], previous.pair_sims[survived]),
    ]
    rows, cols, sims = _join_pairs(fresh_pairs)
    unique = np.ones(len(rows), dtype=bool)
    unique[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return NeighbourLists(scores, positions, stats, rows[unique], cols[unique], sims[unique]), len(
        redo
    )


# Pair scores are computed this many at a time: each gathers two vectors and two sparse rows.
PAIR_CHUNK = 100_000


def _offer_to_candidates(
    corpus: Corpus,
    scores: ScoreArray,
    positions: PositionArray,
    stats: npt.NDArray[np.float32],
    fresh_rows: PositionArray,
    open_rows: npt.NDArray[np.bool_],
    weights: Weights,
    candidates: int,
) -> None:
    """Merge each fresh row into the lists (updated in place) of the `open_rows` among its own
    candidates that now rank it above their last entry. Dense and lexical similarity are
    symmetric, so a row that has a fresh item among its candidates is, near enough, among the
    fresh item's candidates: a search per fresh item instead of a pass over every list."""
    keys = np.asarray(corpus.keys)
    targets: list[PositionArray] = []
    offered: list[PositionArray] = []
    for start in range(0, len(fresh_rows), CANDIDATE_BATCH):
        batch = fresh_rows[start : start + CANDIDATE_BATCH]
        pool = candidate_pool(corpus, corpus.queries(batch), candidates)
        row = pool.ravel()
        ok = (row >= 0) & open_rows[np.maximum(row, 0)]
        targets.append(row[ok])
        offered.append(np.repeat(batch, pool.shape[1])[ok])
    target, fresh = np.concatenate(targets), np.concatenate(offered)
    unique = np.unique(np.stack([target, fresh], axis=1), axis=0)
    target, fresh = unique[:, 0], unique[:, 1]
    pair_score = np.empty(len(target), dtype=np.float32)
    for start in range(0, len(target), PAIR_CHUNK):
        a, x = target[start : start + PAIR_CHUNK], fresh[start : start + PAIR_CHUNK]
        left, right = corpus.take(a), corpus.take(x)
        found = {s.name: paired(s, left, right)[:, None] for s in SIGNALS}
        pair_score[start : start + len(a)] = fuse(found, stats[a], weights)[:, 0]

    # One grid row per receiving list: its current entries, then what it is offered.
    rows, first, counts = np.unique(target, return_index=True, return_counts=True)
    width = int(counts.max(initial=0))
    if width == 0:
        return
    column = np.arange(len(target)) - np.repeat(first, counts)
    offer_scores = np.full((len(rows), width), -np.inf, dtype=np.float32)
    offer_positions = np.full((len(rows), width), -1, dtype=np.int64)
    group = np.repeat(np.arange(len(rows)), counts)
    offer_scores[group, column] = pair_score
    offer_positions[group, column] = fresh
    _merge_top(scores, positions, keys, rows, offer_scores, offer_positions)


def _merge_top(
    scores: ScoreArray,
    positions: PositionArray,
    keys: npt.NDArray[np.int64],
    rows: PositionArray,
    offer_scores: ScoreArray,
    offer_positions: PositionArray,
) -> None:
    """Lists `rows` become the top-k of themselves and the offers (ties by key), in place."""
    k = scores.shape[1]
    cand_scores = np.concatenate([scores[rows], offer_scores], axis=1)
    cand_positions = np.concatenate([positions[rows], offer_positions], axis=1)
    cand_scores = np.where(cand_positions >= 0, cand_scores, -np.inf)
    cand_keys = np.where(
        cand_positions >= 0, keys[np.maximum(cand_positions, 0)], np.iinfo(np.int64).max
    )
    order = np.lexsort((cand_keys, -cand_scores), axis=1)[:, :k]
    chosen = np.take_along_axis(cand_scores, order, axis=1)
    scores[rows] = chosen
    positions[rows] = np.where(
        np.isfinite(chosen), np.take_along_axis(cand_positions, order, axis=1), -1
    )
