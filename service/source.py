"""The article a request asks about, as the ranking sees it: computed once per request.

An indexed article's query is its own row of the generation; a new article (stored after the
build) or a draft is encoded (or found in the embedding cache) and transformed by the
generation's lexical models. Whatever needs the query (the search, the near-duplicate check,
explanations) takes it from here, so a draft is encoded exactly once per request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.features import Queries
from embeddings.fusion import query_stats
from embeddings.signals import SPARSE_SIGNALS
from service.articles import Article, embedding_text, item_text, text_hash
from service.generations import Generation
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
    def text(self) -> Article:
        """The article as the ranking reads it: the collection's chrome left out."""
        chrome = self.generation.parts.chrome
        return (
            replace(self.article, body=chrome.strip(self.article.body))
            if len(chrome)
            else self.article
        )

    @cached_property
    def query(self) -> Queries:
        corpus = self.generation.corpus
        if self.position is not None:
            return corpus.queries(np.asarray([self.position], dtype=np.int64))
        item = item_text(self.text)
        sparse = {}
        for signal in SPARSE_SIGNALS:
            assert signal.document is not None
            model = self.generation.parts.models[signal.name]
            sparse[signal.name] = model.transform([signal.document(item)])
        published = self.article.published_ts
        # A prior scores the candidate alone: the query's own value never counts.
        scalars = {
            "age": np.asarray([np.nan if published is None else published], dtype=np.float64),
            "popularity": np.zeros(1, dtype=np.float64),
        }
        return Queries(self.vector()[None, :], sparse, scalars)

    @cached_property
    def stats(self) -> npt.NDArray[np.float32]:
        """The query's mean and spread of each signal over the generation's basis."""
        return query_stats(self.generation.corpus.basis, self.query)

    def vector(self) -> npt.NDArray[np.float32]:
        text = embedding_text(self.text, self.max_text_chars)
        cached = self.store.cached_vectors(self.encoder.identity, [text_hash(text)])
        vector = next(iter(cached.values()), None)
        if vector is None:
            vector = self.encoder.encode([text])[0]
        self.generation.check_compatible(self.encoder.identity, dimension=len(vector))
        return np.asarray(vector, dtype=np.float32)
