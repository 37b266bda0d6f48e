"""The article a request asks about, as the ranking sees it: computed once per request.

An indexed article's query is its own row of the generation; a new article (stored after the
build) or a draft is encoded (or found in the embedding cache) and transformed by the
generation's lexical models, both over cut text and through the bounded, caching encoder of
`service.related.live`. Whatever needs the query (the search, the near-duplicate check,
explanations) takes it from here, so a draft is encoded exactly once per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar, overload

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.features import Queries
from embeddings.fusion import query_stats
from embeddings.signals import SPARSE_SIGNALS
from service.article import Article, embedding_text, text_hash
from service.generations.generation import Generation
from service.ingest.chrome import LIVE_TITLES_MAX_AGE, ranked_article, stored_titles
from service.related.live import LIVE_TEXT_CHARS, live_item_text
from service.store import ArticleStore

T = TypeVar("T")


class computed_once(Generic[T]):
    """`functools.cached_property` without its lock. On Python 3.11 that lock is one per
    property for every instance, so while one request encoded a live article (up to seconds)
    every other request computing its own query waited for it. A Source belongs to one request,
    so one thread: it needs no lock."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> computed_once[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | computed_once[T]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value  # later reads find it before this descriptor
        return value


@dataclass
class Source:
    article: Article
    key: int | None
    """Its store key; None for a draft."""
    generation: Generation
    encoder: Encoder
    store: ArticleStore
    max_text_chars: int
    stale: bool = False
    """Written since the build: its row (if any) holds old text, so it is ranked live."""

    @computed_once
    def position(self) -> int | None:
        """Its row in the generation; None when it is not indexed (new, a draft, or stale)."""
        if self.key is None or self.stale:
            return None
        return self.generation.position(self.key)

    @computed_once
    def text(self) -> Article:
        """The article as the ranking reads it: the body cut (see service.related.live) and the
        chrome left out (`service.ingest.chrome.ranked_article`, as in builds)."""
        cut = replace(self.article, body=self.article.body[:LIVE_TEXT_CHARS])
        titles = stored_titles(self.store, max_age=LIVE_TITLES_MAX_AGE)
        return ranked_article(cut, self.generation.parts.chrome, titles)

    @computed_once
    def query(self) -> Queries:
        corpus = self.generation.corpus
        if self.position is not None:
            return corpus.queries(np.asarray([self.position], dtype=np.int64))
        item = live_item_text(self.text)
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

    @computed_once
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
