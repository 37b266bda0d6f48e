"""The local engine: encoding and ranking in the building process (the default)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.features import Corpus
from embeddings.neighbours import ListOptions, NeighbourLists, ranked_lists

ENCODE_CHUNK = 256
"""Texts per encoded chunk: each is cached as soon as it is done."""


class LocalEngine:
    name = "local"

    def __init__(self, encoder: Encoder, *, chunk: int = ENCODE_CHUNK) -> None:
        self.encoder = encoder
        self.chunk = chunk

    def encode(
        self, texts: Sequence[tuple[str, str]]
    ) -> Iterator[tuple[list[str], npt.NDArray[np.float32]]]:
        for start in range(0, len(texts), self.chunk):
            chunk = texts[start : start + self.chunk]
            yield [digest for digest, _ in chunk], self.encoder.encode([t for _, t in chunk])

    def rank(
        self,
        corpus: Corpus,
        rows: npt.NDArray[np.int64],
        k: int,
        options: ListOptions,
        progress: Callable[[int], None] | None = None,
    ) -> NeighbourLists:
        return ranked_lists(corpus, rows, k, options, progress)

    def close(self) -> None:
        """Nothing to release."""
