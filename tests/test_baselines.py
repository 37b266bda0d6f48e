"""The baselines `related evaluate` compares with (`embeddings.baselines`)."""

from __future__ import annotations

import numpy as np

from embeddings.baselines import BM25MoreLikeThisBaseline, top_k


def test_top_k_excludes_the_source_and_masked_items() -> None:
    scores = np.array([5.0, 4.0, 3.0, -np.inf])
    assert top_k(scores, 3, exclude=0) == [1, 2]
    assert top_k(scores, 3, exclude=0, allowed=np.array([True, False, True, True])) == [2]


def test_mlt_picks_frequent_distinctive_terms() -> None:
    docs = ["grid grid storage storage the the"] + ["grid storage the"] * 6 + ["unrelated text"] * 3
    baseline = BM25MoreLikeThisBaseline(docs)
    assert len(baseline.query_terms(0)) == 3  # tf >= 2 and df >= 5: grid, storage, the
    scores = baseline.scores(0)
    assert np.isneginf(scores[-1]) and np.isfinite(scores[1])
