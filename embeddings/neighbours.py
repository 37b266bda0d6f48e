"""Precomputed top-k neighbour lists for every item, so a lookup needs no search.

Lists are two (n, k) arrays: neighbour positions (-1 pads a short list) and their scores,
best first. An item is never in its own list.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from embeddings.index import VectorIndex
from embeddings.ranking import Corpus, Queries, Weights, rank

PositionArray = npt.NDArray[np.int64]
ScoreArray = npt.NDArray[np.float32]


def drop_self(
    scores: ScoreArray, positions: PositionArray, query_positions: PositionArray, k: int
) -> tuple[ScoreArray, PositionArray]:
    """Remove each query's own position from its result row and cut rows to k (padding with -1).

    The own position is masked wherever it sits: exact duplicates can tie with it at rank 0.
    """
    is_self = positions == query_positions[:, None]
    scores = np.where(is_self, -np.inf, scores)
    positions = np.where(is_self, -1, positions)
    # Stable sort keeps FAISS's tie order for equal scores.
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    scores = np.take_along_axis(scores, order, axis=1)
    positions = np.take_along_axis(positions, order, axis=1)
    width = scores.shape[1]
    if width < k:
        scores = np.pad(scores, ((0, 0), (0, k - width)), constant_values=-np.inf)
        positions = np.pad(positions, ((0, 0), (0, k - width)), constant_values=-1)
    positions = np.where(np.isfinite(scores), positions, -1)
    return scores.astype(np.float32), positions.astype(np.int64)


def all_neighbours(
    index: VectorIndex,
    vectors: npt.NDArray[np.float32],
    k: int,
    *,
    batch_size: int = 4096,
    progress: Callable[[int], None] | None = None,
) -> tuple[ScoreArray, PositionArray]:
    """Top-k neighbours of every vector in `index` (row i of `vectors` is position i)."""
    n = len(vectors)
    all_scores = np.full((n, k), -np.inf, dtype=np.float32)
    all_positions = np.full((n, k), -1, dtype=np.int64)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        scores, positions = index.search(vectors[start:stop], k + 1)
        query_positions = np.arange(start, stop, dtype=np.int64)
        all_scores[start:stop], all_positions[start:stop] = drop_self(
            scores, positions, query_positions, k
        )
        if progress is not None:
            progress(stop - start)
    return all_scores, all_positions


def all_ranked_neighbours(
    corpus: Corpus,
    k: int,
    *,
    weights: Weights | None = None,
    candidates: int = 200,
    progress: Callable[[int], None] | None = None,
    pairs_floor: float = 0.5,
) -> tuple[ScoreArray, PositionArray, tuple[PositionArray, PositionArray, npt.NDArray[np.float32]]]:
    """Top-k fused neighbours (see embeddings.ranking) of every item of `corpus`, and the
    pairs of items whose full-text cosine is at least `pairs_floor` (rows, columns, cosines;
    sorted by row), for near-duplicate checks without a sparse product per request."""
    pair_rows: list[PositionArray] = []
    pair_cols: list[PositionArray] = []
    pair_sims: list[npt.NDArray[np.float32]] = []
    n = len(corpus)
    # Each batch holds a few (batch, n) score arrays: keep them near 20M cells.
    batch_size = max(1, min(512, 20_000_000 // max(n, 1)))
    all_scores = np.full((n, k), -np.inf, dtype=np.float32)
    all_positions = np.full((n, k), -1, dtype=np.int64)
    vectors = np.asarray(corpus.vectors)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        queries = Queries(vectors[start:stop], corpus.text[start:stop], corpus.labels[start:stop])
        ranked = rank(
            corpus,
            queries,
            k,
            weights=weights,
            candidates=candidates,
            exclude=np.arange(start, stop, dtype=np.int64),
            pairs_floor=pairs_floor,
        )
        all_scores[start:stop], all_positions[start:stop] = ranked.scores, ranked.positions
        assert ranked.text_pairs is not None
        rows, cols, sims = ranked.text_pairs
        pair_rows.append(rows + start)
        pair_cols.append(cols)
        pair_sims.append(sims)
        if progress is not None:
            progress(stop - start)
    pairs = (
        np.concatenate(pair_rows) if pair_rows else np.zeros(0, np.int64),
        np.concatenate(pair_cols) if pair_cols else np.zeros(0, np.int64),
        np.concatenate(pair_sims) if pair_sims else np.zeros(0, np.float32),
    )
    return all_scores, all_positions, pairs
