"""The article a request asks about, as the ranking sees it: computed once per request.

An indexed article's query is its own row of the generation; a new article (stored after the
build) or a draft is encoded (or found in the embedding cache) and transformed by the
generation's lexical models, both over cut text and through the bounded, caching encoder of
`service.live`. Whatever needs the query (the search, the near-duplicate check,
explanations) takes it from here, so a draft is encoded exactly once per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.features import Queries
from embeddings.fusion import query_stats
from embeddings.signals import SPARSE_SIGNALS
from service.articles import Article, embedding_text, text_hash
from service.generations import Generation
from service.live import live_item_text
from service.store import ArticleStore


@dataclass
class Source:
    article: Article
    key: int | None
    """Its store key; None for a draft."""
    generation: Generation
    encoder: Encoder
    store: ArticleStore
    max_text_chars: int

    @cached_property
    def position(self) -> int | None:
        """Its row in the generation; None when it is not indexed (new, or a draft)."""
        return self.generation.position(self.key) if self.key is not None else None

    @cached_property
    def query(self) -> Queries:
        corpus = self.generation.corpus
        if self.position is not None:
            return corpus.queries(np.asarray([self.position], dtype=np.int64))
        item = live_item_text(self.article)  # the body cut: see service.live
        sparse = {}
        for signal in SPARSE_SIGNALS:
            assert signal.document is not None
            model = self.generation.parts.models[signal.name]
            sparse[signal.name] = model.transform([signal.document(item)])
        return Queries(self.vector()[None, :], sparse)

    @cached_property
    def stats(self) -> npt.NDArray[np.float32]:
        """The query's mean and spread of each signal over the generation's basis."""
        return query_stats(self.generation.corpus.basis, self.query)

    def vector(self) -> npt.NDArray[np.float32]:
        text = embedding_text(self.article, self.max_text_chars)
        cached = self.store.cached_vectors(self.encoder.identity, [text_hash(text)])
        vector = next(iter(cached.values()), None)
        if vector is None:
            vector = self.encoder.encode([text])[0]
        self.generation.check_compatible(self.encoder.identity, dimension=len(vector))
        return np.asarray(vector, dtype=np.float32)
