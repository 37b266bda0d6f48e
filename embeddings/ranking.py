"""Hybrid ranking: dense, lexical and label similarity, standardised per query and summed.

Raw similarities of different kinds live on different scales (a dense cosine of 0.5 is
ordinary, a tf-idf cosine of 0.5 is remarkable), and the scales differ between corpora. So each
signal is turned into a z-score against the query's own score distribution (mean and standard
deviation over a fixed random sample of the collection) and the z-scores are summed with
weights: how many standard deviations above the typical article a candidate stands, by each
kind of evidence. A signal that is flat for a query (an article without tags) contributes 0.

Candidates are the union of the dense top-C (from the FAISS index) and the lexical top-C (an
exact sparse product), then every signal is scored exactly on that union.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.index import VectorIndex

FloatArray = npt.NDArray[np.float32]
PositionArray = npt.NDArray[np.int64]
STATS_SAMPLE = 2000


@dataclass(frozen=True)
class Weights:
    dense: float = 1.0
    lexical: float = 1.0
    labels: float = 0.5


@dataclass(frozen=True)
class Corpus:
    """What queries are ranked against; row i of every part is the same item."""

    index: VectorIndex
    vectors: FloatArray
    text: sp.csr_matrix
    labels: sp.csr_matrix

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def stats_sample(self) -> PositionArray:
        """A fixed sample of rows (all of them for small corpora) for per-query statistics."""
        n = len(self)
        if n <= STATS_SAMPLE:
            return np.arange(n, dtype=np.int64)
        return np.sort(np.random.default_rng(0).choice(n, STATS_SAMPLE, replace=False)).astype(
            np.int64
        )


@dataclass(frozen=True)
class Queries:
    vectors: FloatArray
    text: sp.csr_matrix
    labels: sp.csr_matrix

    def __len__(self) -> int:
        return int(self.vectors.shape[0])


@dataclass(frozen=True)
class Ranked:
    """Top-k per query: fused scores, positions (-1 pads) and each signal's raw similarity."""

    scores: FloatArray
    positions: PositionArray
    dense: FloatArray
    lexical: FloatArray
    labels: FloatArray
    text_pairs: tuple[PositionArray, PositionArray, FloatArray] | None = None
    """(query index, position, full-text cosine) of every row at or above `pairs_floor`."""


