"""Lexical models (`embeddings.lexical`): sampled fits, parallel transforms, saved vocabularies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import lexical
from embeddings.lexical import LexicalModel, Terms


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


def test_a_saved_model_is_read_on_first_use_and_transforms_alike(tmp_path: Path) -> None:
    docs = ["battery storage for the grid", "the grid at night", "football league title"]
    model, matrix = LexicalModel.fit(docs)
    model.save(tmp_path, "lexical")
    loaded = LexicalModel.load(tmp_path, "lexical", "text")
    assert loaded._vectorizer is None  # nothing read yet
    np.testing.assert_allclose(loaded.transform(docs).toarray(), matrix.toarray(), rtol=1e-6)
