"""related(article id, k) -> ranked related articles. The ranking policy lives here.

An indexed article's answer is a lookup in its precomputed neighbour list. An article stored
after the last build is answered live: its text is encoded (or taken from the embedding cache)
and searched against the current index. Either way articles deleted since the build are
dropped and the source is never in its own list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.ranking import Queries, rank
from service.articles import Article, embedding_text, labels_text, lexical_text, text_hash
from service.config import Settings
from service.errors import ArticleNotFound, IndexNotReady, InvalidParameter
from service.generations import CurrentGeneration, Generation
from service.store import ArticleStore

Source = Literal["index", "live"]


@dataclass(frozen=True)
class RelatedItem:
    article: Article
    score: float

    def to_json(self) -> dict[str, Any]:
        data = self.article.to_json()
        del data["body"]
        data["score"] = round(self.score, 6)
        return data


@dataclass(frozen=True)
class RelatedResult:
    article: Article
    items: list[RelatedItem]
    k: int
    source: Source
    generation: Generation

    def to_json(self) -> dict[str, Any]:
        return {
            "article": self.article.to_json(),
            "related": [item.to_json() for item in self.items],
            "k": self.k,
            "source": self.source,
            "index": {
                "generation": self.generation.name,
                "built_at": self.generation.manifest.get("built_at"),
            },
        }


class Recommender:
    def __init__(
        self,
        settings: Settings,
        store: ArticleStore,
        generations: CurrentGeneration,
        encoder: Encoder,
    ) -> None:
        self.settings = settings
        self.store = store
        self.generations = generations
        self.encoder = encoder

    def generation(self) -> Generation:
        generation = self.generations.get()
        if generation is None:
            raise IndexNotReady()
        generation.check_compatible(self.encoder.identity)
        return generation

    def parse_k(self, raw: object) -> int:
        """Validate a requested k (None means the default)."""
        if raw is None or raw == "":
            return self.settings.default_k
        try:
            k = int(str(raw))
        except ValueError:
            raise InvalidParameter(f"Parameter 'k' must be a whole number, got {raw!r}") from None
        if not 1 <= k <= self.settings.max_k:
            raise InvalidParameter(
                f"Parameter 'k' must be between 1 and {self.settings.max_k}, got {k}"
            )
        return k

    def related(
        self, article_id: str, k: int | None = None, *, past_only: bool = False
    ) -> RelatedResult:
        """The k articles most related to `article_id`.

        `past_only` keeps only articles published before it (as an editor linking at
        publication time would), filtered before the cut: if the precomputed list runs out,
        the index is searched with the filter applied.
        """
        k = self.parse_k(k)
        stored = self.store.get(article_id)
        if stored is None:
            raise ArticleNotFound(article_id)
        generation = self.generation()
        cutoff = stored.article.published_ts if past_only else None
        if past_only and cutoff is None:
            raise InvalidParameter(
                f"past_only needs a 'published' date, and {article_id!r} has none"
            )
        allow = None if cutoff is None else _published_before(cutoff)

        candidates = generation.neighbours(stored.key)
        source: Source = "index"
        if candidates is None:
            candidates = self._search(stored.article, generation, k, cutoff)
            source = "live"
        items = self._resolve(candidates, exclude=stored.key, k=k, allow=allow)
        if len(items) < k and allow is not None and source == "index":
            candidates = self._search(stored.article, generation, k, cutoff, own_key=stored.key)
            items = self._resolve(candidates, exclude=stored.key, k=k, allow=allow)
        return RelatedResult(stored.article, items, k, source, generation)

    def _search(
        self,
        article: Article,
        generation: Generation,
        k: int,
        cutoff: float | None,
        *,
        own_key: int | None = None,
    ) -> list[tuple[int, float]]:
        """Rank the whole index for `article` (indexed as `own_key`, or not indexed at all)."""
        corpus = generation.corpus
        position = generation.position(own_key) if own_key is not None else None
        if position is not None:
            queries = Queries(
                np.asarray(corpus.vectors[position : position + 1]),
                corpus.text[position],
                corpus.labels[position],
            )
        else:
            queries = Queries(
                self._vector(article, generation)[None, :],
                generation.text_model.transform([lexical_text(article)]),
                generation.labels_model.transform([labels_text(article)]),
            )
        allowed = None
        if cutoff is not None:
            published = np.asarray(generation.published)
            allowed = np.nan_to_num(published, nan=np.inf) < cutoff
        exclude = np.asarray([-1 if position is None else position], dtype=np.int64)
        # Over-fetch: some hits may have been deleted since the build.
        ranked = rank(
            corpus,
            queries,
            k * 2 + 10,
            weights=self.settings.weights,
            candidates=self.settings.candidates,
            exclude=exclude,
            allowed=allowed,
        )
        return [
            (int(generation.keys[p]), float(s))
            for p, s in zip(ranked.positions[0], ranked.scores[0], strict=True)
            if p >= 0
        ]

    def _vector(self, article: Article, generation: Generation) -> npt.NDArray[np.float32]:
        text = embedding_text(article, self.settings.max_text_chars)
        cached = self.store.cached_vectors(self.encoder.identity, [text_hash(text)])
        vector = next(iter(cached.values()), None)
        if vector is None:
            vector = self.encoder.encode([text])[0]
        generation.check_compatible(self.encoder.identity, dimension=len(vector))
        return np.asarray(vector, dtype=np.float32)

    def _resolve(
        self,
        candidates: list[tuple[int, float]],
        *,
        exclude: int,
        k: int,
        allow: Callable[[Article], bool] | None = None,
    ) -> list[RelatedItem]:
        """The first k candidates that still exist in the store (and pass `allow`), as articles."""
        items: list[RelatedItem] = []
        start = 0
        while len(items) < k and start < len(candidates):
            # Fetch a little more than needed: deleted articles are rare, round trips are not free.
            window = candidates[start : start + (k - len(items)) + 5]
            start += len(window)
            articles = self.store.get_by_keys(key for key, _ in window)
            for key, score in window:
                article = articles.get(key)
                if key == exclude or article is None or len(items) >= k:
                    continue
                if allow is None or allow(article):
                    items.append(RelatedItem(article, score))
        return items


def _published_before(cutoff: float) -> Callable[[Article], bool]:
    def allow(article: Article) -> bool:
        published = article.published_ts
        return published is not None and published < cutoff

    return allow
