"""Hybrid ranking and the baselines, on small collections where the answer is known."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from embeddings import lexical, ranking
from embeddings.baselines import BM25MoreLikeThisBaseline, top_k
from embeddings.index import VectorIndex
from embeddings.lexical import LexicalModel, Terms, label_document
from embeddings.neighbours import all_ranked_neighbours
from embeddings.ranking import Basis, Corpus, Queries, Weights, rank
from service.builder import build
from service.config import Settings
from service.recommender import Recommender
from service.services import Services
from service.store import ArticleStore
from tests.conftest import ingest_file

DOCS = [
    "solar panels and battery storage for the grid",
    "battery storage helps the grid at night with solar power",
    "football club wins the league title",
    "league title for the football club after a late goal",
    "central bank raises interest rates",
]


def corpus_of(docs: list[str], labels: list[str] | None = None) -> Corpus:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(docs), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    _, text = LexicalModel.fit(docs, "text")
    _, label_matrix = LexicalModel.fit(labels or [""] * len(docs), "labels")
    keys = np.arange(len(docs), dtype=np.int64)
    basis = Basis.sample(keys, vectors, text, label_matrix)
    return Corpus(VectorIndex.build(vectors), keys, vectors, text, label_matrix, basis)


def test_lexical_evidence_wins_when_dense_is_noise() -> None:
    corpus = corpus_of(DOCS)
    positions = all_ranked_neighbours(corpus, 2, weights=Weights(dense=0.0)).positions
    assert positions[0][0] == 1 and positions[2][0] == 3
    assert not (positions == np.arange(5)[:, None]).any()


def test_shared_labels_break_a_tie() -> None:
    docs = ["alpha words here", "other words here", "more words here"]
    labels = [label_document(["tag:x"]), "", label_document(["tag:x"])]
    positions = all_ranked_neighbours(
        corpus_of(docs, labels), 1, weights=Weights(dense=0.0, lexical=0.0)
    ).positions
    assert positions[0][0] == 2


def test_allowed_mask_applies_before_the_cut_and_keeps_lists_full() -> None:
    corpus = corpus_of(DOCS)
    allowed = np.array([True, False, True, True, True])
    queries = Queries(corpus.vectors[:1], corpus.text[0], corpus.labels[0])
    ranked = rank(corpus, queries, 3, exclude=np.array([0]), allowed=allowed)
    assert set(ranked.positions[0]) == {2, 3, 4}


def test_a_filter_narrower_than_the_candidates_still_fills_the_list() -> None:
    """Above exact ranking a filter first narrows a widened candidate pool; when that comes up
    short, every allowed row is scored."""
    rng = np.random.default_rng(5)
    docs = [f"common words {' '.join(rng.choice(list('abcdefgh'), 3))}" for _ in range(60)]
    corpus = corpus_of(docs)
    allowed = np.zeros(60, dtype=bool)
    allowed[[7, 19, 41]] = True
    queries = Queries(corpus.vectors[:1], corpus.text[0], corpus.labels[0])
    ranked = rank(corpus, queries, 3, exclude=np.array([0]), allowed=allowed, candidates=2)
    assert set(ranked.positions[0]) == {7, 19, 41}
    wide = rank(corpus, queries, 2, exclude=np.array([0]), allowed=None, candidates=1)
    assert (wide.positions[0] >= 0).sum() >= 1


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


def test_past_only_keeps_the_list_full_from_earlier_articles(
    sample_copy: Settings, encoder: Any
) -> None:
    recommender: Recommender = Services.open(sample_copy, encoder=encoder).recommender
    source = "2026-11-30-christmas-market-security"
    result = recommender.related(source, 10, past_only=True)
    assert len(result.items) == 10
    assert all(item.article.published < "2026-11-30" for item in result.items)  # type: ignore[operator]


def test_past_only_searches_the_index_when_the_precomputed_list_runs_out(
    settings_for: Callable[..., Settings], encoder: Any
) -> None:
    settings = settings_for(neighbours=5, max_k=5, default_k=5)
    ingest_file(settings)
    build(settings, ArticleStore(settings.db_path), encoder)
    recommender = Services.open(settings, encoder=encoder).recommender
    source = "2026-06-18-central-bank-cuts-rates"
    precomputed = [item.article.published for item in recommender.related(source).items]
    assert any(p >= "2026-06-18" for p in precomputed if p)  # so filtering the list leaves < 5
    result = recommender.related(source, past_only=True)
    assert len(result.items) == 5
    assert all((item.article.published or "") < "2026-06-18" for item in result.items)


def test_past_only_needs_a_date(sample_copy: Settings, encoder: Any) -> None:
    services = Services.open(sample_copy, encoder=encoder)
    with services.store.write() as writer:
        from service.articles import Article

        writer.upsert(Article(id="undated", title="No date"))
    with pytest.raises(Exception, match="past_only needs a 'published' date"):
        services.recommender.related("undated", 5, past_only=True)


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


def sort_oracle(matrix: sp.csr_matrix, count: int) -> list[set[int]]:
    top = []
    for row in range(matrix.shape[0]):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        order = np.argsort(-matrix.data[start:stop], kind="stable")[:count]
        top.append(set(matrix.indices[start:stop][order].tolist()))
    return top


@pytest.mark.parametrize("long_row", [50_000, 30])
def test_row_top_matches_sorting_every_row(long_row: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranking, "LONG_ROW", long_row)  # also the path for very long rows
    matrix = sp.random(40, 500, density=0.1, format="csr", dtype=np.float32, random_state=3)
    matrix = sp.csr_matrix(sp.vstack([matrix, sp.csr_matrix((2, 500), dtype=np.float32)]))
    found = ranking._row_top(matrix, 7)
    assert found.shape == (42, 7)
    for row, expected in enumerate(sort_oracle(matrix, 7)):
        assert set(found[row][found[row] >= 0].tolist()) == expected
    assert (found[40:] == -1).all()


def test_strongest_terms_and_pair_products() -> None:
    matrix = sp.random(20, 300, density=0.2, format="csr", dtype=np.float32, random_state=4)
    kept = ranking.keep_strongest(matrix, 5)
    assert (np.diff(kept.indptr) == np.minimum(np.diff(matrix.indptr), 5)).all()
    for row, expected in enumerate(sort_oracle(matrix, 5)):
        assert set(kept[row].indices.tolist()) == expected
    positions = np.random.default_rng(0).integers(0, 20, size=(6, 4))
    products = ranking.pair_products(matrix[:6], matrix, positions)
    dense = matrix.toarray()
    np.testing.assert_allclose(
        products, np.einsum("qt,qkt->qk", dense[:6], dense[positions]), rtol=1e-5
    )


def test_large_collections_fit_on_a_sample_and_transform_in_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = [
        f"story {i % 7} about topic{i % 11} and topic{i % 5} near place{i % 3}" for i in range(240)
    ]
    single_model, single = LexicalModel.fit(docs)
    monkeypatch.setattr(lexical, "TRANSFORM_CHUNK", 50)
    np.testing.assert_allclose(single_model.transform(docs).toarray(), single.toarray())
    monkeypatch.setattr(lexical, "FIT_SAMPLE", 100)
    sampled_model, sampled = LexicalModel.fit(docs)
    assert sampled.shape[0] == 240 and sampled.nnz > 0
    assert len(sampled_model.terms()) <= len(single_model.terms())


def test_terms_are_looked_up_by_column_from_a_mapped_blob(tmp_path: Path) -> None:
    terms = ["café", "naïve bayes", "", "x"]
    Terms.save(terms, tmp_path, "text")
    loaded = Terms.load(tmp_path, "text")
    assert len(loaded) == 4 and [loaded[i] for i in range(4)] == terms
