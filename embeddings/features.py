"""Items as features per signal, and the three ways ranking compares them.

Every signal's features are unit rows: a dense array for the embedding, a sparse matrix for the
others. `Queries` are items being ranked, `Corpus` what they are ranked against, `Basis` the
frozen sample every query is standardised against. Row i of every part of one of them belongs
to the same item.

Similarity is the dot product of rows, computed in one of three shapes: every pair of two sets
(`cross`), chosen pairs laid out as a grid of positions (`gathered`), or row i with row i
(`paired`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Union

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.index import IndexSettings, VectorIndex
from embeddings.signals import DAY, SIGNALS, TEXT_SIGNAL, UNKNOWN_GAP_DAYS, Signal

FloatArray = npt.NDArray[np.float32]
PositionArray = npt.NDArray[np.int64]
KeyArray = npt.NDArray[np.int64]
Rows = Union[FloatArray, sp.csr_matrix]  # noqa: UP007 (a runtime alias)
BASIS_SIZE = 2000


@dataclass(frozen=True)
class Features:
    """Dense vectors, one sparse matrix per sparse signal and one number per item per scalar
    signal (days since the epoch for age, the prior for a prior), for the same items."""

    vectors: FloatArray
    sparse: Mapping[str, sp.csr_matrix] = field(default_factory=dict)
    scalars: Mapping[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def of(self, signal: Signal) -> Rows:
        if signal.dense:
            return self.vectors
        if signal.sparse:
            return self.sparse[signal.name]
        return self.scalar(signal)

    def scalar(self, signal: Signal) -> npt.NDArray[np.float64]:
        """The signal's number per item (0 for every item when it was not given)."""
        found = self.scalars.get(signal.name)
        if found is None:
            return np.zeros(len(self), dtype=np.float64)
        return np.asarray(found, dtype=np.float64)

    @property
    def text(self) -> sp.csr_matrix:
        """The full-text signal's rows (near-duplicates, lexical candidates)."""
        return self.sparse[TEXT_SIGNAL]

    def transposed(self, signal: Signal) -> sp.csr_matrix:
        """A sparse signal's matrix transposed, as CSR, made once: what a product with every
        row needs (scipy would convert `matrix.T` on every product: a copy of the matrix)."""
        cache = self.__dict__.setdefault("_transposed", {})
        found: sp.csr_matrix | None = cache.get(signal.name)
        if found is None:
            found = cache[signal.name] = sp.csr_matrix(self.sparse[signal.name].T)
        return found

    def take(self, rows: PositionArray | slice | int) -> Features:
        """The features of `rows` (a copy for arrays of rows, a view for slices)."""
        if isinstance(rows, int | np.integer):
            rows = slice(int(rows), int(rows) + 1)
        vectors = np.ascontiguousarray(np.asarray(self.vectors)[rows], dtype=np.float32)
        return Features(
            vectors,
            {n: sp.csr_matrix(m[rows]) for n, m in self.sparse.items()},
            {n: np.asarray(v, dtype=np.float64)[rows] for n, v in self.scalars.items()},
        )


@dataclass(frozen=True, kw_only=True)
class Queries(Features):
    keys: KeyArray | None = None
    """Each query's own key (-1: not in the collection), left out of its statistics."""

    def own_keys(self) -> KeyArray:
        return self.keys if self.keys is not None else np.full(len(self), -1, dtype=np.int64)


@dataclass(frozen=True, kw_only=True)
class Basis(Features):
    """The reference sample every query is standardised against, with its own copies of the
    sampled rows (so deleting a sampled item later changes nothing)."""

    keys: KeyArray

    @classmethod
    def sample(cls, keys: KeyArray, features: Features, size: int = BASIS_SIZE) -> Basis:
        """All rows of small collections; a fixed random sample of `size` rows of large ones."""
        n = len(keys)
        rows = (
            np.arange(n)
            if n <= size
            else np.sort(np.random.default_rng(0).choice(n, size, replace=False))
        )
        taken = features.take(rows)
        keys = np.asarray(keys)[rows].astype(np.int64)
        return cls(taken.vectors, taken.sparse, taken.scalars, keys=keys)


