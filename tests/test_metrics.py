"""Metric functions against hand-computed cases."""

from __future__ import annotations

import math

import pytest

from embeddings.metrics import (
    average_precision_at_k,
    coverage,
    evaluate_rankings,
    hit_rate_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank_at_k,
)

REL = {"b": 1.0, "d": 1.0, "x": 1.0}  # x is never retrieved
RANKED = ["a", "b", "c", "d", "e"]


def test_precision_recall_hit_at_k() -> None:
    assert precision_at_k(RANKED, REL, 2) == 0.5
    assert precision_at_k(RANKED, REL, 5) == pytest.approx(2 / 5)
    assert recall_at_k(RANKED, REL, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, REL, 5) == pytest.approx(2 / 3)
    assert hit_rate_at_k(RANKED, REL, 1) == 0.0 and hit_rate_at_k(RANKED, REL, 2) == 1.0


def test_mrr_and_map() -> None:
    assert reciprocal_rank_at_k(RANKED, REL, 5) == 0.5
    assert reciprocal_rank_at_k(RANKED, REL, 1) == 0.0
    # hits at places 2 and 4: (1/2 + 2/4) / min(3, 5)
    assert average_precision_at_k(RANKED, REL, 5) == pytest.approx((0.5 + 0.5) / 3)
    # at k=2 only one relevant can fit twice: (1/2) / min(3, 2)
    assert average_precision_at_k(RANKED, REL, 2) == pytest.approx(0.25)


def test_binary_ndcg_by_hand() -> None:
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(RANKED, REL, 5) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["b", "d", "x"], REL, 3) == pytest.approx(1.0)


def test_graded_ndcg_by_hand() -> None:
    graded = {"a": 3.0, "b": 1.0}
    # ranked b then a: 1/log2(2) + 3/log2(3); ideal: 3 + 1/log2(3)
    assert ndcg_at_k(["b", "a"], graded, 2) == pytest.approx(
        (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
    )


def test_ties_share_the_average_discount() -> None:
    rel = {"b": 1.0}
    # a and b tie for places 1-2: b's expected discount is (1 + 1/log2(3)) / 2
    tied = ndcg_at_k(["a", "b"], rel, 2, scores=[0.5, 0.5])
    assert tied == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert ndcg_at_k(["b", "a"], rel, 2, scores=[0.5, 0.5]) == pytest.approx(tied)
    # a tie straddling the cut-off counts only the places inside it
    assert ndcg_at_k(["a", "b"], rel, 1, scores=[0.5, 0.5]) == pytest.approx(0.5)


def test_empty_lists_and_no_relevant_items_score_zero() -> None:
    assert precision_at_k([], REL, 3) == 0.0
    assert recall_at_k([], REL, 3) == 0.0
    assert ndcg_at_k([], REL, 3) == 0.0
    assert ndcg_at_k(RANKED, {}, 3) == 0.0
    assert average_precision_at_k(RANKED, {}, 3) == 0.0


def test_k_larger_than_the_list() -> None:
    assert precision_at_k(["b"], REL, 10) == pytest.approx(0.1)
    assert recall_at_k(["b"], REL, 10) == pytest.approx(1 / 3)
    assert ndcg_at_k(["b", "d", "x"], REL, 50) == pytest.approx(1.0)


def test_duplicates_in_a_ranking_count_once() -> None:
    assert precision_at_k(["b", "b", "a"], REL, 2) == 0.5
    assert recall_at_k(["b", "b"], REL, 2) == pytest.approx(1 / 3)


def test_coverage_and_evaluate_rankings() -> None:
    assert coverage([["a", "b"], ["b", "c"]], 6) == 0.5
    results = evaluate_rankings({"s1": RANKED, "s2": []}, {"s1": REL, "s2": {"a": 1.0}}, [1, 5])
    assert results["precision@5"] == pytest.approx((2 / 5 + 0) / 2)
    assert results["mrr@5"] == pytest.approx(0.25)
    assert set(results) == {
        "precision@1",
        "recall@1",
        "ndcg@1",
        "hit_rate@1",
        "precision@5",
        "recall@5",
        "ndcg@5",
        "hit_rate@5",
        "mrr@5",
        "map@5",
    }


def test_pooled_ndcg_agrees_with_ndcg_at_k_on_every_source() -> None:
    import numpy as np

    from embeddings.metrics import ideal_dcg, pooled_ndcg

    rng = np.random.default_rng(0)
    scores = rng.random((30, 25))
    scores[:, -3:] = -np.inf  # pads: never ranked
    gains = (rng.random((30, 25)) < 0.15) * rng.integers(1, 3, (30, 25)).astype(float)
    outside = rng.integers(0, 2, 30)  # relevant items the pool missed still count in the ideal
    ideal = np.asarray(
        [ideal_dcg([*row[row > 0], *[1.0] * n], 10) for row, n in zip(gains, outside, strict=True)]
    )
    found = pooled_ndcg(scores, gains, ideal, 10)
    for i in range(30):
        ranked = [j for j in np.argsort(-scores[i], kind="stable") if np.isfinite(scores[i, j])]
        relevant = {j: g for j, g in enumerate(gains[i]) if g > 0}
        relevant.update({100 + n: 1.0 for n in range(outside[i])})
        assert found[i] == pytest.approx(ndcg_at_k(ranked, relevant, 10))
