"""Fusing the signals: each similarity as a z-score against the query's own distribution.

Raw similarities of different kinds live on different scales (a dense cosine of 0.5 is
ordinary, a tf-idf cosine of 0.5 is remarkable), and the scales differ between corpora. So each
signal is turned into a z-score against the query's similarities to a frozen reference sample
of the collection (the `Basis`), and the z-scores are summed with weights: how many standard
deviations above a typical item a candidate stands, by each kind of evidence. A signal that is
flat for a query (an item without tags) contributes 0.

Because the basis is frozen between full builds, the score of a pair depends on the two items
and nothing else, which is what lets lists be repaired incrementally.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from embeddings.features import Basis, FloatArray, Queries, cross
from embeddings.signals import SIGNALS, STATS_WIDTH, Weights

FLAT = 1e-9
"""A spread at or below this means the signal says nothing for the query."""


def query_stats(basis: Basis, queries: Queries) -> FloatArray:
    """(queries, STATS_WIDTH): each signal's mean and spread over the basis, per query, its own
    key left out (its self-similarity would inflate both)."""
    own = basis.keys[None, :] == queries.own_keys()[:, None]
    weight = (~own).astype(np.float64)
    count = np.maximum(weight.sum(axis=1), 1.0)
    columns = []
    for signal in SIGNALS:
        values = cross(signal, queries, basis).astype(np.float64)
        mean = (values * weight).sum(axis=1) / count
        std = np.sqrt((((values - mean[:, None]) ** 2) * weight).sum(axis=1) / count)
        columns += [mean, std]
    stats = np.stack(columns, axis=1).astype(np.float32)
    assert stats.shape[1] == STATS_WIDTH
    return stats


def zscores(values: npt.ArrayLike, stats: FloatArray, signal_index: int) -> npt.NDArray[np.float64]:
    """`values` (rows of the stats' queries) as z-scores of signal SIGNALS[signal_index]."""
    mean = stats[:, 2 * signal_index, None].astype(np.float64)
    std = stats[:, 2 * signal_index + 1, None].astype(np.float64)
    safe = np.where(std > FLAT, std, 1.0)
    return np.where(std > FLAT, (np.asarray(values, np.float64) - mean) / safe, 0.0)


def fuse(similarities: Mapping[str, FloatArray], stats: FloatArray, weights: Weights) -> FloatArray:
    """Weighted sum of z-scores; `stats` rows belong to the rows of the similarity arrays."""
    first = similarities[SIGNALS[0].name]
    total = np.zeros(np.shape(first), dtype=np.float64)
    for i, signal in enumerate(SIGNALS):
        if weights[signal.name]:
            total += weights[signal.name] * zscores(similarities[signal.name], stats, i)
    return total.astype(np.float32)


def score_parts(
    similarities: Mapping[str, FloatArray], stats: FloatArray, weights: Weights
) -> dict[str, dict[str, npt.NDArray[np.float64]]]:
    """Per signal, the raw similarity, its z-score, its weight and its share of the fused score
    (weight x z): the parts that `fuse` sums, for explanations."""
    parts = {}
    for i, signal in enumerate(SIGNALS):
        raw = np.asarray(similarities[signal.name], dtype=np.float64)
        z = zscores(raw, stats, i)
        weight = np.full_like(raw, weights[signal.name])
        parts[signal.name] = {"similarity": raw, "z": z, "weight": weight, "points": weight * z}
    return parts
