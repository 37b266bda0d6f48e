"""related(article id, options) -> ranked related articles. The ranking policy lives here.

1. Editorial pins come first, in the editor's order; when they fill k nothing is searched.
2. Candidates: an indexed article's precomputed neighbour list, read in order through the
   filters (`service.filters`). If the list runs out before the pool is full, the index itself
   is searched with the filters applied to every row, so a filter never shortens a list while
   enough matching articles exist. An article stored after the last build, or a draft, is
   always searched live.
3. The pool is re-ranked (`embeddings.rerank`): optional recency decay, near-duplicate
   suppression against the source and the chosen items, optional MMR diversity.
4. Thresholds drop weak results rather than show irrelevant ones, and the answer says how
   many were cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.ranking import Queries, rank
from embeddings.rerank import decay, recency_factors, select
from service.articles import Article, embedding_text, labels_text, lexical_text, text_hash
from service.config import Settings
from service.errors import ArticleNotFound, IndexNotReady, InvalidParameter
from service.explain import explanations
from service.filters import Filter
from service.generations import CurrentGeneration, Generation
from service.options import RelatedOptions, parse_options
from service.store import ArticleStore

Source = Literal["index", "search", "live", "draft", "pins"]
GLOBAL_BLOCKS = ""
"""The article id under which the global block list is stored."""
DAY = 86_400.0


@dataclass(frozen=True)
class RelatedItem:
    article: Article
    score: float | None
    pinned: bool = False
    explanation: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = self.article.to_json()
        del data["body"]
        data["score"] = None if self.score is None else round(self.score, 6)
        if self.pinned:
            data["pinned"] = True
        if self.explanation is not None:
            data["explanation"] = self.explanation
        return data


@dataclass(frozen=True)
class RelatedResult:
    article: Article
    items: list[RelatedItem]
    options: RelatedOptions
    source: Source
    generation: Generation
    cut: dict[str, int] = field(default_factory=dict)
    suppressed_duplicates: int = 0

    @property
    def k(self) -> int:
        return self.options.k

    def to_json(self) -> dict[str, Any]:
        return {
            "article": self.article.to_json(),
            "related": [item.to_json() for item in self.items],
            "k": self.k,
            "source": self.source,
            "cut": self.cut,
            "suppressed_duplicates": self.suppressed_duplicates,
            "index": {
                "generation": self.generation.name,
                "built_at": self.generation.manifest.get("built_at"),
            },
        }


@dataclass
class _Pool:
    """Candidates in best-first order, with their generation rows (-1 when not indexed)."""

    articles: list[Article] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    def add(self, key: int, score: float, article: Article) -> None:
        self.keys.append(key)
        self.scores.append(score)
        self.articles.append(article)

    def __len__(self) -> int:
        return len(self.keys)


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

    def options(self, raw: dict[str, Any] | None = None, **given: Any) -> RelatedOptions:
        """Options from raw values (HTTP/CLI), defaults from the settings."""
        return parse_options({**(raw or {}), **given}, self.settings)

    def related(
        self,
        article_id: str,
        k: int | None = None,
        *,
        options: RelatedOptions | None = None,
        past_only: bool = False,
    ) -> RelatedResult:
        """The articles most related to stored article `article_id`."""
        options = options or self.options(k=k, past_only=past_only or None)
        stored = self.store.get(article_id)
        if stored is None:
            raise ArticleNotFound(article_id)
        if options.past_only and stored.article.published_ts is None:
            raise InvalidParameter(
                f"past_only needs a 'published' date, and {article_id!r} has none"
            )
        return self._recommend(stored.article, stored.key, options)

    def related_to_draft(self, draft: Article, options: RelatedOptions) -> RelatedResult:
        """Related articles for text that is not stored (an article being written)."""
        if options.past_only and draft.published_ts is None:
            raise InvalidParameter("past_only needs the draft's 'published' date")
        return self._recommend(draft, None, options)

    # -- the pipeline ----------------------------------------------------------------------

    def _recommend(
        self, source: Article, key: int | None, options: RelatedOptions
    ) -> RelatedResult:
        generation = self.generation()
        k = options.k
        blocked = set(self.store.blocks(GLOBAL_BLOCKS))
        pinned: list[RelatedItem] = []
        if key is not None:
            blocked |= set(self.store.blocks(source.id))
            pinned = self._pinned(source, options, k)
        if len(pinned) >= k:
            return RelatedResult(source, pinned[:k], options, "pins", generation)

        excluded_ids = blocked | set(options.exclude) | {item.article.id for item in pinned}
        excluded_ids.add(source.id)
        rule = Filter.build(
            options,
            source,
            excluded_ids=excluded_ids,
            excluded_keys=set(self.store.keys_for(excluded_ids).values()),
        )
        wanted = k - len(pinned)
        # Room for near-duplicates to be skipped, and a deeper pool when order can change.
        pool_size = wanted + 5 if not options.reorders else max(3 * wanted, wanted + 20)

        listed = generation.neighbours(key) if key is not None else None
        source_kind: Source
        if listed is not None:
            source_kind = "index"
            pool = self._pool_from_list(listed, rule, pool_size)
            list_was_full = len(listed) >= int(generation.manifest.get("neighbours", 0))
            if len(pool) < pool_size and list_was_full:
                pool = self._pool_from_search(source, key, generation, rule, pool_size)
                source_kind = "search"
        else:
            pool = self._pool_from_search(source, None, generation, rule, pool_size)
            source_kind = "draft" if key is None else "live"

        items, cut, suppressed = self._choose(source, key, generation, pool, options, wanted)
        if options.explain:
            items = self._explain(source, key, generation, pinned + items)
        else:
            items = pinned + items
        return RelatedResult(source, items, options, source_kind, generation, cut, suppressed)

    def _pinned(self, source: Article, options: RelatedOptions, k: int) -> list[RelatedItem]:
        ids = [i for i in self.store.pins(source.id) if i != source.id and i not in options.exclude]
        if not ids:
            return []
        keys = self.store.keys_for(ids)
        articles = self.store.get_by_keys(keys.values())
        found = [articles[keys[i]] for i in ids if i in keys and keys[i] in articles]
        return [RelatedItem(article, None, pinned=True) for article in found[:k]]

    def _pool_from_list(self, listed: list[tuple[int, float]], rule: Filter, size: int) -> _Pool:
        pool = _Pool()
        start = 0
        while len(pool) < size and start < len(listed):
            # Windows a little larger than needed: filtered-out and deleted articles are few.
            window = listed[start : start + (size - len(pool)) + 10]
            start += len(window)
            articles = self.store.get_by_keys(key for key, _ in window)
            for key, score in window:
                article = articles.get(key)
                if article is not None and len(pool) < size and rule.accepts(article):
                    pool.add(key, score, article)
        return pool

    def _pool_from_search(
        self, source: Article, key: int | None, generation: Generation, rule: Filter, size: int
    ) -> _Pool:
        position = generation.position(key) if key is not None else None
        queries = self._queries(source, position, generation)
        exclude = np.asarray([-1 if position is None else position], dtype=np.int64)
        # Over-fetch: rows deleted from the store since the build are dropped below.
        ranked = rank(
            generation.corpus,
            queries,
            size + 10,
            weights=self.settings.weights,
            candidates=max(self.settings.candidates, size),
            exclude=exclude,
            allowed=rule.mask(generation),
        )
        hits = [
            (int(generation.keys[p]), float(s))
            for p, s in zip(ranked.positions[0], ranked.scores[0], strict=True)
            if p >= 0
        ]
        return self._pool_from_list(hits, rule, size)

    def _queries(self, source: Article, position: int | None, generation: Generation) -> Queries:
        corpus = generation.corpus
        if position is not None:
            return Queries(
                np.asarray(corpus.vectors[position : position + 1]),
                corpus.text[position],
                corpus.labels[position],
                np.asarray(corpus.keys[position : position + 1]),
            )
        return Queries(
            self._vector(source, generation)[None, :],
            generation.text_model.transform([lexical_text(source)]),
            generation.labels_model.transform([labels_text(source)]),
        )

    def _vector(self, article: Article, generation: Generation) -> npt.NDArray[np.float32]:
        text = embedding_text(article, self.settings.max_text_chars)
        cached = self.store.cached_vectors(self.encoder.identity, [text_hash(text)])
        vector = next(iter(cached.values()), None)
        if vector is None:
            vector = self.encoder.encode([text])[0]
        generation.check_compatible(self.encoder.identity, dimension=len(vector))
        return np.asarray(vector, dtype=np.float32)

    def _choose(
        self,
        source: Article,
        key: int | None,
        generation: Generation,
        pool: _Pool,
        options: RelatedOptions,
        wanted: int,
    ) -> tuple[list[RelatedItem], dict[str, int], int]:
        if not len(pool):
            return [], {}, 0
        scores = np.asarray(pool.scores, dtype=np.float64)
        if options.recency != "none" and source.published_ts is not None:
            published = np.asarray(
                [a.published_ts if a.published_ts is not None else np.nan for a in pool.articles],
                dtype=np.float64,
            )
            ages = (published - source.published_ts) / DAY
            scores = decay(scores, recency_factors(ages, options.recency, options.half_life_days))
        order = np.argsort(-scores, kind="stable")
        rows = np.asarray([generation.position(pool.keys[i]) for i in order], dtype=np.int64)
        position = generation.position(key) if key is not None else None
        duplicate_of_source, duplicate_pairs = self._text_similarities(
            source, position, generation, rows, options.duplicate_threshold
        )
        diversity_pairs = None
        if options.diversity > 0:
            vectors = np.asarray(generation.vectors)[rows]
            diversity_pairs = (vectors @ vectors.T).astype(np.float64)
        chosen, suppressed = select(
            scores[order],
            wanted,
            duplicate_of_source=duplicate_of_source,
            duplicate_pairs=duplicate_pairs,
            duplicate_threshold=options.duplicate_threshold,
            diversity_pairs=diversity_pairs,
            diversity=options.diversity,
        )
        picked = [(pool.articles[order[i]], float(scores[order[i]])) for i in chosen]
        cut: dict[str, int] = {}
        if options.min_score is not None:
            kept = [(a, s) for a, s in picked if s >= options.min_score]
            cut["min_score"] = len(picked) - len(kept)
            picked = kept
        if options.min_relative is not None:
            best = float(scores.max())
            bar = best * options.min_relative if best > 0 else best
            kept = [(a, s) for a, s in picked if s >= bar]
            cut["min_relative"] = len(picked) - len(kept)
            picked = kept
        return [RelatedItem(a, s) for a, s in picked], cut, suppressed

    def _text_similarities(
        self,
        source: Article,
        position: int | None,
        generation: Generation,
        rows: npt.NDArray[np.int64],
        threshold: float,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Full-text cosine of each pool row with the source, and between pool rows.

        Near-duplicates are judged on full-text tf-idf: a republished copy shares almost every
        word and word pair, while parts of a series (which editors do link) share only an intro
        and look alike to the model, which reads the first 256 tokens. Pairs above the build's
        floor were stored then, so an indexed source needs no sparse product here.
        """
        floor = generation.manifest.get("ranking", {}).get("duplicate_floor")
        if position is None or floor is None or threshold < floor:
            text = generation.corpus.text[rows]
            query = self._queries(source, position, generation)
            pairs = np.asarray((text @ text.T).todense(), dtype=np.float64)
            of_source = np.asarray((text @ query.text.T).todense(), dtype=np.float64).ravel()
            return of_source, pairs
        index = {int(row): i for i, row in enumerate(rows)}
        # Below the floor a pair counts as 0: never a duplicate at this threshold.
        pairs = np.eye(len(rows), dtype=np.float64)
        of_source = np.zeros(len(rows), dtype=np.float64)
        for i, row in enumerate(rows):
            for col, sim in zip(*generation.text_duplicates(int(row)), strict=True):
                if int(col) in index:
                    pairs[i, index[int(col)]] = sim
        for col, sim in zip(*generation.text_duplicates(position), strict=True):
            if int(col) in index:
                of_source[index[int(col)]] = sim
        return of_source, pairs

    def _explain(
        self, source: Article, key: int | None, generation: Generation, items: list[RelatedItem]
    ) -> list[RelatedItem]:
        position = generation.position(key) if key is not None else None
        keys = self.store.keys_for(item.article.id for item in items)
        rows = [
            generation.position(keys[i.article.id]) if i.article.id in keys else None for i in items
        ]
        found = explanations(
            source,
            self._queries(source, position, generation),
            generation,
            [(item.article, row) for item, row in zip(items, rows, strict=True)],
            self.settings.weights,
        )
        return [
            RelatedItem(item.article, item.score, item.pinned, explanation)
            for item, explanation in zip(items, found, strict=True)
        ]
