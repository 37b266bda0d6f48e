"""Hybrid ranking: dense, lexical and label similarity, standardised per query and summed.

Raw similarities of different kinds live on different scales (a dense cosine of 0.5 is
ordinary, a tf-idf cosine of 0.5 is remarkable), and the scales differ between corpora. So each
signal is turned into a z-score against the query's own score distribution over a frozen
reference sample of the collection, the `Basis`, and the z-scores are summed with weights: how
many standard deviations above a typical article a candidate stands, by each kind of evidence.
A signal that is flat for a query (an article without tags) contributes 0.

Because the basis is frozen between full builds, the score of a pair depends on the two items
and nothing else: adding or removing other items never changes it, which is what lets lists be
repaired incrementally and still equal a full recomputation.

Exact mode scores every row: (queries x rows) products, quadratic over a whole collection.
Otherwise each query gets candidates, the union of its dense top-C (the FAISS index, HNSW on
large collections) and its lexical top-C, and only those pairs are scored, exactly. The lexical
top-C come from the query's strongest terms looked up in the term -> rows postings (what a
search engine's inverted index does), which costs the length of a few postings lists rather than
a pass over every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.index import VectorIndex

FloatArray = npt.NDArray[np.float32]
PositionArray = npt.NDArray[np.int64]
KeyArray = npt.NDArray[np.int64]
BASIS_SIZE = 2000
QUERY_TERMS = 64
LONG_ROW = 50_000
FILTERED_WIDENING = 4
"""A filtered search above exact ranking looks at this many times the usual candidates."""
"""Terms of a query looked up for lexical candidates: the strongest carry most of a cosine (the
same idea as More Like This's max_query_terms), and rare terms have short postings."""
SIGNALS = ("dense", "lexical", "labels")


@dataclass(frozen=True)
class Weights:
    dense: float = 1.0
    lexical: float = 1.0
    labels: float = 0.5


@dataclass(frozen=True)
class Basis:
    """The reference sample every query is standardised against, with its own copies of the
    sampled rows (so deleting a sampled item later changes nothing)."""

    keys: KeyArray
    vectors: FloatArray
    text: sp.csr_matrix
    labels: sp.csr_matrix

    @classmethod
    def sample(
        cls,
        keys: KeyArray,
        vectors: FloatArray,
        text: sp.csr_matrix,
        labels: sp.csr_matrix,
        size: int = BASIS_SIZE,
        seed: int = 0,
    ) -> Basis:
        """All rows of small collections; a fixed random sample of `size` rows of large ones."""
        n = len(keys)
        rows = (
            np.arange(n)
            if n <= size
            else np.sort(np.random.default_rng(seed).choice(n, size, replace=False))
        )
        return cls(
            np.asarray(keys)[rows].astype(np.int64),
            np.ascontiguousarray(np.asarray(vectors)[rows], dtype=np.float32),
            sp.csr_matrix(text[rows]),
            sp.csr_matrix(labels[rows]),
        )


@dataclass(frozen=True)
class Corpus:
    """What queries are ranked against; row i of every part is the same item (keys[i])."""

    index: VectorIndex
    keys: KeyArray
    vectors: FloatArray
    text: sp.csr_matrix
    labels: sp.csr_matrix
    basis: Basis
    stored_postings: sp.csr_matrix | None = None
    """`postings` as a generation stored them; computed on first use when absent."""

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @cached_property
    def postings(self) -> sp.csr_matrix:
        """The text matrix transposed, (terms x rows): the rows holding each term, so a query
        costs the length of its terms' postings, not a pass over every row."""
        if self.stored_postings is not None:
            return self.stored_postings
        return sp.csr_matrix(self.text.T, dtype=np.float32)


@dataclass(frozen=True)
class Queries:
    vectors: FloatArray
    text: sp.csr_matrix
    labels: sp.csr_matrix
    keys: KeyArray | None = None
    """Each query's own key (-1: not in the collection), left out of its statistics."""

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def own_keys(self) -> KeyArray:
        return self.keys if self.keys is not None else np.full(len(self), -1, dtype=np.int64)


@dataclass(frozen=True)
class Ranked:
    """Top-k per query: fused scores, positions (-1 pads), and each query's statistics."""

    scores: FloatArray
    positions: PositionArray
    stats: FloatArray
    """(n_queries, 6): mean and standard deviation of dense, lexical and label similarity."""
    text_pairs: tuple[PositionArray, PositionArray, FloatArray] | None = None
    """(query index, position, full-text cosine) of every row at or above `pairs_floor`."""


def _dense_product(a: sp.csr_matrix, b: sp.csr_matrix) -> FloatArray:
    product: FloatArray = np.asarray((a @ b.T).todense(), dtype=np.float32)
    return product


def query_stats(basis: Basis, queries: Queries) -> FloatArray:
    """Mean and spread of each signal over the basis, per query (its own key left out: its
    self-similarity would inflate both)."""
    own = basis.keys[None, :] == queries.own_keys()[:, None]
    weight = (~own).astype(np.float64)
    count = np.maximum(weight.sum(axis=1), 1.0)
    columns = []
    for values in (
        queries.vectors @ basis.vectors.T,
        _dense_product(queries.text, basis.text),
        _dense_product(queries.labels, basis.labels),
    ):
        values = np.asarray(values, dtype=np.float64)
        mean = (values * weight).sum(axis=1) / count
        std = np.sqrt((((values - mean[:, None]) ** 2) * weight).sum(axis=1) / count)
        columns += [mean, std]
    return np.stack(columns, axis=1).astype(np.float32)


def fuse(
    dense: FloatArray, lexical: FloatArray, labels: FloatArray, stats: FloatArray, weights: Weights
) -> FloatArray:
    """Weighted sum of z-scores; `stats` rows belong to the rows of the score arrays."""
    total = np.zeros(np.shape(dense), dtype=np.float64)
    for i, (values, weight) in enumerate(
        ((dense, weights.dense), (lexical, weights.lexical), (labels, weights.labels))
    ):
        mean = stats[:, 2 * i, None].astype(np.float64)
        std = stats[:, 2 * i + 1, None].astype(np.float64)
        safe = np.where(std > 1e-9, std, 1.0)
        total += weight * np.where(std > 1e-9, (np.asarray(values, np.float64) - mean) / safe, 0.0)
    return total.astype(np.float32)


def _top_columns(scores: FloatArray, count: int) -> PositionArray:
    count = min(count, scores.shape[1])
    part = np.argpartition(-scores, count - 1, axis=1)[:, :count]
    return part.astype(np.int64)


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
) -> Ranked:
    """Fused top-k of the corpus for each query.

    `exclude[i]` is a position never returned for query i (its own row, or -1); `allowed` masks
    the rows any query may return (filters), applied before the cut so lists stay full. With
    `pairs_floor`, also every row whose full-text cosine with the query reaches it.
    """
    weights = weights or Weights()
    b = len(queries)
    exclude = np.full(b, -1, dtype=np.int64) if exclude is None else exclude
    stats = query_stats(corpus.basis, queries)
    scored = None
    if not exact:
        # A filter keeps a fraction of any pool: widen it, and score every row only when the
        # filter is so narrow that even the wider pool comes up short.
        width = candidates if allowed is None else FILTERED_WIDENING * candidates
        scored = _score_candidates(corpus, queries, stats, weights, exclude, width, allowed)
        if allowed is not None and (np.isfinite(scored[1]).sum(axis=1) < k).any():
            scored = None
    if scored is None:
        scored = _score_every_row(corpus, queries, stats, weights, exclude, allowed)
        if not exact:  # filtered but approximate elsewhere: cut to the same pool size
            pool, fused, text = scored
            keep = _top_columns(fused, 2 * candidates)
            scored = (
                np.take_along_axis(pool, keep, axis=1),
                np.take_along_axis(fused, keep, axis=1),
                np.take_along_axis(text, keep, axis=1),
            )
    pool, fused, text = scored

    pool_keys = np.asarray(corpus.keys)[np.maximum(pool, 0)]
    order = np.lexsort((pool_keys, -fused), axis=1)[:, :k]
    width = order.shape[1]
    pad = ((0, 0), (0, k - width))
    scores = np.pad(np.take_along_axis(fused, order, axis=1), pad, constant_values=-np.inf)
    positions = np.pad(np.take_along_axis(pool, order, axis=1), pad, constant_values=-1)
    positions = np.where(np.isfinite(scores), positions, -1)

    text_pairs = None
    if pairs_floor is not None:
        close = (text >= pairs_floor) & (pool >= 0) & (pool != exclude[:, None])
        query_index, column = np.nonzero(close)
        text_pairs = (
            query_index.astype(np.int64),
            pool[query_index, column].astype(np.int64),
            text[query_index, column].astype(np.float32),
        )
    return Ranked(scores.astype(np.float32), positions.astype(np.int64), stats, text_pairs)


