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

Exact mode scores every row. Otherwise candidates are the union of the dense top-C (the FAISS
index, HNSW on large collections) and the lexical top-C, scored exactly on that union.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.index import VectorIndex

FloatArray = npt.NDArray[np.float32]
PositionArray = npt.NDArray[np.int64]
KeyArray = npt.NDArray[np.int64]
BASIS_SIZE = 2000
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

    def __len__(self) -> int:
        return int(self.vectors.shape[0])


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
    candidates: int = 200,
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
    n, b = len(corpus), len(queries)
    exclude = np.full(b, -1, dtype=np.int64) if exclude is None else exclude
    stats = query_stats(corpus.basis, queries)
    text_all = _dense_product(queries.text, corpus.text)
    label_all = _dense_product(queries.labels, corpus.labels)
    own_rows = blocked_self(exclude, n)
    blocked = own_rows | ~allowed[None, :] if allowed is not None else own_rows
    vectors = np.asarray(corpus.vectors)

    if exact or allowed is not None:
        # Every row scored: exact, and a filter can never empty the pool.
        dense_all = (queries.vectors @ vectors.T).astype(np.float32)
        fused = fuse(dense_all, text_all, label_all, stats, weights)
        fused = np.where(blocked, -np.inf, fused)
        pool = np.broadcast_to(np.arange(n, dtype=np.int64), (b, n))
        if not exact:  # filtered but approximate elsewhere: cut to the same pool size
            keep = _top_columns(fused, 2 * candidates)
            pool = keep
            fused = np.take_along_axis(fused, keep, axis=1)
    else:
        _, dense_pos = corpus.index.search(queries.vectors, candidates + 1)
        lexical_pos = _top_columns(np.where(blocked, -np.inf, text_all), candidates)
        pool = np.sort(np.concatenate([dense_pos, lexical_pos], axis=1), axis=1)
        duplicate = np.zeros_like(pool, dtype=bool)
        duplicate[:, 1:] = pool[:, 1:] == pool[:, :-1]
        safe_pool = np.maximum(pool, 0)
        invalid = (pool < 0) | duplicate | np.take_along_axis(blocked, safe_pool, axis=1)
        dense = np.einsum("bcd,bd->bc", vectors[safe_pool], queries.vectors).astype(np.float32)
        fused = fuse(
            dense,
            np.take_along_axis(text_all, safe_pool, axis=1),
            np.take_along_axis(label_all, safe_pool, axis=1),
            stats,
            weights,
        )
        fused = np.where(invalid, -np.inf, fused)

    pool_keys = np.asarray(corpus.keys)[np.maximum(pool, 0)]
    order = np.lexsort((pool_keys, -fused), axis=1)[:, :k]
    width = order.shape[1]
    pad = ((0, 0), (0, k - width))
    scores = np.pad(np.take_along_axis(fused, order, axis=1), pad, constant_values=-np.inf)
    positions = np.pad(np.take_along_axis(pool, order, axis=1), pad, constant_values=-1)
    positions = np.where(np.isfinite(scores), positions, -1)

    text_pairs = None
    if pairs_floor is not None:
        close = (text_all >= pairs_floor) & ~own_rows
        query_index, position = np.nonzero(close)
        text_pairs = (
            query_index.astype(np.int64),
            position.astype(np.int64),
            text_all[query_index, position].astype(np.float32),
        )
    return Ranked(scores.astype(np.float32), positions.astype(np.int64), stats, text_pairs)


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
