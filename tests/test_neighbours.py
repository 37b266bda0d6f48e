"""Index and neighbour lists against an exact numpy oracle (ties tolerated)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from embeddings.index import IndexSettings, VectorIndex
from embeddings.neighbours import all_neighbours, drop_self


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> npt.NDArray[np.float32]:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def oracle(vectors: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.float32]:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return -np.sort(-sims, axis=1)[:, :k]


def test_exact_lists_match_the_oracle_scores_and_never_contain_self() -> None:
    vectors = unit_vectors(300)
    index = VectorIndex.build(vectors)
    assert index.kind == "flat"
    scores, positions = all_neighbours(index, vectors, 10, batch_size=64)
    np.testing.assert_allclose(scores, oracle(vectors, 10), atol=1e-5)
    assert not (positions == np.arange(300)[:, None]).any()


def test_exact_duplicates_do_not_push_out_a_neighbour() -> None:
    vectors = unit_vectors(20)
    vectors[5] = vectors[4]
    _, positions = all_neighbours(VectorIndex.build(vectors), vectors, 3)
    assert positions[4][0] == 5 and positions[5][0] == 4
    assert 4 not in positions[4] and 5 not in positions[5]


def test_short_collections_pad_lists_with_minus_one() -> None:
    vectors = unit_vectors(3)
    scores, positions = all_neighbours(VectorIndex.build(vectors), vectors, 5)
    assert (positions[:, 2:] == -1).all() and np.isneginf(scores[:, 2:]).all()


def test_drop_self_keeps_order_and_width() -> None:
    scores = np.array([[1.0, 0.9, 0.8]], dtype=np.float32)
    positions = np.array([[7, 3, 2]], dtype=np.int64)
    _, p = drop_self(scores, positions, np.array([7]), 3)
    assert p.tolist() == [[3, 2, -1]]


def test_hnsw_above_exact_max_reaches_high_recall() -> None:
    vectors = unit_vectors(2000, dim=16, seed=1)
    index = VectorIndex.build(vectors, IndexSettings(exact_max=1000))
    assert index.kind == "hnsw"
    _, approx = all_neighbours(index, vectors, 10)
    _, exact = all_neighbours(VectorIndex.build(vectors), vectors, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall > 0.9


def test_save_and_memory_mapped_load_answer_the_same(tmp_path) -> None:  # type: ignore[no-untyped-def]
    vectors = unit_vectors(50)
    index = VectorIndex.build(vectors)
    index.save(tmp_path / "i.faiss")
    loaded = VectorIndex.load(tmp_path / "i.faiss", mmap=True)
    assert len(loaded) == 50
    np.testing.assert_array_equal(loaded.search(vectors[:3], 4)[1], index.search(vectors[:3], 4)[1])
