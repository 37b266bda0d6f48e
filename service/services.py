"""The long-lived parts one process shares: settings, store, current generation, encoder, recommender."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from embeddings.encoder import Encoder, SentenceTransformerEncoder
from embeddings.hashing import HashingEncoder, is_hashing_model
from service.config import Settings
from service.generations import CurrentGeneration
from service.recommender import Recommender
from service.store import ArticleStore

log = logging.getLogger("related")


def make_encoder(settings: Settings) -> Encoder:
    """The configured encoder: the sentence-transformers model, or the model-free `hashing`."""
    if is_hashing_model(settings.model):
        return HashingEncoder.from_model_name(settings.model)
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
        store = ArticleStore(settings.db_path)
        generations = CurrentGeneration(settings.generations_dir, ef_search=settings.hnsw_ef_search)
        encoder = encoder or make_encoder(settings)
        return cls(
            settings,
            store,
            generations,
            encoder,
            Recommender(settings, store, generations, encoder),
        )

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
