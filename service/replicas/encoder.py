"""A read replica's stand-in for the model: the identity of the generation it serves.

A replica needs no model, so it never refuses a generation over its own RELATED_MODEL; encoding
(drafts, live answers) is the primary's job and is refused with the primary's address. Kept out
of the Flask module so that whatever opens the services (a CLI build too) imports no web code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from embeddings.encoder import ProgressCallback
from service.config.settings import Settings
from service.errors import IndexNotReady, ReadOnlyReplica
from service.generations.generation import CurrentGeneration


class PublishedEncoder:
    """The encoder identity of the generation being served; encoding is the primary's job."""

    def __init__(self, generations: CurrentGeneration, primary: str) -> None:
        self.generations = generations
        self.primary = primary

    @property
    def identity(self) -> str:
        generation = self.generations.get()
        if generation is None:
            raise IndexNotReady("This replica has not fetched a generation yet")
        return generation.manifest.encoder

    @property
    def dimension(self) -> int:
        generation = self.generations.get()
        return 0 if generation is None else generation.manifest.dimension

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]:
        raise ReadOnlyReplica(
            f"This read replica does not encode text: send drafts to the primary{self.primary}"
        )


def primary_hint(settings: Settings) -> str:
    return f" ({settings.primary_url})" if settings.primary_url else ""
