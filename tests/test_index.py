"""The vector index against an exact numpy oracle: flat and HNSW, save and load, extension."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from embeddings.index import IndexSettings, VectorIndex


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> npt.NDArray[np.float32]:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def oracle(vectors: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.float32]:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return -np.sort(-sims, axis=1)[:, :k]


def top_without_self(
    index: VectorIndex, vectors: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    scores, found = index.search(vectors, k + 1)
    own = found == np.arange(len(vectors))[:, None]
    scores = np.where(own, -np.inf, scores)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, 1), np.take_along_axis(found, order, 1)


def test_flat_search_matches_the_oracle_scores() -> None:
    vectors = unit_vectors(300)
    index = VectorIndex.build(vectors)
    assert index.kind == "flat"
    scores, positions = top_without_self(index, vectors, 10)
    np.testing.assert_allclose(scores, oracle(vectors, 10), atol=1e-5)
    assert not (positions == np.arange(300)[:, None]).any()


def test_searching_past_the_collection_pads_with_minus_one() -> None:
    vectors = unit_vectors(3)
    scores, positions = VectorIndex.build(vectors).search(vectors, 5)
    assert positions.shape == (3, 3) and (positions >= 0).all()
    empty = VectorIndex.build(np.zeros((0, 32), dtype=np.float32))
    scores, positions = empty.search(vectors, 5)
    assert (positions == -1).all() and np.isneginf(scores).all()


def test_hnsw_above_exact_max_reaches_high_recall() -> None:
    vectors = unit_vectors(2000, dim=16, seed=1)
    index = VectorIndex.build(vectors, IndexSettings(exact_max=1000))
    assert index.kind == "hnsw"
    _, approx = top_without_self(index, vectors, 10)
    _, exact = top_without_self(VectorIndex.build(vectors), vectors, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall > 0.9


def test_save_and_memory_mapped_load_answer_the_same(tmp_path) -> None:  # type: ignore[no-untyped-def]
    vectors = unit_vectors(50)
    index = VectorIndex.build(vectors)
    index.save(tmp_path / "i.faiss")
    loaded = VectorIndex.load(tmp_path / "i.faiss", mmap=True)
    assert len(loaded) == 50
    np.testing.assert_array_equal(loaded.search(vectors[:3], 4)[1], index.search(vectors[:3], 4)[1])


def test_an_extended_hnsw_graph_answers_new_rows_and_never_retired_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    vectors = unit_vectors(300, dim=16, seed=2)
    index = VectorIndex.build(vectors[:200], IndexSettings(exact_max=10))
    # Stored vectors 0..199; rows 0..9 retired (deleted or changed), the rest shift down by 10,
    # and 100 new vectors become rows 190..289.
    rows = np.concatenate([np.full(10, -1), np.arange(190)]).astype(np.int64)
    extended = index.extended(rows, vectors[200:], np.arange(190, 290, dtype=np.int64))
    assert len(extended) == 300 and extended.retired == 10
    extended.save(tmp_path / "i.faiss")
    loaded = VectorIndex.load(tmp_path / "i.faiss", mmap=True)
    live = vectors[10:]  # row r is vector r + 10
    scores, found = loaded.search(live, 5)
    assert found.min() >= 0 and found.max() < 290
    assert (found[:, 0] == np.arange(290)).mean() > 0.95  # each row finds itself first
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", live, live[found]), atol=1e-5)
