"""The vector index: FAISS over L2-normalised vectors, so inner product is cosine similarity.

Rows are addressed by position 0..n-1; callers keep their own position -> id array. Exact
`IndexFlatIP` up to `exact_max` vectors (exact and fast enough, and it memory-maps zero-copy),
HNSW above it, where exact search grows too slow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class IndexSettings:
    exact_max: int = 50_000
    """Largest collection searched exactly; above it an HNSW graph is built."""
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 128


class VectorIndex:
    """A FAISS index over unit vectors with `search` returning (scores, positions)."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def build(
        cls, vectors: npt.NDArray[np.float32], settings: IndexSettings | None = None
    ) -> VectorIndex:
        settings = settings or IndexSettings()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        index: faiss.Index
        if n <= settings.exact_max:
            index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = settings.hnsw_ef_construction
            index.hnsw.efSearch = settings.hnsw_ef_search
        index.add(vectors)
        return cls(index)

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True, ef_search: int | None = None) -> VectorIndex:
        # IO_FLAG_MMAP_IFC maps flat codes zero-copy: every worker shares one page-cache copy.
        flags = faiss.IO_FLAG_MMAP_IFC if mmap else 0
        index = faiss.read_index(str(path), flags)
        if ef_search is not None and isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = ef_search
        return cls(index)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self._index, faiss.IndexHNSW) else "flat"

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(
        self, queries: npt.NDArray[np.float32], k: int
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Top-k by cosine for each query row: (scores, positions), each (n_queries, k).

        Missing results (k > len) come back as position -1 with score -inf.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        k = max(1, min(k, len(self))) if len(self) else 1
        if len(self) == 0:
            empty = np.full((len(queries), 1), -1, dtype=np.int64)
            return np.full((len(queries), 1), -np.inf, dtype=np.float32), empty
        scores, positions = self._index.search(queries, k)
        scores = np.where(positions < 0, -np.inf, scores).astype(np.float32)
        return scores, positions.astype(np.int64)
