"""related(article id, k) -> ranked related articles. The ranking policy lives here.

An indexed article's answer is a lookup in its precomputed neighbour list. An article stored
after the last build is answered live: its text is encoded (or taken from the embedding cache)
and searched against the current index. Either way articles deleted since the build are
dropped and the source is never in its own list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from embeddings.encoder import Encoder
from service.articles import Article, embedding_text, text_hash
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

    def related(self, article_id: str, k: int | None = None) -> RelatedResult:
        k = self.parse_k(k)
        stored = self.store.get(article_id)
        if stored is None:
            raise ArticleNotFound(article_id)
        generation = self.generation()
        candidates = generation.neighbours(stored.key)
        source: Source = "index"
        if candidates is None:
            candidates = self._live_candidates(stored.article, generation, k)
            source = "live"
        items = self._resolve(candidates, exclude=stored.key, k=k)
        return RelatedResult(stored.article, items, k, source, generation)

    def _live_candidates(
        self, article: Article, generation: Generation, k: int
    ) -> list[tuple[int, float]]:
        text = embedding_text(article, self.settings.max_text_chars)
        cached = self.store.cached_vectors(self.encoder.identity, [text_hash(text)])
        vector = next(iter(cached.values()), None)
        if vector is None:
            vector = self.encoder.encode([text])[0]
        generation.check_compatible(self.encoder.identity, dimension=len(vector))
        # Over-fetch: some hits may have been deleted since the build.
        scores, positions = generation.index.search(np.asarray([vector]), k * 2 + 10)
        return [
            (int(generation.keys[p]), float(s))
            for p, s in zip(positions[0], scores[0], strict=True)
            if p >= 0
        ]

    def _resolve(
        self, candidates: list[tuple[int, float]], *, exclude: int, k: int
    ) -> list[RelatedItem]:
        """The first k candidates that still exist in the store, as articles."""
        items: list[RelatedItem] = []
        start = 0
        while len(items) < k and start < len(candidates):
            # Fetch a little more than needed: deleted articles are rare, round trips are not free.
            window = candidates[start : start + (k - len(items)) + 5]
            start += len(window)
            articles = self.store.get_by_keys(key for key, _ in window)
            for key, score in window:
                if key != exclude and key in articles and len(items) < k:
                    items.append(RelatedItem(articles[key], score))
        return items
