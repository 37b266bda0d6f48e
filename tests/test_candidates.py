"""Candidate generation (`embeddings.candidates`) and the pair products of `embeddings.features`,
against sorting and dense arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from embeddings import candidates
from embeddings.features import Features, cross, gathered, paired
from embeddings.signals import signal
from tests.corpora import random_unit_vectors


def sort_oracle(matrix: sp.csr_matrix, count: int) -> list[set[int]]:
    top = []
    for row in range(matrix.shape[0]):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        order = np.argsort(-matrix.data[start:stop], kind="stable")[:count]
        top.append(set(matrix.indices[start:stop][order].tolist()))
    return top


@pytest.mark.parametrize("long_row", [50_000, 30])
def test_row_top_matches_sorting_every_row(long_row: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(candidates, "LONG_ROW", long_row)  # also the path for very long rows
    matrix = sp.random(40, 500, density=0.1, format="csr", dtype=np.float32, random_state=3)
    matrix = sp.csr_matrix(sp.vstack([matrix, sp.csr_matrix((2, 500), dtype=np.float32)]))
    found = candidates.row_top(matrix, 7)
    assert found.shape == (42, 7)
    for row, expected in enumerate(sort_oracle(matrix, 7)):
        assert set(found[row][found[row] >= 0].tolist()) == expected
    assert (found[40:] == -1).all()


def test_strongest_terms_keep_each_rows_largest_entries() -> None:
    matrix = sp.random(20, 300, density=0.2, format="csr", dtype=np.float32, random_state=4)
    kept = candidates.keep_strongest(matrix, 5)
    assert (np.diff(kept.indptr) == np.minimum(np.diff(matrix.indptr), 5)).all()
    for row, expected in enumerate(sort_oracle(matrix, 5)):
        assert set(kept[row].indices.tolist()) == expected


@pytest.mark.parametrize("name", ["dense", "lexical"])
def test_cross_gathered_and_paired_products_agree_with_dense_arithmetic(name: str) -> None:
    matrix = sp.random(20, 300, density=0.2, format="csr", dtype=np.float32, random_state=4)
    vectors = random_unit_vectors(20, 16)
    features = Features(vectors, {"lexical": matrix, "labels": matrix})
    dense = vectors if name == "dense" else matrix.toarray()
    chosen = signal(name)
    queries, rows = features.take(np.arange(6)), features
    np.testing.assert_allclose(cross(chosen, queries, rows), dense[:6] @ dense.T, rtol=1e-5)
    positions = np.random.default_rng(0).integers(0, 20, size=(6, 4))
    np.testing.assert_allclose(
        gathered(chosen, queries, rows, positions),
        np.einsum("qt,qkt->qk", dense[:6], dense[positions]),
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        paired(chosen, queries, features.take(np.arange(6, 12))),
        np.einsum("qt,qt->q", dense[:6], dense[6:12]),
        rtol=1e-5,
        atol=1e-6,
    )
