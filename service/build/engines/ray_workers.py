"""What runs inside Ray workers: the encoding actor and the ranking task.

Kept apart from the driver (`service.build.engines.ray_engine`) so that a worker imports only what it
runs. Every node of the cluster needs this package installed (the same version as the driver).

- `EncodeBatch` is the stateful class behind Ray Data's `map_batches`: Ray Data starts a pool of
  actors, each builds the configured encoder and loads its model once in `__init__`, then
  encodes every batch it is sent. Each output row names the worker that encoded it, how many
  times that process loaded a model and how many batches the actor had encoded, so a build
  (and its tests) can show one load per worker for many batches.
- `rank_shard` ranks a shard of rows against the corpus, which the driver put in the object
  store once.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.features import Corpus
from embeddings.neighbours import ListOptions, NeighbourLists, ranked_lists
from service.config.settings import Settings
from service.disk.failpoints import failpoint

MODEL_LOADS = 0
"""Models loaded by this process (one per encoding actor it hosts)."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class EncodeBatch:
    """Ray Data callable class: one model per actor, loaded when the actor starts."""

    settings: Settings
    identity: str

    def __init__(self) -> None:
        global MODEL_LOADS
        from service.services import make_encoder

        self.encoder = make_encoder(self.settings)
        if self.encoder.identity != self.identity:
            raise RuntimeError(
                f"this worker's model is {self.encoder.identity!r}, the build's "
                f"{self.identity!r}: install the same model on every node"
            )
        warm_up = getattr(self.encoder, "warm_up", None)
        if warm_up is not None:
            warm_up()
        MODEL_LOADS += 1
        self.name = worker_name()
        self.calls = 0

    def __call__(self, batch: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        failpoint("ray-encode-batch")
        self.calls += 1
        texts = [str(text) for text in batch["text"]]
        vectors = self.encoder.encode(texts)
        count = len(texts)
        return {
            "hash": np.asarray(batch["hash"]),
            "vector": np.asarray(vectors, dtype=np.float32),
            "worker": np.full(count, self.name),
            "loads": np.full(count, MODEL_LOADS, dtype=np.int64),
            "calls": np.full(count, self.calls, dtype=np.int64),
        }


def encode_batch_class(settings: Settings, identity: str) -> type[EncodeBatch]:
    """`EncodeBatch` for one build's settings. They travel with the class, not as constructor
    arguments in the object store, from which Ray could not restart an actor once they are gone."""
    return type("EncodeBatch", (EncodeBatch,), {"settings": settings, "identity": identity})


def rank_shard(
    corpus: Corpus, rows: npt.NDArray[np.int64], k: int, options: ListOptions
) -> NeighbourLists:
    """The lists of `rows`. Ray hands over `corpus` from the object store: its arrays without a
    copy (every worker of a node reads the same memory), its vector index rebuilt from bytes.
    Nothing is kept once the task returns, so an idle worker holds no build's data."""
    failpoint("ray-rank-shard")
    return ranked_lists(corpus, rows, k, options)
