"""A generation's precomputed answers: each article's encoded answers, found by its id.

A build renders every article's answer for the default options and for each of a few common
requests, its variants (the JSON bytes a server would send; `service.related.precomputed` says
which), and stores them with the generation, next to what they were made from: the store's
versions read just before rendering and a fingerprint of the settings that shape an answer.
A server sends one only while its own versions and fingerprint are the same, so an edit, a
pin or a block makes it fall back to ranking at once (see `service.related.precomputed`).

    answers.json            what the answers were made from, how many articles have them and
                            how many variants each
    answers.bytes           the bodies, one after another
    answers.index.npy       per article, sorted by the hash of its id: hash, id start and end,
                            then each variant's body start and end (int64 x 3 + 2 x variants;
                            an empty body: none stored for that variant)
    answers.ids             the ids (UTF-8), one after another
    answers.depth.npy       per row of the generation, how many entries of its stored list
                            the answer depends on (0: more than the list; int32), for the
                            next incremental build (`service.related.answer_reuse`)

Read memory-mapped, so every worker shares one copy; a look-up is one bisection of the hashes
and a comparison of the id's bytes (two ids sharing a 64-bit hash are both found).
"""

from __future__ import annotations

import hashlib
import json
import mmap
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

META = "answers.json"
BODIES = "answers.bytes"
INDEX = "answers.index.npy"
IDS = "answers.ids"
DEPTHS = "answers.depth.npy"
FILES = (META, BODIES, INDEX, IDS, DEPTHS)
"""Every file of the part, as the generation's checksums list them."""
LAYOUT = 3
"""The index's layout; a generation stored with another one has its answers ranked instead."""


def id_hash(article_id: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(article_id.encode(), digest_size=8).digest(), "little", signed=True
    )


@dataclass(frozen=True)
class MadeFrom:
    """What the stored answers are valid for."""

    versions: tuple[int, int]
    """(store revision, editorial revision) read before the first answer was rendered."""
    fingerprint: str
    """Stands for the settings that shape an answer (`service.related.precomputed`)."""
    projectable: bool = False
    """No related item's metadata uses a key the ranking adds to an item, so an answer for
    fewer `fields` may be picked from a stored one (`service.related.projection`)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "versions": list(self.versions),
            "fingerprint": self.fingerprint,
            "projectable": self.projectable,
        }


class AnswerWriter:
    """Appends answers to a generation directory being written; `finish` writes the index."""

    def __init__(
        self, directory: Path, made_from: MadeFrom, variants: int = 1, rows: int = 0
    ) -> None:
        self.directory = directory
        self.made_from = made_from
        self.variants = variants
        self._bodies: BinaryIO = (directory / BODIES).open("wb")
        self._written = 0
        self._rows: list[tuple[int, bytes, list[int]]] = []
        self.depths = np.zeros(rows, dtype=np.int32)
        """Per row of the generation (`add` sets them; 0 for rows without answers)."""

    def add(
        self, article_id: str, bodies: Sequence[bytes | None], row: int = -1, depth: int = 0
    ) -> None:
        """One article's answers, one per variant in order (None: that one is not stored);
        the article's generation row and how many entries of its list they depend on."""
        if len(bodies) != self.variants:
            raise ValueError(f"{len(bodies)} answers for {self.variants} variants")
        if row >= 0:
            self.depths[row] = depth
        spans: list[int] = []
        for body in bodies:
            start = self._written
            if body:
                self._bodies.write(body)
                self._written += len(body)
            spans += (start, self._written)
        self._rows.append((id_hash(article_id), article_id.encode(), spans))

    def finish(self, projectable: bool = False) -> int:
        """Close the files (the generation's writer fsyncs them); how many answers were stored.
        `projectable`: what `MadeFrom.projectable` says of the answers written."""
        self.made_from = replace(self.made_from, projectable=projectable)
        self._bodies.close()
        self._rows.sort(key=lambda row: (row[0], row[1]))
        index = np.zeros((len(self._rows), 3 + 2 * self.variants), dtype=np.int64)
        at = 0
        with (self.directory / IDS).open("wb") as ids:
            for i, (digest, encoded, spans) in enumerate(self._rows):
                ids.write(encoded)
                index[i] = (digest, at, at + len(encoded), *spans)
                at += len(encoded)
        np.save(self.directory / INDEX, index, allow_pickle=False)
        np.save(self.directory / DEPTHS, self.depths, allow_pickle=False)
        meta = {
            **self.made_from.to_json(),
            "count": len(self._rows),
            "layout": LAYOUT,
            "variants": self.variants,
        }
        (self.directory / META).write_text(json.dumps(meta), encoding="utf-8")
        return len(self._rows)

    def abandon(self) -> None:
        self._bodies.close()


class StoredAnswers:
    """The answers of one generation, memory-mapped."""

    def __init__(
        self,
        made_from: MadeFrom,
        index: npt.NDArray[np.int64],
        bodies: Any,
        ids: Any,
        depths: npt.NDArray[np.int32] | None = None,
    ):
        self.made_from = made_from
        self.depths = np.zeros(0, dtype=np.int32) if depths is None else depths
        """Per row of the generation: `AnswerWriter.depths`."""
        self._hashes = np.ascontiguousarray(index[:, 0])
        self._index = index
        self._bodies = bodies
        self._ids = ids

    @classmethod
    def load(cls, directory: Path) -> StoredAnswers | None:
        """The part in `directory`, or None for a generation built without it (or with
        another layout)."""
        if not (directory / META).is_file():
            return None
        meta = json.loads((directory / META).read_text(encoding="utf-8"))
        if meta.get("layout") != LAYOUT:
            return None
        store_revision, editorial_revision = (int(v) for v in meta["versions"])
        made_from = MadeFrom(
            (store_revision, editorial_revision),
            str(meta["fingerprint"]),
            meta.get("projectable") is True,
        )
        index = np.asarray(np.load(directory / INDEX, mmap_mode="r"))
        depths = np.load(directory / DEPTHS, mmap_mode="r")
        return cls(made_from, index, _map(directory / BODIES), _map(directory / IDS), depths)

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def variants(self) -> int:
        return (int(self._index.shape[1]) - 3) // 2

    def get(self, article_id: str, variant: int = 0) -> bytes | None:
        """The stored body of `article_id`'s answer for `variant` (0: the default options),
        or None."""
        digest = id_hash(article_id)
        at = int(self._hashes.searchsorted(digest))
        encoded = article_id.encode()
        while at < len(self._hashes) and int(self._hashes[at]) == digest:
            row = self._index[at]
            if self._ids[int(row[1]) : int(row[2])] == encoded:
                start, end = int(row[3 + 2 * variant]), int(row[4 + 2 * variant])
                return bytes(self._bodies[start:end]) if end > start else None
            at += 1
        return None


def _map(path: Path) -> bytes | mmap.mmap:
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            return b""
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
