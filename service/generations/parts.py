"""The files of one generation, declared once: `Parts` lists them and says how each is stored.

Writing (`write_parts`) and loading (`load_parts`) both walk the fields of `Parts`, so the two
cannot drift apart. Arrays and sparse matrices are loaded memory-mapped (a sparse matrix is
three plain arrays, since npz can't be mapped), so every server worker shares one page-cache
copy; lexical models read their vocabulary only when first used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.chrome import Chrome
from embeddings.features import Basis, Corpus
from embeddings.index import VectorIndex
from embeddings.lexical import LexicalModel, Terms
from embeddings.signals import SCALAR_SIGNALS, SPARSE_SIGNALS

Kind = Literal[
    "index",
    "array",
    "matrix",
    "per_signal_matrix",
    "per_signal_model",
    "per_scalar_signal",
    "chrome",
]
INDEX_FILE = "index.faiss"


def _part(kind: Kind, doc: str, prefix: str = "") -> dict[str, str]:
    return {"kind": kind, "doc": doc, "prefix": prefix}


@dataclass(frozen=True)
class Parts:
    """Everything a generation holds besides its manifest; row i of every per-row part belongs
    to the article keys[i]."""

    index: VectorIndex = field(
        metadata=_part("index", "the vector index (and its row map after extensions)")
    )
    keys: npt.NDArray[np.int64] = field(metadata=_part("array", "article keys in ascending order"))
    neighbour_keys: npt.NDArray[np.int64] = field(
        metadata=_part("array", "each row's list (keys, -1 pads)")
    )
    neighbour_scores: npt.NDArray[np.float32] = field(
        metadata=_part("array", "the lists' fused scores")
    )
    stats: npt.NDArray[np.float32] = field(
        metadata=_part("array", "each row's mean and spread per signal")
    )
    vectors: npt.NDArray[np.float32] = field(metadata=_part("array", "each row's embedding"))
    published: npt.NDArray[np.float64] = field(
        metadata=_part("array", "publication time, epoch s (NaN: none)")
    )
    langs: npt.NDArray[np.str_] = field(
        metadata=_part("array", "language code, lowercased ('': unknown)")
    )
    duplicate_rows: npt.NDArray[np.int64] = field(
        metadata=_part("array", "pairs at the duplicate floor: rows")
    )
    duplicate_cols: npt.NDArray[np.int64] = field(metadata=_part("array", "... their other rows"))
    duplicate_sims: npt.NDArray[np.float32] = field(
        metadata=_part("array", "... their full-text cosines")
    )
    basis_keys: npt.NDArray[np.int64] = field(
        metadata=_part("array", "keys of the statistics basis")
    )
    basis_vectors: npt.NDArray[np.float32] = field(
        metadata=_part("array", "the basis's embeddings")
    )
    matrices: Mapping[str, sp.csr_matrix] = field(
        metadata=_part("per_signal_matrix", "each row's sparse vector")
    )
    basis_matrices: Mapping[str, sp.csr_matrix] = field(
        metadata=_part("per_signal_matrix", "the basis's sparse vectors", prefix="basis_")
    )
    scalars: Mapping[str, npt.NDArray[np.float64]] = field(
        metadata=_part("per_scalar_signal", "each scalar signal's number per row", prefix="scalar_")
    )
    basis_scalars: Mapping[str, npt.NDArray[np.float64]] = field(
        metadata=_part("per_scalar_signal", "the basis's numbers", prefix="basis_scalar_")
    )
    postings: sp.csr_matrix = field(
        metadata=_part("matrix", "the text matrix transposed: term -> rows")
    )
    models: Mapping[str, LexicalModel] = field(
        metadata=_part("per_signal_model", "each sparse signal's model")
    )
    chrome: Chrome = field(metadata=_part("chrome", "the site chrome left out of every text"))

    def corpus(self) -> Corpus:
        basis = Basis(
            self.basis_vectors,
            self.basis_matrices,
            self.basis_scalars,
            keys=np.asarray(self.basis_keys),
        )
        return Corpus(
            self.vectors,
            self.matrices,
            self.scalars,
            index=self.index,
            keys=np.asarray(self.keys),
            basis=basis,
            stored_postings=self.postings,
        )


def write_parts(directory: Path, parts: Parts) -> None:
    """Every part of `parts` as files in `directory` (not fsynced: the caller does that)."""
    for f in fields(Parts):
        value, kind, prefix = getattr(parts, f.name), f.metadata["kind"], f.metadata["prefix"]
        if kind == "index":
            value.save(directory / INDEX_FILE)
        elif kind == "array":
            np.save(directory / f"{f.name}.npy", value, allow_pickle=False)
        elif kind == "matrix":
            save_csr(directory, f.name, value)
        elif kind == "per_signal_matrix":
            for signal in SPARSE_SIGNALS:
                save_csr(directory, prefix + signal.name, value[signal.name])
        elif kind == "per_signal_model":
            for signal in SPARSE_SIGNALS:
                value[signal.name].save(directory, signal.name)
        elif kind == "per_scalar_signal":
            for signal in SCALAR_SIGNALS:
                np.save(directory / f"{prefix}{signal.name}.npy", value[signal.name])
        elif kind == "chrome":
            value.save(directory)


def load_parts(directory: Path, *, ef_search: int | None = None) -> Parts:
    """The parts written by `write_parts`, memory-mapped."""
    values: dict[str, Any] = {}
    for f in fields(Parts):
        kind, prefix = f.metadata["kind"], f.metadata["prefix"]
        if kind == "index":
            values[f.name] = VectorIndex.load(directory / INDEX_FILE, ef_search=ef_search)
        elif kind == "array":
            # A plain array over the map: indexing a np.memmap costs several times more.
            values[f.name] = np.asarray(np.load(directory / f"{f.name}.npy", mmap_mode="r"))
        elif kind == "matrix":
            values[f.name] = load_csr(directory, f.name)
        elif kind == "per_signal_matrix":
            values[f.name] = {s.name: load_csr(directory, prefix + s.name) for s in SPARSE_SIGNALS}
        elif kind == "per_signal_model":
            values[f.name] = {
                s.name: LexicalModel.load(directory, s.name, str(s.vectorizer))
                for s in SPARSE_SIGNALS
            }
        elif kind == "per_scalar_signal":
            values[f.name] = {
                s.name: np.load(directory / f"{prefix}{s.name}.npy", mmap_mode="r")
                for s in SCALAR_SIGNALS
            }
        elif kind == "chrome":
            values[f.name] = Chrome.load(directory)
    return Parts(**values)


def load_terms(directory: Path, signal: str) -> Terms:
    """A sparse signal's vocabulary by column, memory-mapped (saved with its model)."""
    return Terms.load(directory, signal)


def save_csr(directory: Path, name: str, matrix: sp.csr_matrix) -> None:
    """A sparse matrix as three plain arrays, so readers can memory-map it (npz can't be)."""
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    # One index dtype for both arrays: a mismatch makes scipy copy them on load.
    wide = matrix.nnz >= 2**31 or max(matrix.shape) >= 2**31
    index_dtype = np.int64 if wide else np.int32
    arrays = {
        "data": matrix.data.astype(np.float32),
        "indices": matrix.indices.astype(index_dtype),
        "indptr": matrix.indptr.astype(index_dtype),
        "shape": np.asarray(matrix.shape, dtype=np.int64),
    }
    for part, array in arrays.items():
        np.save(directory / f"{name}.{part}.npy", array, allow_pickle=False)


def load_csr(directory: Path, name: str) -> sp.csr_matrix:
    """A matrix saved by save_csr, memory-mapped."""
    parts = [
        np.load(directory / f"{name}.{part}.npy", mmap_mode="r")
        for part in ("data", "indices", "indptr")
    ]
    rows, cols = (int(v) for v in np.load(directory / f"{name}.shape.npy"))
    matrix: sp.csr_matrix = sp.csr_matrix(tuple(parts), shape=(rows, cols), copy=False)
    return matrix