def _score_every_row(
    corpus: Corpus,
    queries: Queries,
    stats: FloatArray,
    weights: Weights,
    exclude: PositionArray,
    allowed: npt.NDArray[np.bool_] | None,
) -> tuple[PositionArray, FloatArray, FloatArray]:
    """(pool, fused scores, text cosines) over every row, blocked rows at -inf."""
    n, b = len(corpus), len(queries)
    text = np.asarray((queries.text @ corpus.postings).todense(), dtype=np.float32)
    labels = _dense_product(queries.labels, corpus.labels)
    dense = (queries.vectors @ np.asarray(corpus.vectors).T).astype(np.float32)
    blocked = blocked_self(exclude, n)
    if allowed is not None:
        blocked |= ~allowed[None, :]
    fused = np.where(blocked, -np.inf, fuse(dense, text, labels, stats, weights))
    pool = np.broadcast_to(np.arange(n, dtype=np.int64), (b, n))
    return pool, fused, text


def _score_candidates(
    corpus: Corpus,
    queries: Queries,
    stats: FloatArray,
    weights: Weights,
    exclude: PositionArray,
    candidates: int,
    allowed: npt.NDArray[np.bool_] | None,
) -> tuple[PositionArray, FloatArray, FloatArray]:
    """(pool, fused scores, text cosines) over each query's candidates; invalid entries
    (repeats, the query itself, rows `allowed` rules out) at -inf with position -1."""
    pool = candidate_pool(corpus, queries, candidates)
    valid = (pool >= 0) & (pool != exclude[:, None])
    valid[:, 1:] &= pool[:, 1:] != pool[:, :-1]  # the pool is sorted: repeats are adjacent
    if allowed is not None:
        valid &= allowed[np.maximum(pool, 0)]
    safe_pool = np.maximum(pool, 0)
    vectors = np.asarray(corpus.vectors)
    dense = np.einsum("bcd,bd->bc", vectors[safe_pool], queries.vectors).astype(np.float32)
    text = pair_products(queries.text, corpus.text, safe_pool)
    labels = pair_products(queries.labels, corpus.labels, safe_pool)
    fused = np.where(valid, fuse(dense, text, labels, stats, weights), -np.inf)
    return np.where(valid, pool, -1), fused, text


