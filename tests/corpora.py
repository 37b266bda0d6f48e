"""Small corpora built from plain strings, for tests of the ranking code (no store, no model)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.features import Corpus, Features, Queries
from embeddings.lexical import LexicalModel
from embeddings.signals import SPARSE_SIGNALS, ItemText


def random_unit_vectors(n: int, dim: int = 8, seed: int = 0) -> npt.NDArray[np.float32]:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def features_of(
    docs: list[str],
    labels: list[tuple[str, ...]] | None = None,
    vectors: npt.NDArray[np.float32] | None = None,
) -> Features:
    """Every sparse signal fitted on `docs` (as bodies) and `labels`; random vectors unless
    given, so dense similarity is noise."""
    items = [ItemText("", doc, (labels or [()] * len(docs))[i]) for i, doc in enumerate(docs)]
    sparse = {}
    for signal in SPARSE_SIGNALS:
        assert signal.document is not None and signal.vectorizer is not None
        _, sparse[signal.name] = LexicalModel.fit(
            [signal.document(item) for item in items], signal.vectorizer
        )
    return Features(random_unit_vectors(len(docs)) if vectors is None else vectors, sparse)


def corpus_of(
    docs: list[str],
    labels: list[tuple[str, ...]] | None = None,
    vectors: npt.NDArray[np.float32] | None = None,
) -> Corpus:
    return Corpus.from_features(features_of(docs, labels, vectors))


def query_of(corpus: Corpus, row: int) -> Queries:
    """Row `row` of `corpus` as a query from outside the collection (no own key)."""
    taken = corpus.take(np.asarray([row]))
    return Queries(taken.vectors, taken.sparse)


WORDS = [
    "grid",
    "harbour",
    "tram",
    "council",
    "budget",
    "vaccine",
    "league",
    "festival",
    "drought",
    "satellite",
    "bridge",
    "election",
    "housing",
    "museum",
    "strike",
    "wind",
    "battery",
    "ferry",
    "school",
    "market",
]


def synthetic_articles(
    count: int, prefix: str, seed: int = 0, *, body_words: int = 40
) -> list[dict[str, Any]]:
    """Articles of random words from a small vocabulary: enough to rank, cheap to make."""
    rng = random.Random(seed)
    return [
        {
            "id": f"{prefix}-{i}",
            "title": " ".join(rng.choices(WORDS, k=6)).capitalize(),
            "body": " ".join(rng.choices(WORDS, k=body_words)),
            "published": f"2025-{1 + i % 12:02d}-01",
        }
        for i in range(count)
    ]
