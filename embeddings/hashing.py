"""A model-free encoder: words and word pairs hashed into a fixed number of dimensions.

No download, no torch, microseconds per text, and the same vector for the same text on every
machine (the hash is BLAKE2, not Python's salted `hash`). It captures only shared vocabulary,
so it is far weaker than a sentence model: it exists for tests that exercise everything but
the model, for smoke runs on machines without torch, and as a floor to compare models with.
Select it with the model name `hashing` (or `hashing:<dimension>`).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from embeddings.encoder import ProgressCallback

PREFIX = "hashing"
DEFAULT_DIMENSION = 384
_WORD = re.compile(r"\w+")


def is_hashing_model(model: str) -> bool:
    return model == PREFIX or model.startswith(PREFIX + ":")


class HashingEncoder:
    """Signed feature hashing of lowercased words and adjacent word pairs, L2-normalised."""

    def __init__(self, dimension: int = DEFAULT_DIMENSION) -> None:
        if dimension < 8:
            raise ValueError("a hashing encoder needs at least 8 dimensions")
        self._dimension = dimension

    @classmethod
    def from_model_name(cls, model: str) -> HashingEncoder:
        _, _, size = model.partition(":")
        return cls(int(size) if size else DEFAULT_DIMENSION)

    @property
    def identity(self) -> str:
        return f"{PREFIX}:{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def warm_up(self) -> None:
        """Nothing to load."""

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]:
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            for feature in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                sign = 1.0 if value & 1 else -1.0
                vectors[row, (value >> 1) % self._dimension] += sign
            norm = float(np.linalg.norm(vectors[row]))
            if norm > 0:
                vectors[row] /= norm
            else:  # no words: a fixed unit vector, so every row has norm 1
                vectors[row, 0] = 1.0
        if progress is not None:
            progress(len(texts))
        return vectors