def _standardise(
    scores: FloatArray, sample_scores: FloatArray, own: npt.NDArray[np.bool_]
) -> FloatArray:
    """z-scores of `scores` against the sample's distribution, leaving out the query's own row
    (its self-similarity would inflate both the mean and the spread)."""
    weights = (~own).astype(np.float64)
    count = np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    mean = (sample_scores * weights).sum(axis=1, keepdims=True) / count
    std = np.sqrt((((sample_scores - mean) ** 2) * weights).sum(axis=1, keepdims=True) / count)
    safe = np.where(std > 1e-9, std, 1.0)
    return np.where(std > 1e-9, (scores - mean) / safe, 0.0).astype(np.float32)


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
    pairs_floor: float | None = None,
) -> Ranked:
    """Fused top-k of the corpus for each query.

    With `pairs_floor`, also every row whose full-text (lexical) cosine with the query is at or
    above it, own row excluded: near-duplicate candidates, collected while the products exist.

    `exclude[i]` is a position never returned for query i (its own row, or -1); `allowed` masks
    the rows any query may return (filters), applied before the cut so lists stay full.
    """
    weights = weights or Weights()
    n, b = len(corpus), len(queries)
    exclude = np.full(b, -1, dtype=np.int64) if exclude is None else exclude
    sample = corpus.stats_sample()

    text_all = np.asarray((queries.text @ corpus.text.T).todense(), dtype=np.float32)
    label_all = np.asarray((queries.labels @ corpus.labels.T).todense(), dtype=np.float32)

    # Candidate pool: dense top-C and lexical top-C.
    blocked = blocked_self(exclude, n)
    own_rows = blocked.copy() if pairs_floor is not None else None
    if allowed is not None:
        blocked |= ~allowed[None, :]
    if allowed is None:
        _, dense_pos = corpus.index.search(queries.vectors, candidates + 1)
    else:
        # Filtered: an exact scan of the allowed rows, so a filter never empties the pool.
        dense_scan = queries.vectors @ np.asarray(corpus.vectors).T
        dense_pos = _top_columns(np.where(blocked, -np.inf, dense_scan), candidates)
    lexical_pos = _top_columns(np.where(blocked, -np.inf, text_all), candidates)
    pool = np.concatenate([dense_pos, lexical_pos], axis=1)
    pool = np.sort(pool, axis=1)
    duplicate = np.zeros_like(pool, dtype=bool)
    duplicate[:, 1:] = pool[:, 1:] == pool[:, :-1]
    safe_pool = np.maximum(pool, 0)
    invalid = (pool < 0) | duplicate | np.take_along_axis(blocked, safe_pool, axis=1)

    # Exact scores of every signal on the pool, standardised against the sample.
    vectors = np.asarray(corpus.vectors)
    dense = np.einsum("bcd,bd->bc", vectors[safe_pool], queries.vectors).astype(np.float32)
    dense_sample = (queries.vectors @ vectors[sample].T).astype(np.float32)
    lexical = np.take_along_axis(text_all, safe_pool, axis=1)
    labels = np.take_along_axis(label_all, safe_pool, axis=1)
    own = sample[None, :] == exclude[:, None]
    fused = (
        weights.dense * _standardise(dense, dense_sample, own)
        + weights.lexical * _standardise(lexical, text_all[:, sample], own)
        + weights.labels * _standardise(labels, label_all[:, sample], own)
    )
    fused = np.where(invalid, -np.inf, fused)

    order = np.argsort(-fused, axis=1, kind="stable")[:, :k]
    width = order.shape[1]
    pad = ((0, 0), (0, k - width))
    scores = np.pad(np.take_along_axis(fused, order, axis=1), pad, constant_values=-np.inf)
    positions = np.pad(np.take_along_axis(pool, order, axis=1), pad, constant_values=-1)
    positions = np.where(np.isfinite(scores), positions, -1)

    def gather(values: FloatArray) -> FloatArray:
        return np.pad(np.take_along_axis(values, order, axis=1), pad).astype(np.float32)

    text_pairs = None
    if pairs_floor is not None:
        assert own_rows is not None
        close = (text_all >= pairs_floor) & ~own_rows
        query_index, position = np.nonzero(close)
        text_pairs = (
            query_index.astype(np.int64),
            position.astype(np.int64),
            text_all[query_index, position].astype(np.float32),
        )
    return Ranked(
        scores.astype(np.float32),
        positions.astype(np.int64),
        gather(dense),
        gather(lexical),
        gather(labels),
        text_pairs,
    )


def blocked_self(exclude: PositionArray, n: int) -> npt.NDArray[np.bool_]:
    """(len(exclude), n) mask that is True at each query's own position."""
    mask = np.zeros((len(exclude), n), dtype=bool)
    valid = exclude >= 0
    mask[np.nonzero(valid)[0], exclude[valid]] = True
    return mask


def score_parts(
    corpus: Corpus, query: Queries, positions: PositionArray, *, exclude: int = -1
) -> dict[str, FloatArray]:
    """Each signal's raw similarity and standardised value for `positions`, for one query:
    the parts that `rank` sums (keys dense, lexical, labels and each with a _z suffix)."""
    sample = corpus.stats_sample()
    own = (sample == exclude)[None, :]
    vectors = np.asarray(corpus.vectors)
    vector = np.asarray(query.vectors[0], dtype=np.float32)
    raw = {
        "dense": (vectors[positions] @ vector, vectors[sample] @ vector),
        "lexical": (
            _sparse_dots(corpus.text, positions, query.text),
            _sparse_dots(corpus.text, sample, query.text),
        ),
        "labels": (
            _sparse_dots(corpus.labels, positions, query.labels),
            _sparse_dots(corpus.labels, sample, query.labels),
        ),
    }
    parts: dict[str, FloatArray] = {}
    for name, (values, sample_values) in raw.items():
        values = np.asarray(values, dtype=np.float32)
        parts[name] = values
        parts[f"{name}_z"] = _standardise(
            values[None, :], np.asarray(sample_values, np.float32)[None, :], own
        )[0]
    return parts


def _sparse_dots(matrix: sp.csr_matrix, rows: PositionArray, query: sp.csr_matrix) -> FloatArray:
    result: FloatArray = np.asarray((matrix[rows] @ query.T).todense(), dtype=np.float32).ravel()
    return result
