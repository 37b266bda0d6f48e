"""The long-lived parts one process shares: settings, store, current generation, encoder, recommender."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from embeddings.encoder import Encoder, SentenceTransformerEncoder
from embeddings.hashing import HashingEncoder, is_hashing_model
from embeddings.openvino_encoder import OpenVINOEncoder
from service.config.settings import Settings
from service.generations.generation import CurrentGeneration
from service.related.live import LiveEncoder
from service.related.recommender import Recommender
from service.replicas.encoder import PublishedEncoder, primary_hint
from service.store import ArticleStore
from service.store.replica import CATALOGUE, ReplicaStore

log = logging.getLogger("related")


def make_encoder(settings: Settings) -> Encoder:
    """The configured encoder: the sentence model run by OpenVINO or PyTorch
    (RELATED_ENCODER_BACKEND), or the model-free `hashing`."""
    if is_hashing_model(settings.model):
        return HashingEncoder.from_model_name(settings.model)
    if settings.encoder_backend == "openvino":
        return OpenVINOEncoder(
            settings.model,
            cache_dir=settings.models_dir,
            max_seq_length=settings.max_seq_length,
            batch_size=settings.batch_size,
            precision=settings.encoder_precision,
        )
    return SentenceTransformerEncoder(
        settings.model,
        max_seq_length=settings.max_seq_length,
        batch_size=settings.batch_size,
        device=settings.device,
    )


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: ArticleStore
    generations: CurrentGeneration
    encoder: Encoder
    recommender: Recommender

    @classmethod
    def open(cls, settings: Settings, *, encoder: Encoder | None = None) -> Services:
        generations = CurrentGeneration(settings.generations_dir, ef_search=settings.hnsw_ef_search)
        if settings.follow:
            return cls.open_replica(settings, generations)
        store = ArticleStore(settings.db_path)
        encoder = encoder or make_encoder(settings)
        # Requests encode through the bounded, caching LiveEncoder (see service.related.live).
        live = LiveEncoder(encoder, store, settings.live_encodings)
        return cls(
            settings,
            store,
            generations,
            encoder,
            Recommender(settings, store, generations, live),
        )

    @classmethod
    def open_replica(cls, settings: Settings, generations: CurrentGeneration) -> Services:
        """A read replica's parts: published data instead of a store, no model."""

        def catalogue() -> Path | None:
            generation = generations.get()
            return None if generation is None else generation.path / CATALOGUE

        replica = ReplicaStore(settings.data_dir, catalogue)
        encoder = PublishedEncoder(generations, primary_hint(settings))
        # Typed as the store: the replica gate (service.replicas.serving) lets only the reads
        # that ReplicaStore answers (StoreReads) reach the routes and the recommender.
        store = cast(ArticleStore, replica)
        return cls(
            settings,
            store,
            generations,
            encoder,
            Recommender(settings, store, generations, encoder),
        )

    @property
    def replica_store(self) -> ReplicaStore | None:
        store: object = self.store
        return store if isinstance(store, ReplicaStore) else None

    def warm_up_in_background(self) -> None:
        """Load the model off the request path, so the first live answer isn't slowed by it."""
        warm_up = getattr(self.encoder, "warm_up", None)
        if warm_up is None:
            return

        def run() -> None:
            try:
                warm_up()
            except Exception:
                log.exception("could not load the embedding model")

        threading.Thread(target=run, name="model-warm-up", daemon=True).start()
