"""Index generations on disk, the atomic pointer to the current one, loading and hot reload.

    generations/
        CURRENT                 name of the generation being served (replaced atomically)
        20261125T180102123456Z/ one complete build, never modified once published:
                                manifest.json and the files of `generations.parts.Parts`

A build writes into a hidden temporary directory, fsyncs it and renames it into place; only
then is CURRENT swapped. A killed build leaves at most a temporary directory, which the next
build removes; readers only ever follow CURRENT to a complete generation.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.features import Corpus
from embeddings.lexical import LexicalModel, Terms
from embeddings.signals import LABEL_SIGNAL, TEXT_SIGNAL, Weights
from service.disk.atomic import atomic_write_text, fsync_dir, fsync_tree
from service.disk.failpoints import failpoint
from service.errors import IndexMismatch
from service.generations.answers import StoredAnswers
from service.generations.checksums import digest_tree
from service.generations.manifest import Manifest
from service.generations.parts import Parts, load_parts, load_terms, write_parts
from service.ingest.chrome import text_rules

POINTER = "CURRENT"
MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"


def new_generation_name() -> str:
    # Sortable by age down to the microsecond: remove_old keeps the newest by name.
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def write_generation(
    root: Path,
    manifest: Manifest,
    parts: Parts,
    *,
    extra: Callable[[Generation], None] | None = None,
) -> None:
    """Write a complete generation named `manifest.generation` under `root` (not published),
    its manifest listing every file's size and checksum. `extra` is given the generation as it
    is being written (its `path` the temporary directory) to add files made from it (the
    precomputed answers), before the checksums are taken."""
    root.mkdir(parents=True, exist_ok=True)
    name = manifest.generation
    tmp = root / f"{TMP_PREFIX}{name}"
    tmp.mkdir()
    try:
        write_parts(tmp, parts)
        if extra is not None:
            extra(Generation(name, tmp, manifest, parts))
        failpoint("mid-generation-write")
        manifest = dataclasses.replace(manifest, files=digest_tree(tmp))
        (tmp / MANIFEST).write_text(manifest.dumps(), encoding="utf-8")
        fsync_tree(tmp)
        os.rename(tmp, root / name)
    except BaseException:
        # A failed write (a full disk) frees its space at once; a killed one is removed by
        # the next build.
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(root)


def make_current(root: Path, name: str) -> None:
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


def remove_old(root: Path, keep: int) -> list[str]:
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


def read_manifest(root: Path, name: str) -> Manifest:
    path = root / name / MANIFEST
    return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")), where=name)


@dataclass(frozen=True)
class Generation:
    """A loaded, read-only generation. Arrays are memory-mapped, so workers share one copy."""

    name: str
    path: Path
    manifest: Manifest
    parts: Parts

    @classmethod
    def load(cls, root: Path, name: str, *, ef_search: int | None = None) -> Generation:
        manifest = read_manifest(root, name)  # refuses another format before reading files
        return cls(name, root / name, manifest, load_parts(root / name, ef_search=ef_search))

    def __len__(self) -> int:
        return len(self.parts.keys)

    @cached_property
    def corpus(self) -> Corpus:
        return self.parts.corpus()

    @cached_property
    def answers(self) -> StoredAnswers | None:
        """Its precomputed answers (`service.generations.answers`); None if built without."""
        return StoredAnswers.load(self.path)

    @cached_property
    def weights(self) -> Weights:
        """The weights its lists were ranked with (searches and explanations use the same)."""
        return Weights(self.manifest.ranking.weights)

    @property
    def text_model(self) -> LexicalModel:
        return self.parts.models[TEXT_SIGNAL]

    @property
    def labels_model(self) -> LexicalModel:
        return self.parts.models[LABEL_SIGNAL]

    @cached_property
    def text_terms(self) -> Terms:
        """The text vocabulary by column, memory-mapped (the model itself loads a dictionary)."""
        return load_terms(self.path, TEXT_SIGNAL)

    def summary(self) -> dict[str, Any]:
        """What `GET /index` tells of the generation served (a primary's and a replica's)."""
        manifest = self.manifest
        return {
            "generation": self.name,
            "built_at": manifest.built_at,
            "articles": manifest.count,
            "model": manifest.model,
            "encoder": manifest.encoder,
            "dimension": manifest.dimension,
            "index_kind": manifest.index_kind,
            "index_retired": manifest.index_retired,
            "mode": manifest.mode,
            "neighbours": manifest.neighbours,
            "profile": manifest.ranking.profile,
            "weights": manifest.ranking.weights,
            "text_rules": text_rules(self.parts.chrome),
        }

    def neighbour_positions(self) -> npt.NDArray[np.int64]:
        """The neighbour lists as rows of this generation (-1 pads)."""
        listed = np.asarray(self.parts.neighbour_keys)
        rows = np.searchsorted(np.asarray(self.parts.keys), np.maximum(listed, 0))
        return np.where(listed >= 0, rows, -1).astype(np.int64)

    def text_duplicates(
        self, position: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Rows whose full-text cosine with row `position` is at least the build's
        `duplicate_floor`, and those cosines (rows are stored sorted, so this is two bisections)."""
        bounds = self.duplicate_bounds
        start, stop = int(bounds[position]), int(bounds[position + 1])
        return (
            np.asarray(self.parts.duplicate_cols[start:stop]),
            np.asarray(self.parts.duplicate_sims[start:stop]),
        )

    @cached_property
    def duplicate_bounds(self) -> npt.NDArray[np.int64]:
        """Where each row's near-duplicates start in the duplicate arrays (and the last end):
        one bisection per row once, instead of two per look-up (8 bytes a row)."""
        rows = np.asarray(self.parts.duplicate_rows)
        return np.searchsorted(rows, np.arange(len(self) + 1)).astype(np.int64)

    def positions(self, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Rows of indexed `keys` (one bisection for all; every key must be indexed)."""
        return np.searchsorted(self.parts.keys, keys).astype(np.int64)

    def position(self, key: int) -> int | None:
        keys = self.parts.keys
        pos = int(keys.searchsorted(key))
        return pos if pos < len(keys) and int(keys[pos]) == key else None

    def neighbours(self, key: int) -> list[tuple[int, float]] | None:
        """The precomputed (key, score) list of an indexed article, best first; None if absent."""
        pos = self.position(key)
        if pos is None:
            return None
        keys = self.parts.neighbour_keys[pos].tolist()
        scores = self.parts.neighbour_scores[pos].tolist()
        return [(k, s) for k, s in zip(keys, scores, strict=True) if k >= 0]

    def check_compatible(self, encoder_identity: str, dimension: int | None = None) -> None:
        built_with = self.manifest.encoder
        if built_with != encoder_identity:
            raise IndexMismatch(
                f"Index generation {self.name} was built with model {built_with!r}, but the service "
                f"is configured for {encoder_identity!r}: rebuild the index (`related build`)"
            )
        if dimension is not None and self.parts.index.dimension != dimension:
            raise IndexMismatch(
                f"Index generation {self.name} has dimension {self.parts.index.dimension}, the "
                f"model gives {dimension}: rebuild the index (`related build`)"
            )


class CurrentGeneration:
    """Follows the CURRENT pointer: each `get()` costs one stat, and reloads when it was swapped.

    This is how every server worker picks up a rebuild without a restart. A generation that
    can't be served (another format) raises IndexMismatch from `get()` until a rebuild.
    """

    def __init__(self, root: Path, *, ef_search: int | None = None) -> None:
        self.root = root
        self._pointer = str(root / POINTER)  # stat'ed on every request: no Path joining
        self.ef_search = ef_search
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._generation: Generation | None = None

    def get(self) -> Generation | None:
        try:
            stat = os.stat(self._pointer)
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
