"""Index generations on disk, the atomic pointer to the current one, loading and hot reload.

    generations/
        CURRENT                 name of the generation being served (replaced atomically)
        20261125T180102123456Z/ one complete build, never modified once published
            manifest.json  index.faiss  keys.npy  neighbour_keys.npy  neighbour_scores.npy

A build writes into a hidden temporary directory, fsyncs it and renames it into place; only
then is CURRENT swapped. A killed build leaves at most a temporary directory, which the next
build removes; readers only ever follow CURRENT to a complete generation.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.index import VectorIndex
from embeddings.lexical import LexicalModel, Terms
from embeddings.ranking import Basis, Corpus
from service.errors import IndexMismatch
from service.failpoints import failpoint

GENERATION_FORMAT = 5
"""Bumped whenever a generation's files change; a server refuses other formats."""
POINTER = "CURRENT"
MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old content or the new, never a part."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def new_generation_name() -> str:
    # Sortable by age down to the microsecond: clean_up keeps the newest by name.
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def write_generation(
    root: Path,
    *,
    index: VectorIndex,
    arrays: dict[str, npt.NDArray[Any]],
    models: dict[str, LexicalModel],
    matrices: dict[str, sp.csr_matrix],
    manifest: dict[str, Any],
) -> str:
    """Write a complete generation under `root` and return its name (not yet published)."""
    root.mkdir(parents=True, exist_ok=True)
    name = new_generation_name()
    tmp = root / f"{TMP_PREFIX}{name}"
    tmp.mkdir()
    index.save(tmp / "index.faiss")
    failpoint("mid-generation-write")
    for array_name, array in arrays.items():
        np.save(tmp / f"{array_name}.npy", array, allow_pickle=False)
    for model_name, model in models.items():
        model.save(tmp, model_name)
    for matrix_name, matrix in matrices.items():
        save_csr(tmp, matrix_name, matrix)
    (tmp / MANIFEST).write_text(json.dumps({**manifest, "generation": name}, indent=2))
    for child in tmp.iterdir():
        with child.open("rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(tmp)
    os.rename(tmp, root / name)
    _fsync_dir(root)
    return name


def save_csr(directory: Path, name: str, matrix: sp.csr_matrix) -> None:
    """A sparse matrix as three plain arrays, so readers can memory-map it (npz can't be)."""
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    # One index dtype for both arrays: a mismatch makes scipy copy them on load.
    wide = matrix.nnz >= 2**31 or max(matrix.shape) >= 2**31
    index_dtype = np.int64 if wide else np.int32
    np.save(directory / f"{name}.data.npy", matrix.data.astype(np.float32), allow_pickle=False)
    np.save(
        directory / f"{name}.indices.npy", matrix.indices.astype(index_dtype), allow_pickle=False
    )
    np.save(directory / f"{name}.indptr.npy", matrix.indptr.astype(index_dtype), allow_pickle=False)
    np.save(
        directory / f"{name}.shape.npy",
        np.asarray(matrix.shape, dtype=np.int64),
        allow_pickle=False,
    )


def load_csr(directory: Path, name: str) -> sp.csr_matrix:
    """A matrix saved by save_csr, memory-mapped: every worker shares one page-cache copy."""
    parts = [
        np.load(directory / f"{name}.{part}.npy", mmap_mode="r")
        for part in ("data", "indices", "indptr")
    ]
    rows, cols = (int(v) for v in np.load(directory / f"{name}.shape.npy"))
    matrix: sp.csr_matrix = sp.csr_matrix(tuple(parts), shape=(rows, cols), copy=False)
    return matrix


def publish(root: Path, name: str) -> None:
    """Make `name` the generation every reader serves, in one atomic rename."""
    if not (root / name / MANIFEST).is_file():
        raise FileNotFoundError(f"generation {name} is incomplete")
    atomic_write_text(root / POINTER, name + "\n")


def current_name(root: Path) -> str | None:
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def clean_up(root: Path, keep: int) -> list[str]:
    """Remove temporary leftovers and all but the newest `keep` generations (never the current).

    Call only while holding the build lock, so no temporary directory belongs to a live build.
    """
    if not root.is_dir():
        return []
    current = current_name(root)
    removed = []
    for leftover in root.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
        removed.append(leftover.name)
    complete = sorted(p.name for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())
    keep_names = set(complete[-keep:]) | ({current} if current else set())
    for name in complete:
        if name not in keep_names:
            # Workers still serving it keep their memory maps: unlinked files live on until unmapped.
            shutil.rmtree(root / name, ignore_errors=True)
            removed.append(name)
    return removed


@dataclass(frozen=True)
class Generation:
    """A loaded, read-only generation. Arrays are memory-mapped, so workers share one copy."""

    name: str
    path: Path
    manifest: dict[str, Any]
    index: VectorIndex
    keys: npt.NDArray[np.int64]
    """Article keys in ascending order; row i of every array belongs to keys[i]."""
    neighbour_keys: npt.NDArray[np.int64]
    neighbour_scores: npt.NDArray[np.float32]

    @classmethod
    def load(cls, root: Path, name: str, *, ef_search: int | None = None) -> Generation:
        path = root / name
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))

        def array(file: str) -> npt.NDArray[Any]:
            loaded: npt.NDArray[Any] = np.load(
                path / f"{file}.npy", mmap_mode="r", allow_pickle=False
            )
            return loaded

        return cls(
            name=name,
            path=path,
            manifest=manifest,
            index=VectorIndex.load(path / "index.faiss", mmap=True, ef_search=ef_search),
            keys=array("keys"),
            neighbour_keys=array("neighbour_keys"),
            neighbour_scores=array("neighbour_scores"),
        )

    def __len__(self) -> int:
        return len(self.keys)

    # Parts the live path needs, loaded on first use: most requests are plain lookups.
    @cached_property
    def vectors(self) -> npt.NDArray[np.float32]:
        loaded: npt.NDArray[np.float32] = np.load(self.path / "vectors.npy", mmap_mode="r")
        return loaded

    @cached_property
    def published(self) -> npt.NDArray[np.float64]:
        """Publication time (epoch seconds, NaN when unknown) of each row."""
        loaded: npt.NDArray[np.float64] = np.load(self.path / "published.npy", mmap_mode="r")
        return loaded

    @cached_property
    def langs(self) -> npt.NDArray[np.str_]:
        """Language code of each row, lowercased ('' when unknown)."""
        loaded: npt.NDArray[np.str_] = np.load(self.path / "langs.npy", mmap_mode="r")
        return loaded

    @cached_property
    def text_model(self) -> LexicalModel:
        return LexicalModel.load(self.path, "text")

    @cached_property
    def text_terms(self) -> Terms:
        """The text vocabulary by column, memory-mapped (the model itself loads a dictionary)."""
        return Terms.load(self.path, "text")

    @cached_property
    def labels_model(self) -> LexicalModel:
        return LexicalModel.load(self.path, "labels")

    @cached_property
    def stats(self) -> npt.NDArray[np.float32]:
        """Each row's mean and spread of dense, lexical and label similarity over the basis."""
        loaded: npt.NDArray[np.float32] = np.load(self.path / "stats.npy", mmap_mode="r")
        return loaded

    @cached_property
    def basis(self) -> Basis:
        return Basis(
            np.load(self.path / "basis_keys.npy"),
            np.load(self.path / "basis_vectors.npy"),
            load_csr(self.path, "basis_text"),
            load_csr(self.path, "basis_labels"),
        )

    def neighbour_positions(self) -> npt.NDArray[np.int64]:
        """The neighbour lists as rows of this generation (-1 pads)."""
        listed = np.asarray(self.neighbour_keys)
        rows = np.searchsorted(np.asarray(self.keys), np.maximum(listed, 0))
        return np.where(listed >= 0, rows, -1).astype(np.int64)

    @cached_property
    def corpus(self) -> Corpus:
        return Corpus(
            self.index,
            np.asarray(self.keys),
            self.vectors,
            load_csr(self.path, "text"),
            load_csr(self.path, "labels"),
            self.basis,
            stored_postings=load_csr(self.path, "postings"),
        )

    @cached_property
    def duplicate_arrays(
        self,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        rows, cols, sims = (
            np.load(self.path / f"duplicate_{part}.npy", mmap_mode="r")
            for part in ("rows", "cols", "sims")
        )
        return rows, cols, sims

    def text_duplicates(
        self, position: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Rows whose full-text cosine with row `position` is at least the build's
        `duplicate_floor`, and those cosines (rows are stored sorted, so this is two bisections)."""
        rows, cols, sims = self.duplicate_arrays
        start, stop = np.searchsorted(rows, [position, position + 1])
        return np.asarray(cols[start:stop]), np.asarray(sims[start:stop])

    def position(self, key: int) -> int | None:
        pos = int(np.searchsorted(self.keys, key))
        return pos if pos < len(self.keys) and int(self.keys[pos]) == key else None

    def neighbours(self, key: int) -> list[tuple[int, float]] | None:
        """The precomputed (key, score) list of an indexed article, best first; None if absent."""
        pos = self.position(key)
        if pos is None:
            return None
        keys = self.neighbour_keys[pos]
        scores = self.neighbour_scores[pos]
        return [(int(k), float(s)) for k, s in zip(keys, scores, strict=True) if k >= 0]

    def check_compatible(self, encoder_identity: str, dimension: int | None = None) -> None:
        if self.manifest.get("format") != GENERATION_FORMAT:
            raise IndexMismatch(
                f"Index generation {self.name} was written by another version of related-articles "
                f"(format {self.manifest.get('format')}, this one reads {GENERATION_FORMAT}): "
                "rebuild the index (`related build`)"
            )
        built_with = self.manifest.get("encoder")
        if built_with != encoder_identity:
            raise IndexMismatch(
                f"Index generation {self.name} was built with model {built_with!r}, but the service "
                f"is configured for {encoder_identity!r}: rebuild the index (`related build`)"
            )
        if dimension is not None and self.index.dimension != dimension:
            raise IndexMismatch(
                f"Index generation {self.name} has dimension {self.index.dimension}, the model gives "
                f"{dimension}: rebuild the index (`related build`)"
            )


class CurrentGeneration:
    """Follows the CURRENT pointer: each `get()` costs one stat, and reloads when it was swapped.

    This is how every server worker picks up a rebuild without a restart.
    """

    def __init__(self, root: Path, *, ef_search: int | None = None) -> None:
        self.root = root
        self.ef_search = ef_search
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._generation: Generation | None = None

    def get(self) -> Generation | None:
        try:
            stat = os.stat(self.root / POINTER)
        except FileNotFoundError:
            return self._generation
        stamp = (stat.st_ino, stat.st_mtime_ns)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    name = current_name(self.root)
                    if name is not None and (
                        self._generation is None or self._generation.name != name
                    ):
                        self._generation = Generation.load(
                            self.root, name, ef_search=self.ef_search
                        )
                    self._stamp = stamp
        return self._generation
