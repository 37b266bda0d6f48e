"""Simple ranking methods an editor could use instead, for `related evaluate` to compare with.

Each baseline scores every item of a collection for one source item (higher is better);
`top_k` turns scores into a list under the same candidates and exclusions for every method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

Scores = npt.NDArray[np.float64]


class Baseline(Protocol):
    name: str

    def scores(self, position: int) -> Scores:
        """Scores of every item for the item at `position`; -inf means 'never returned'."""
        ...


def top_k(
    scores: Scores, k: int, *, exclude: int, allowed: npt.NDArray[np.bool_] | None = None
) -> list[int]:
    """Positions of the k best scores, best first, ties in position order; -inf never returned."""
    masked = np.asarray(scores, dtype=np.float64).copy()
    masked[exclude] = -np.inf
    if allowed is not None:
        masked[~allowed] = -np.inf
    order = np.argsort(-masked, kind="stable")[:k]
    return [int(p) for p in order if np.isfinite(masked[p])]


class RandomBaseline:
    name = "random"

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed = n, seed

    def scores(self, position: int) -> Scores:
        # Seeded per source: the same list every run.
        return np.random.default_rng((self.seed, position)).random(self.n)


class MostRecentBaseline:
    """The newest articles, whatever they are about ('latest posts' widgets)."""

    name = "most-recent"

    def __init__(self, published: npt.NDArray[np.float64]) -> None:
        self.published = np.where(np.isnan(published), -np.inf, published)

    def scores(self, position: int) -> Scores:
        return self.published


class TfidfBaseline:
    """Cosine of tf-idf vectors (words, sublinear tf, English stop words removed)."""

    name = "tfidf"

    def __init__(self, documents: Sequence[str]) -> None:
        self.matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(
            documents
        )

    def scores(self, position: int) -> Scores:
        scores: Scores = np.asarray((self.matrix @ self.matrix[position].T).todense()).ravel()
        return scores


class DenseBaseline:
    """Cosine of the embedding vectors alone."""

    name = "dense"

    def __init__(self, vectors: npt.NDArray[np.float32]) -> None:
        self.vectors = np.asarray(vectors, dtype=np.float32)

    def scores(self, position: int) -> Scores:
        scores: Scores = (self.vectors @ self.vectors[position]).astype(np.float64)
        return scores


class BM25MoreLikeThisBaseline:
    """Elasticsearch's More Like This with its defaults, emulated.

    From the source: terms with frequency >= 2 (min_term_freq) in at least 5 documents
    (min_doc_freq), ranked by tf * idf (Lucene's classic idf), the top 25 (max_query_terms);
    they form an OR query scored with BM25 (k1 1.2, b 0.75), of which 30% of the terms must
    match (minimum_should_match). The standard analyzer: lower case, no stop words.
    """

    name = "bm25-mlt"

    def __init__(
        self,
        documents: Sequence[str],
        *,
        max_query_terms: int = 25,
        min_term_freq: int = 2,
        min_doc_freq: int = 5,
        minimum_should_match: float = 0.3,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        counts = sp.csr_matrix(
            CountVectorizer(lowercase=True).fit_transform(documents), dtype=np.float64
        )
        n = counts.shape[0]
        doc_freq = np.asarray((counts > 0).sum(axis=0)).ravel()
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        average = lengths.mean() if n else 1.0
        self.counts = counts
        self.doc_freq = doc_freq
        self.classic_idf = 1.0 + np.log(n / (doc_freq + 1.0))
        bm25_idf = np.log(1.0 + (n - doc_freq + 0.5) / (doc_freq + 0.5))
        # BM25 weight of every (document, term): idf * tf (k1 + 1) / (tf + k1 (1 - b + b len/avg)).
        weights = counts.tocoo()
        norm = k1 * (1 - b + b * lengths[weights.row] / average)
        data = bm25_idf[weights.col] * weights.data * (k1 + 1) / (weights.data + norm)
        self.bm25 = sp.csr_matrix((data, (weights.row, weights.col)), shape=counts.shape)
        self.matches = sp.csr_matrix(counts > 0, dtype=np.float64)
        self.max_query_terms = max_query_terms
        self.min_term_freq = min_term_freq
        self.min_doc_freq = min_doc_freq
        self.minimum_should_match = minimum_should_match

    def query_terms(self, position: int) -> npt.NDArray[np.int64]:
        row = self.counts[position]
        terms, tf = row.indices, row.data
        keep = (tf >= self.min_term_freq) & (self.doc_freq[terms] >= self.min_doc_freq)
        terms, tf = terms[keep], tf[keep]
        order = np.argsort(-(tf * self.classic_idf[terms]), kind="stable")[: self.max_query_terms]
        chosen: npt.NDArray[np.int64] = terms[order].astype(np.int64)
        return chosen

    def scores(self, position: int) -> Scores:
        terms = self.query_terms(position)
        n = self.counts.shape[0]
        if len(terms) == 0:
            return np.full(n, -np.inf)
        query = np.zeros(self.counts.shape[1])
        query[terms] = 1.0
        scores = self.bm25 @ query
        matched = self.matches @ query
        needed = max(1, math.floor(len(terms) * self.minimum_should_match))
        return np.where(matched >= needed, scores, -np.inf)