def candidate_pool(corpus: Corpus, queries: Queries, candidates: int) -> PositionArray:
    """Each query's dense top-C and lexical top-C, sorted by position (-1 pads, repeats kept)."""
    _, dense = corpus.index.search(queries.vectors, candidates + 1)
    strongest = keep_strongest(queries.text, QUERY_TERMS)
    lexical = _row_top(sp.csr_matrix(strongest @ corpus.postings), candidates + 1)
    return np.sort(np.concatenate([dense, lexical], axis=1), axis=1)


def keep_strongest(matrix: sp.csr_matrix, count: int) -> sp.csr_matrix:
    """`matrix` with only each row's `count` largest entries."""
    matrix = sp.csr_matrix(matrix)
    lengths = np.diff(matrix.indptr)
    if len(lengths) == 0 or lengths.max() <= count:
        return matrix
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    order = np.lexsort((-matrix.data, rows))
    rank_in_row = np.arange(len(order)) - np.repeat(matrix.indptr[:-1], lengths)
    keep = np.zeros(len(order), dtype=bool)
    keep[order[rank_in_row < count]] = True
    kept_per_row = np.minimum(lengths, count)
    indptr = np.concatenate([[0], np.cumsum(kept_per_row)])
    return sp.csr_matrix(
        (matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape, dtype=np.float32
    )


def _row_top(matrix: sp.csr_matrix, count: int) -> PositionArray:
    """Column positions of each row's `count` largest stored entries, (rows, count), -1 pads.

    Rows are laid out in a (rows, longest row) grid and cut with one argpartition, which is
    far cheaper than sorting every entry; the rare very long row is cut on its own so that it
    doesn't inflate the grid.
    """
    b = matrix.shape[0]
    top = np.full((b, count), -1, dtype=np.int64)
    indptr, data, indices = matrix.indptr, matrix.data, matrix.indices
    lengths = np.diff(indptr)
    long = lengths > LONG_ROW
    for row in np.nonzero(long)[0]:
        values = data[indptr[row] : indptr[row + 1]]
        best = np.argpartition(-values, count - 1)[:count] if len(values) > count else slice(None)
        chosen = indices[indptr[row] : indptr[row + 1]][best]
        top[row, : len(chosen)] = chosen
    lengths = np.where(long, 0, lengths)
    width = int(lengths.max(initial=0))
    if width == 0:
        return top
    rows = np.repeat(np.arange(b), lengths)
    starts = np.repeat(indptr[:-1], lengths)
    entries = np.nonzero(~np.repeat(long, np.diff(indptr)))[0]
    columns = entries - starts
    grid = np.full((b, width), -np.inf, dtype=np.float32)
    grid[rows, columns] = data[entries]
    if width > count:
        best = np.argpartition(-grid, count - 1, axis=1)[:, :count]
    else:
        best = np.broadcast_to(np.arange(width), (b, width))
    found = np.take_along_axis(grid, best, axis=1) > -np.inf
    chosen = indices[np.minimum(indptr[:-1, None] + best, len(indices) - 1)]
    short = ~long
    top[short, : best.shape[1]] = np.where(found, chosen, -1)[short]
    return top


def pair_products(
    queries: sp.csr_matrix, rows: sp.csr_matrix, positions: PositionArray
) -> FloatArray:
    """Dot product of query i's row with `rows[positions[i, j]]`, for every (i, j)."""
    b, width = positions.shape
    left = queries[np.repeat(np.arange(b), width)]
    right = rows[positions.ravel()]
    products = np.asarray(left.multiply(right).sum(axis=1), dtype=np.float32)
    return products.reshape(b, width)


def pair_scores(
    queries: Queries, stats: FloatArray, targets: Queries, weights: Weights
) -> FloatArray:
    """Fused score of every (query, target) pair, given the queries' statistics."""
    dense = (queries.vectors @ targets.vectors.T).astype(np.float32)
    return fuse(
        dense,
        _dense_product(queries.text, targets.text),
        _dense_product(queries.labels, targets.labels),
        stats,
        weights,
    )


def blocked_self(exclude: PositionArray, n: int) -> npt.NDArray[np.bool_]:
    """(len(exclude), n) mask that is True at each query's own position."""
    mask = np.zeros((len(exclude), n), dtype=bool)
    valid = exclude >= 0
    mask[np.nonzero(valid)[0], exclude[valid]] = True
    return mask


def score_parts(corpus: Corpus, query: Queries, positions: PositionArray) -> dict[str, FloatArray]:
    """Each signal's raw similarity and z-score for `positions`, for one query: the parts
    that `rank` sums (keys dense, lexical, labels and each with a _z suffix)."""
    stats = query_stats(corpus.basis, query)
    vectors = np.asarray(corpus.vectors)
    raw = {
        "dense": (vectors[positions] @ np.asarray(query.vectors[0], np.float32)).astype(np.float32),
        "lexical": _dense_product(corpus.text[positions], query.text).ravel(),
        "labels": _dense_product(corpus.labels[positions], query.labels).ravel(),
    }
    parts: dict[str, FloatArray] = {}
    for i, name in enumerate(SIGNALS):
        values = raw[name]
        mean, std = float(stats[0, 2 * i]), float(stats[0, 2 * i + 1])
        parts[name] = values
        parts[f"{name}_z"] = (
            (values - mean) / std if std > 1e-9 else np.zeros_like(values)
        ).astype(np.float32)
    return parts
