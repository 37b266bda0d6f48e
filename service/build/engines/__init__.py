"""Where a build's two heavy steps run: encoding texts and ranking lists.

`Engine` is the seam between a build (`service.build.steps`, `full`, `incremental`) and
the machines that do the work. The `local` engine runs both in the building process, as every
build did before engines existed; the `ray` engine (`service.build.engines.ray_engine`, imported only
when chosen, so Ray stays an optional extra) runs encoding as Ray Data batches on workers that
each load the model once, and ranking as Ray tasks over shards of rows. Everything else (the
store, the embedding cache, incremental planning, the generation written) is the same whichever
engine runs, so their results are the same lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.features import Corpus
from embeddings.neighbours import ListOptions, NeighbourLists
from service.build.engines.local import LocalEngine
from service.config.settings import Settings
from service.errors import ConfigError

__all__ = ["Encoded", "Engine", "LocalEngine", "make_engine"]

Encoded = tuple[list[str], npt.NDArray[np.float32]]
"""A finished chunk of encoding: the text hashes and their vectors, row for row."""


class Engine(Protocol):
    """Encodes texts and ranks lists for one build; `close` releases what it started."""

    name: str

    def encode(self, texts: Sequence[tuple[str, str]]) -> Iterator[Encoded]:
        """Vectors of (text hash, text) pairs, yielded chunk by chunk as each is done (in any
        order), so the build can cache every chunk at once."""
        ...

    def rank(
        self,
        corpus: Corpus,
        rows: npt.NDArray[np.int64],
        k: int,
        options: ListOptions,
        progress: Callable[[int], None] | None = None,
    ) -> NeighbourLists:
        """The lists of `rows` of `corpus`, as `embeddings.neighbours.ranked_lists` ranks them."""
        ...

    def close(self) -> None: ...


def make_engine(settings: Settings, encoder: Encoder) -> Engine:
    """The engine RELATED_ENGINE names; `encoder` is the build's (a Ray engine checks that its
    workers' model has the same identity)."""
    if settings.engine == "ray":
        try:
            from service.build.engines.ray_engine import RayEngine
        except ImportError as exc:
            raise ConfigError(
                f"RELATED_ENGINE=ray needs Ray ({exc}): pip install 'related-articles[ray]'"
            ) from None
        return RayEngine(settings, encoder)
    # One encoder batch per cached chunk: a build killed at any moment loses at most the batch
    # it was encoding (with chunks of 256, about 13 s of work, frequent kills cached nothing).
    return LocalEngine(encoder, chunk=settings.batch_size)
