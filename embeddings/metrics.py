"""Ranking metrics over ranked id lists: pure functions, no I/O.

`ranked` is a list of ids, best first; `relevant` maps each relevant id to its gain (1 for
plain curated links, the editor's grade when grades are given). An id repeated in `ranked`
counts once, at its first place. nDCG uses linear gains, gain / log2(rank + 1); with `scores`,
tied items share the average discount of the places they tie for (the expected DCG over
every order of the tie, as McSherry & Najork 2008 and scikit-learn compute it), so a ranking
is not rewarded for the luck of its tie order.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

Id = TypeVar("Id", bound=Hashable)


def _unique(ranked: Sequence[Id]) -> list[Id]:
    return list(dict.fromkeys(ranked))


def precision_at_k(ranked: Sequence[Id], relevant: Mapping[Id, float], k: int) -> float:
    """Relevant items in the top k, over k (a list shorter than k is not excused)."""
    top = _unique(ranked)[:k]
    return sum(1 for item in top if relevant.get(item, 0) > 0) / k


def recall_at_k(ranked: Sequence[Id], relevant: Mapping[Id, float], k: int) -> float:
    wanted = [item for item, gain in relevant.items() if gain > 0]
    if not wanted:
        return 0.0
    top = set(_unique(ranked)[:k])
    return sum(1 for item in wanted if item in top) / len(wanted)


def hit_rate_at_k(ranked: Sequence[Id], relevant: Mapping[Id, float], k: int) -> float:
    """1.0 if any relevant item is in the top k, else 0.0."""
    return 1.0 if any(relevant.get(item, 0) > 0 for item in _unique(ranked)[:k]) else 0.0


def reciprocal_rank_at_k(ranked: Sequence[Id], relevant: Mapping[Id, float], k: int) -> float:
    for place, item in enumerate(_unique(ranked)[:k], start=1):
        if relevant.get(item, 0) > 0:
            return 1.0 / place
    return 0.0


def average_precision_at_k(ranked: Sequence[Id], relevant: Mapping[Id, float], k: int) -> float:
    """Mean of precision@i over the places i of relevant items, divided by min(|relevant|, k)."""
    wanted = sum(1 for gain in relevant.values() if gain > 0)
    if not wanted:
        return 0.0
    hits, total = 0, 0.0
    for place, item in enumerate(_unique(ranked)[:k], start=1):
        if relevant.get(item, 0) > 0:
            hits += 1
            total += hits / place
    return total / min(wanted, k)


def _discount(place: int) -> float:
    return 1.0 / math.log2(place + 1)


def dcg_at_k(
    ranked: Sequence[Id],
    relevant: Mapping[Id, float],
    k: int,
    scores: Sequence[float] | None = None,
) -> float:
    items = _unique(ranked)
    if scores is None:
        return sum(relevant.get(item, 0.0) * _discount(p) for p, item in enumerate(items[:k], 1))
    if len(scores) != len(ranked):
        raise ValueError("scores must have one value per ranked item")
    first_score = dict(zip(reversed(ranked), reversed(scores), strict=True))
    total, place = 0.0, 1
    # Walk the groups of equal score; each group spreads its mean gain over its places.
    index = 0
    while index < len(items) and place <= k:
        group = [items[index]]
        while (
            index + len(group) < len(items)
            and first_score[items[index + len(group)]] == first_score[items[index]]
        ):
            group.append(items[index + len(group)])
        mean_gain = sum(relevant.get(item, 0.0) for item in group) / len(group)
        for offset in range(len(group)):
            if place + offset <= k:
                total += mean_gain * _discount(place + offset)
        place += len(group)
        index += len(group)
    return total


def ndcg_at_k(
    ranked: Sequence[Id],
    relevant: Mapping[Id, float],
    k: int,
    scores: Sequence[float] | None = None,
) -> float:
    ideal = sorted((gain for gain in relevant.values() if gain > 0), reverse=True)[:k]
    ideal_dcg = sum(gain * _discount(place) for place, gain in enumerate(ideal, start=1))
    if ideal_dcg == 0:
        return 0.0
    return dcg_at_k(ranked, relevant, k, scores) / ideal_dcg


def coverage(lists: Sequence[Sequence[Id]], catalogue_size: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    if catalogue_size <= 0:
        return 0.0
    return len({item for items in lists for item in items}) / catalogue_size


METRICS = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "hit_rate": hit_rate_at_k,
}
"""Metrics reported at every cut-off; MRR and MAP are reported at the largest one."""


def evaluate_rankings(
    rankings: Mapping[Id, Sequence[Id]],
    relevant: Mapping[Id, Mapping[Id, float]],
    cutoffs: Sequence[int],
) -> dict[str, float]:
    """Mean of every metric over the sources of `relevant` ({'ndcg@10': ..., 'mrr@10': ...}).

    A source missing from `rankings` counts as an empty list (zero on every metric).
    """
    sources = list(relevant)
    results: dict[str, float] = {}
    if not sources:
        return results
    top = max(cutoffs)
    for k in sorted(cutoffs):
        for name, metric in METRICS.items():
            values = [metric(rankings.get(s, []), relevant[s], k) for s in sources]
            results[f"{name}@{k}"] = sum(values) / len(values)
    results[f"mrr@{top}"] = sum(
        reciprocal_rank_at_k(rankings.get(s, []), relevant[s], top) for s in sources
    ) / len(sources)
    results[f"map@{top}"] = sum(
        average_precision_at_k(rankings.get(s, []), relevant[s], top) for s in sources
    ) / len(sources)
    return results


def pooled_ndcg(
    scores: npt.NDArray[np.float64],
    gains: npt.NDArray[np.float64],
    ideal: npt.NDArray[np.float64],
    k: int,
) -> npt.NDArray[np.float64]:
    """nDCG@k of many sources at once, each ranking its own pool of candidates.

    `scores` and `gains` are (sources, pool): each candidate's score (-inf: never ranked) and
    its gain; `ideal` (sources,) is each source's ideal DCG@k over all its relevant items, in
    the pool or not, as `ndcg_at_k` counts it. The top k are found by partition (linear in the
    pool), then ordered by score, ties in pool order.
    """
    if k < scores.shape[1]:
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top = np.sort(top, axis=1)  # pool order, so the stable sort below keeps it for ties
        inner = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        order = np.take_along_axis(top, inner, axis=1)
    else:
        order = np.argsort(-scores, axis=1, kind="stable")
    found = np.take_along_axis(gains, order, axis=1)
    found = np.where(np.isfinite(np.take_along_axis(scores, order, axis=1)), found, 0.0)
    discounts = 1.0 / np.log2(np.arange(2, found.shape[1] + 2))
    dcg = found @ discounts
    return np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), 0.0)


def ideal_dcg(gains: Sequence[float], k: int) -> float:
    """The DCG@k of the best order of `gains` (what `ndcg_at_k` divides by)."""
    best = sorted((g for g in gains if g > 0), reverse=True)[:k]
    return sum(g * _discount(place) for place, g in enumerate(best, start=1))
