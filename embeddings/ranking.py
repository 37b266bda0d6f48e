"""Ranking: the fused top-k of a corpus for a batch of queries (see `embeddings.fusion`).

Exact mode scores every row: (queries x rows) products, quadratic over a whole collection.
Otherwise only each query's candidates (`embeddings.candidates`) are scored, exactly. A filter
(`allowed`) applies before the cut, so lists stay full while enough rows match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from embeddings.candidates import candidate_pool
from embeddings.features import Corpus, FloatArray, PositionArray, Queries, similarities
from embeddings.fusion import fuse, query_stats
from embeddings.signals import TEXT_SIGNAL, Weights

FILTERED_WIDENING = 4
"""A filtered search above exact ranking looks at this many times the usual candidates."""


@dataclass(frozen=True)
class Ranked:
    """Top-k per query: fused scores, positions (-1 pads), and each query's statistics."""

    scores: FloatArray
    positions: PositionArray
    stats: FloatArray
    """(n_queries, STATS_WIDTH): mean and standard deviation of each signal over the basis."""
    text_pairs: tuple[PositionArray, PositionArray, FloatArray] | None = None
    """(query index, position, full-text cosine) of every row at or above `pairs_floor`."""


@dataclass(frozen=True)
class _Scored:
    """Each query's pool of rows (-1 pads), their fused scores and full-text cosines."""

    pool: PositionArray
    fused: FloatArray
    text: FloatArray

    def take(self, columns: PositionArray) -> _Scored:
        return _Scored(
            np.take_along_axis(self.pool, columns, axis=1),
            np.take_along_axis(self.fused, columns, axis=1),
            np.take_along_axis(self.text, columns, axis=1),
        )


def rank(
    corpus: Corpus,
    queries: Queries,
    k: int,
    *,
    weights: Weights | None = None,
    candidates: int = 100,
    exclude: PositionArray | None = None,
    allowed: npt.NDArray[np.bool_] | None = None,
    exact: bool = False,
    pairs_floor: float | None = None,
    stats: FloatArray | None = None,
) -> Ranked:
    """Fused top-k of the corpus for each query.

    `exclude[i]` is a position never returned for query i (its own row, or -1); `allowed` masks
    the rows any query may return (filters), applied before the cut so lists stay full. With
    `pairs_floor`, also every row whose full-text cosine with the query reaches it. `stats`
    are the queries' statistics when the caller already has them.
    """
    weights = weights or Weights()
    b = len(queries)
    exclude = np.full(b, -1, dtype=np.int64) if exclude is None else exclude
    stats = query_stats(corpus.basis, queries) if stats is None else stats
    scored = None
    if not exact:
        # A filter keeps a fraction of any pool: widen it, and score every row only when the
        # filter is so narrow that even the wider pool comes up short.
        width = candidates if allowed is None else FILTERED_WIDENING * candidates
        scored = _score_candidates(corpus, queries, stats, weights, exclude, width, allowed)
        if allowed is not None and (np.isfinite(scored.fused).sum(axis=1) < k).any():
            scored = None
    if scored is None:
        scored = _score_every_row(corpus, queries, stats, weights, exclude, allowed)
        if not exact:  # filtered but approximate elsewhere: cut to the same pool size
            scored = scored.take(_top_columns(scored.fused, 2 * candidates))

    pool_keys = np.asarray(corpus.keys)[np.maximum(scored.pool, 0)]
    order = np.lexsort((pool_keys, -scored.fused), axis=1)[:, :k]
    pad = ((0, 0), (0, k - order.shape[1]))
    scores = np.pad(np.take_along_axis(scored.fused, order, axis=1), pad, constant_values=-np.inf)
    positions = np.pad(np.take_along_axis(scored.pool, order, axis=1), pad, constant_values=-1)
    positions = np.where(np.isfinite(scores), positions, -1)

    text_pairs = None
    if pairs_floor is not None:
        pool, text = scored.pool, scored.text
        close = (text >= pairs_floor) & (pool >= 0) & (pool != exclude[:, None])
        query_index, column = np.nonzero(close)
        text_pairs = (
            query_index.astype(np.int64),
            pool[query_index, column].astype(np.int64),
            text[query_index, column].astype(np.float32),
        )
    return Ranked(scores.astype(np.float32), positions.astype(np.int64), stats, text_pairs)


def _top_columns(scores: FloatArray, count: int) -> PositionArray:
    count = min(count, scores.shape[1])
    part = np.argpartition(-scores, count - 1, axis=1)[:, :count]
    return part.astype(np.int64)


def _score_every_row(
    corpus: Corpus,
    queries: Queries,
    stats: FloatArray,
    weights: Weights,
    exclude: PositionArray,
    allowed: npt.NDArray[np.bool_] | None,
) -> _Scored:
    """Every row scored, blocked rows at -inf."""
    n, b = len(corpus), len(queries)
    found = similarities(queries, corpus)
    blocked = blocked_self(exclude, n)
    if allowed is not None:
        blocked |= ~allowed[None, :]
    fused = np.where(blocked, -np.inf, fuse(found, stats, weights))
    pool = np.broadcast_to(np.arange(n, dtype=np.int64), (b, n))
    return _Scored(pool, fused, found[TEXT_SIGNAL])


def _score_candidates(
    corpus: Corpus,
    queries: Queries,
    stats: FloatArray,
    weights: Weights,
    exclude: PositionArray,
    candidates: int,
    allowed: npt.NDArray[np.bool_] | None,
) -> _Scored:
    """Each query's candidates scored; invalid entries (repeats, the query itself, rows
    `allowed` rules out) at -inf with position -1."""
    pool = candidate_pool(corpus, queries, candidates)
    valid = (pool >= 0) & (pool != exclude[:, None])
    valid[:, 1:] &= pool[:, 1:] != pool[:, :-1]  # the pool is sorted: repeats are adjacent
    if allowed is not None:
        valid &= allowed[np.maximum(pool, 0)]
    found = similarities(queries, corpus, np.maximum(pool, 0))
    fused = np.where(valid, fuse(found, stats, weights), -np.inf)
    return _Scored(np.where(valid, pool, -1), fused, found[TEXT_SIGNAL])


def blocked_self(exclude: PositionArray, n: int) -> npt.NDArray[np.bool_]:
    """(len(exclude), n) mask that is True at each query's own position."""
    mask = np.zeros((len(exclude), n), dtype=bool)
    valid = exclude >= 0
    mask[np.nonzero(valid)[0], exclude[valid]] = True
    return mask