@dataclass(frozen=True, kw_only=True)
class Corpus(Features):
    """What queries are ranked against, with its vector index and statistics basis."""

    index: VectorIndex
    keys: KeyArray
    basis: Basis
    stored_postings: sp.csr_matrix | None = None
    """`postings` as a generation stored them; computed on first use when absent."""

    @classmethod
    def from_features(
        cls,
        features: Features,
        keys: KeyArray | None = None,
        *,
        index: VectorIndex | None = None,
        settings: IndexSettings | None = None,
    ) -> Corpus:
        """A corpus of `features` (keys 0..n-1 unless given): a vector index over its vectors
        unless given one, and a basis sampled from it."""
        keys = np.arange(len(features), dtype=np.int64) if keys is None else keys
        index = index or VectorIndex.build(features.vectors, settings)
        basis = Basis.sample(keys, features)
        return cls(
            features.vectors,
            features.sparse,
            features.scalars,
            index=index,
            keys=keys,
            basis=basis,
        )

    @cached_property
    def postings(self) -> sp.csr_matrix:
        """The text matrix transposed, (terms x rows): the rows holding each term, so a query
        costs the length of its terms' postings, not a pass over every row."""
        if self.stored_postings is not None:
            return self.stored_postings
        return sp.csr_matrix(self.text.T, dtype=np.float32)

    def transposed(self, signal: Signal) -> sp.csr_matrix:
        """The text signal's is its stored postings; the others are made once."""
        return self.postings if signal.name == TEXT_SIGNAL else super().transposed(signal)

    def queries(self, rows: PositionArray) -> Queries:
        """Items of this corpus as queries (their own keys left out of their statistics)."""
        taken = self.take(rows)
        keys = np.asarray(self.keys)[rows].astype(np.int64)
        return Queries(taken.vectors, taken.sparse, taken.scalars, keys=keys)


def _scalar_similarity(
    signal: Signal, left: npt.NDArray[np.float64], right: npt.NDArray[np.float64]
) -> FloatArray:
    """Elementwise similarity of broadcast scalar arrays: closeness in time, or the prior."""
    if signal.kind == "prior":
        return np.broadcast_to(right, np.broadcast_shapes(left.shape, right.shape)).astype(
            np.float32
        )
    gap = np.abs(left - right) / DAY
    return (-np.log1p(np.where(np.isnan(gap), UNKNOWN_GAP_DAYS, gap))).astype(np.float32)


def cross(signal: Signal, a: Features, b: Features) -> FloatArray:
    """Similarity of every row of `a` with every row of `b`: (len(a), len(b))."""
    if signal.scalar:
        return _scalar_similarity(signal, a.scalar(signal)[:, None], b.scalar(signal)[None, :])
    left, right = a.of(signal), b.of(signal)
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        return np.asarray(np.asarray(left) @ np.asarray(right).T, dtype=np.float32)
    return np.asarray((left @ b.transposed(signal)).todense(), dtype=np.float32)


def gathered(signal: Signal, a: Features, b: Features, positions: PositionArray) -> FloatArray:
    """Similarity of row i of `a` with row positions[i, j] of `b`, for every (i, j)."""
    if signal.scalar:
        return _scalar_similarity(signal, a.scalar(signal)[:, None], b.scalar(signal)[positions])
    left, right = a.of(signal), b.of(signal)
    count, width = positions.shape
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        rows = np.asarray(right)[positions]
        dense: FloatArray = np.einsum("bcd,bd->bc", rows, np.asarray(left)).astype(np.float32)
        return dense
    repeated = left[np.repeat(np.arange(count), width)]
    products = np.asarray(repeated.multiply(right[positions.ravel()]).sum(axis=1), np.float32)
    return products.reshape(count, width)


def paired(signal: Signal, a: Features, b: Features) -> FloatArray:
    """Similarity of row i of `a` with row i of `b`."""
    if signal.scalar:
        return _scalar_similarity(signal, a.scalar(signal), b.scalar(signal))
    left, right = a.of(signal), b.of(signal)
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        dense: FloatArray = np.einsum("pd,pd->p", np.asarray(left), np.asarray(right))
        return dense.astype(np.float32)
    return np.asarray(left.multiply(right).sum(axis=1), dtype=np.float32).ravel()


def similarities(
    a: Features, b: Features, positions: PositionArray | None = None
) -> dict[str, FloatArray]:
    """Every signal's similarity: `cross` without positions, else `gathered`."""
    if positions is None:
        return {s.name: cross(s, a, b) for s in SIGNALS}
    return {s.name: gathered(s, a, b, positions) for s in SIGNALS}
