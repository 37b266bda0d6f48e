"""Hybrid ranking (`embeddings.ranking`, `fusion`, `neighbours`) on small collections where the
answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.features import Features, similarities
from embeddings.fusion import fuse, query_stats, score_parts
from embeddings.neighbours import all_ranked_neighbours
from embeddings.ranking import rank
from embeddings.signals import SIGNALS, STATS_WIDTH, Weights, signal
from tests.corpora import corpus_of, features_of, query_of, random_unit_vectors

DOCS = [
    "solar panels and battery storage for the grid",
    "battery storage helps the grid at night with solar power",
    "football club wins the league title",
    "league title for the football club after a late goal",
    "central bank raises interest rates",
]


def test_lexical_evidence_wins_when_dense_is_noise() -> None:
    corpus = corpus_of(DOCS)
    positions = all_ranked_neighbours(corpus, 2, weights=Weights(dense=0.0)).positions
    assert positions[0][0] == 1 and positions[2][0] == 3
    assert not (positions == np.arange(5)[:, None]).any()


def test_shared_labels_break_a_tie() -> None:
    docs = ["alpha words here", "other words here", "more words here"]
    labels = [("tag:x",), (), ("tag:x",)]
    corpus = corpus_of(docs, labels)
    positions = all_ranked_neighbours(corpus, 1, weights=Weights(dense=0.0, lexical=0.0)).positions
    assert positions[0][0] == 2


def test_exact_duplicates_do_not_push_out_a_neighbour() -> None:
    vectors = random_unit_vectors(20, 32)
    vectors[5] = vectors[4]
    corpus = corpus_of([""] * 20, vectors=vectors)
    positions = all_ranked_neighbours(corpus, 3, exact=True).positions
    assert positions[4][0] == 5 and positions[5][0] == 4
    assert 4 not in positions[4] and 5 not in positions[5]


def test_allowed_mask_applies_before_the_cut_and_keeps_lists_full() -> None:
    corpus = corpus_of(DOCS)
    allowed = np.array([True, False, True, True, True])
    ranked = rank(corpus, query_of(corpus, 0), 3, exclude=np.array([0]), allowed=allowed)
    assert set(ranked.positions[0]) == {2, 3, 4}


def test_a_filter_narrower_than_the_candidates_still_fills_the_list() -> None:
    """Above exact ranking a filter first narrows a widened candidate pool; when that comes up
    short, every allowed row is scored."""
    rng = np.random.default_rng(5)
    docs = [f"common words {' '.join(rng.choice(list('abcdefgh'), 3))}" for _ in range(60)]
    corpus = corpus_of(docs)
    allowed = np.zeros(60, dtype=bool)
    allowed[[7, 19, 41]] = True
    queries = query_of(corpus, 0)
    ranked = rank(corpus, queries, 3, exclude=np.array([0]), allowed=allowed, candidates=2)
    assert set(ranked.positions[0]) == {7, 19, 41}
    wide = rank(corpus, queries, 2, exclude=np.array([0]), allowed=None, candidates=1)
    assert (wide.positions[0] >= 0).sum() >= 1


def test_text_pairs_above_the_floor_are_collected_once_per_direction() -> None:
    docs = [
        "the same words in the same order here",
        "the same words in the same order here",
        "something else entirely",
        "other matters altogether",
    ]
    lists = all_ranked_neighbours(corpus_of(docs), 2, pairs_floor=0.5)
    rows, cols, sims = lists.pair_rows, lists.pair_cols, lists.pair_sims
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 1), (1, 0)]
    assert sims == pytest.approx([1.0, 1.0])
    assert list(rows) == sorted(rows)


def test_approximate_path_finds_nearly_the_exact_lists() -> None:
    rng = np.random.default_rng(3)
    topics = [[f"t{t}w{i}" for i in range(30)] for t in range(12)]
    docs = [
        " ".join(rng.choice(topics[i % 12], 25))
        + " "
        + " ".join(rng.choice(topics[(i * 7) % 12], 5))
        for i in range(600)
    ]
    corpus = corpus_of(docs)
    exact = all_ranked_neighbours(corpus, 10, exact=True).positions
    approx = all_ranked_neighbours(corpus, 10, exact=False, candidates=50).positions
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.9
    assert not (approx == np.arange(600)[:, None]).any()


def test_the_fused_score_is_the_sum_of_its_declared_parts() -> None:
    """Every declared signal takes part: the explanation's parts add up to the ranked score."""
    corpus = corpus_of(DOCS, [("tag:energy",), ("tag:energy",), (), (), ()])
    weights = Weights(dense=0.7, lexical=1.3, labels=0.4)
    query = corpus.queries(np.asarray([0]))
    ranked = rank(corpus, query, 4, weights=weights, exclude=np.array([0]), exact=True)
    found = similarities(query, corpus, ranked.positions)
    parts = score_parts(found, ranked.stats, weights)
    assert set(parts) == {s.name for s in SIGNALS} and ranked.stats.shape[1] == STATS_WIDTH
    total = sum(part["points"] for part in parts.values())
    np.testing.assert_allclose(total, ranked.scores, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fuse(found, ranked.stats, weights), ranked.scores, atol=1e-5)


def test_a_flat_signal_adds_nothing_and_a_query_is_not_its_own_reference() -> None:
    features = features_of(DOCS)
    corpus = corpus_of(DOCS, vectors=features.vectors)
    stats = query_stats(corpus.basis, corpus.queries(np.arange(5)))
    labels = [s.name for s in SIGNALS].index("labels")
    assert (stats[:, 2 * labels + 1] == 0).all()  # no article has labels: no spread
    # A query's own row is left out of its statistics: with it, the dense mean would be higher.
    outside = query_stats(corpus.basis, query_of(corpus, 0))
    dense = [s.name for s in SIGNALS].index("dense")
    assert stats[0, 2 * dense] < outside[0, 2 * dense]


def test_weights_cover_every_signal_and_refuse_unknown_names() -> None:
    assert dict(Weights()) == {s.name: s.weight for s in SIGNALS}
    assert Weights(dense=2.0)["dense"] == 2.0 and signal("dense").dense
    with pytest.raises(ValueError, match="unknown signal"):
        Weights(colour=1.0)
    assert isinstance(features_of(DOCS), Features)
