"""The vector index: FAISS over L2-normalised vectors, so inner product is cosine similarity.

Search answers rows 0..n-1; callers keep their own row -> id array. Exact `IndexFlatIP` up to
`exact_max` vectors (exact and fast enough, and it memory-maps zero-copy), HNSW above it, where
exact search grows too slow.

An HNSW graph costs minutes to build at a million vectors, so an incremental build extends the
last one instead: new vectors are added, and a stored vector -> row map retires the vectors of
changed and deleted articles (their entries stay in the graph, skipped in results, until the
next full build compacts them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class IndexSettings:
    exact_max: int = 20_000
    """Largest collection searched exactly; above it an HNSW graph is built."""
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 64


class VectorIndex:
    """A FAISS index over unit vectors with `search` returning (scores, positions)."""

    def __init__(self, index: faiss.Index, rows: npt.NDArray[np.int64] | None = None) -> None:
        self._index = index
        self.rows = rows
        """Row of each stored vector (-1: retired); None when vector i is row i."""

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

    def extended(
        self,
        rows: npt.NDArray[np.int64],
        vectors: npt.NDArray[np.float32],
        new_rows: npt.NDArray[np.int64],
    ) -> VectorIndex:
        """This index (loaded writable) with `vectors` added as rows `new_rows`, its earlier
        vectors readdressed: stored vector i answers as row `rows[i]` from now on (-1: never)."""
        if len(rows) != len(self):
            raise ValueError(f"{len(rows)} row numbers for {len(self)} stored vectors")
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return VectorIndex(self._index, np.concatenate([rows, new_rows]).astype(np.int64))

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (FAISS indexes are not), so a distributed build can ship it to its workers.
        return (_from_serialized, (faiss.serialize_index(self._index), self.rows))

    @property
    def retired(self) -> int:
        """Stored vectors that no longer answer (changed or deleted since the last full build)."""
        return 0 if self.rows is None else int((self.rows < 0).sum())

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True, ef_search: int | None = None) -> VectorIndex:
        # IO_FLAG_MMAP_IFC maps flat codes zero-copy: every worker shares one page-cache copy.
        flags = faiss.IO_FLAG_MMAP_IFC if mmap else 0
        index = faiss.read_index(str(path), flags)
        if ef_search is not None and isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = ef_search
        rows_path = _rows_path(path)
        rows = np.load(rows_path, mmap_mode="r" if mmap else None) if rows_path.exists() else None
        return cls(index, rows)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))
        if self.rows is not None:
            np.save(_rows_path(path), self.rows, allow_pickle=False)

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self._index, faiss.IndexHNSW) else "flat"

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        """Stored vectors, retired ones included."""
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
        if self.rows is None:
            scores, positions = self._index.search(queries, k)
            scores = np.where(positions < 0, -np.inf, scores).astype(np.float32)
            return scores, positions.astype(np.int64)
        # Over-fetch by the retired share (and a margin), then drop retired entries.
        fetch = min(len(self), k + int(np.ceil(k * 2 * self.retired / len(self))) + 8)
        scores, stored = self._index.search(queries, fetch)
        rows = np.where(stored >= 0, self.rows[np.maximum(stored, 0)], -1)
        scores = np.where(rows < 0, -np.inf, scores)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        scores = np.take_along_axis(scores, order, axis=1).astype(np.float32)
        rows = np.take_along_axis(rows, order, axis=1)
        return scores, np.where(np.isfinite(scores), rows, -1).astype(np.int64)


def _from_serialized(
    data: npt.NDArray[np.uint8], rows: npt.NDArray[np.int64] | None
) -> VectorIndex:
    return VectorIndex(faiss.deserialize_index(data), rows)


def _rows_path(index_path: Path) -> Path:
    return index_path.with_name(index_path.name + ".rows.npy")
