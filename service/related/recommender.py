"""related(article id, options) -> ranked related articles. The ranking policy lives here.

1. Editorial pins come first, in the editor's order; when they fill k nothing is searched.
2. Candidates: an indexed article's precomputed neighbour list, read in order through the
   filters (`service.related.filters`) into a pool a little deeper than k (deeper still when recency or
   diversity may reorder it). If the list runs out before k are chosen, the index itself is
   searched with the filters applied to every row, so a filter never shortens a list while
   enough matching articles exist. An article stored after the last build, or a draft, is
   always searched live.
3. The pool is re-ranked (`service.related.selection`): optional recency decay, near-duplicate
   suppression against the source and the chosen items, optional MMR diversity, thresholds.

A request computes its query once (`service.related.source.Source`), whatever the steps that need it,
and reads articles and editorial data through the process's `service.related.article_cache.ArticleCache`, which
asks the store one question per request while nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from embeddings.encoder import Encoder
from embeddings.ranking import rank
from embeddings.signals import Weights
from service.article import Article
from service.config.options import RelatedOptions, parse_options
from service.config.settings import Settings
from service.errors import ArticleNotFound, IndexNotReady, InvalidParameter
from service.generations.generation import CurrentGeneration, Generation
from service.related.article_cache import ArticleCache, Versions
from service.related.explain import explanations
from service.related.fill import fill
from service.related.filters import Filter
from service.related.selection import Chosen, Pool, choose
from service.related.source import Source
from service.store import ArticleStore, Editorial

Origin = Literal["index", "search", "live", "draft", "pins", "curated"]
ITEM_KEYS = ("score", "pinned", "filled", "explanation")
"""What `RelatedItem.to_json` adds after an article's fields, in that order."""


@dataclass(frozen=True)
class RelatedItem:
    article: Article
    score: float | None
    key: int | None = None
    pinned: bool = False
    filled: bool = False
    fused: float | None = None
    """The fused score before recency (None for pinned and filled items)."""
    recency: float = 1.0
    """The recency factor that turned `fused` into `score`."""
    explanation: dict[str, Any] | None = None

    def to_json(self, fields: tuple[str, ...] = ()) -> dict[str, Any]:
        data = self.article.to_json()
        del data["body"]
        if fields:
            data = pick(data, fields)
        data["score"] = None if self.score is None else round(self.score, 6)
        if self.pinned:
            data["pinned"] = True
        if self.filled:
            data["filled"] = True
        if self.explanation is not None:
            data["explanation"] = self.explanation
        return data


def pick(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """`data` with only its id and the given fields, in its own order."""
    return {name: value for name, value in data.items() if name == "id" or name in fields}


@dataclass(frozen=True)
class RelatedResult:
    article: Article
    items: list[RelatedItem]
    options: RelatedOptions
    source: Origin
    generation: Generation
    cut: dict[str, int] = field(default_factory=dict)
    suppressed_duplicates: int = 0

    @property
    def k(self) -> int:
        return self.options.k

    def to_json(self, *, items: bool = True) -> dict[str, Any]:
        """The answer: the source article without its body unless the options ask for it (the
        page that shows the list has the body already). `items` False: `related` is left
        empty (`service.related.display` encodes it)."""
        options = self.options
        article = self.article.to_json()
        if options.fields:
            article = pick(article, (*options.fields, *(("body",) if options.wants_body else ())))
        elif not options.wants_body:
            del article["body"]
        return {
            "article": article,
            "related": [item.to_json(options.fields) for item in self.items] if items else [],
            "k": self.k,
            "source": self.source,
            "cut": self.cut,
            "suppressed_duplicates": self.suppressed_duplicates,
            "index": {
                "generation": self.generation.name,
                "built_at": self.generation.manifest.built_at,
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
        self._stale: tuple[tuple[str, int], frozenset[int]] | None = None
        self.article_cache = ArticleCache(
            store, settings.article_cache, settings.article_cache_bytes
        )

    def generation(self) -> Generation:
        generation = self.generations.get()
        if generation is None:
            raise IndexNotReady()
        generation.check_compatible(self.encoder.identity)
        return generation

    def options(self, raw: Mapping[str, Any] | None = None, **given: Any) -> RelatedOptions:
        """Options from raw values (HTTP/CLI), defaults from the settings."""
        return parse_options({**(raw or {}), **given}, self.settings)

    def related(
        self,
        article_id: str,
        k: int | None = None,
        *,
        options: RelatedOptions | None = None,
        past_only: bool = False,
        generation: Generation | None = None,
        versions: Versions | None = None,
        weights: Weights | None = None,
    ) -> RelatedResult:
        """The articles most related to stored article `article_id` (from `generation` and the
        store at `versions`, by default the current ones). `weights` other than those the
        generation's lists were ranked with (an experiment's variant) rank by a search."""
        options = options or self.options(k=k, past_only=past_only or None)
        versions = versions or self.article_cache.versions()
        entry = self.article_cache.entry(article_id, versions)
        if entry is None:
            raise ArticleNotFound(article_id)
        key, article = entry
        generation = generation or self.generation()
        stale = key in self._written_since_build(generation, versions)
        if options.wants_body or stale or generation.position(key) is None:
            # The body: asked for, or the text of an article written after the build.
            stored = self.store.get(article_id)
            if stored is None:
                raise ArticleNotFound(article_id)
            key, article = stored.key, stored.article
        if options.past_only and article.published_ts is None:
            raise InvalidParameter(
                f"past_only needs a 'published' date, and {article_id!r} has none"
            )
        return self._recommend(
            article, key, options, generation, versions, stale=stale, weights=weights
        )

    def _written_since_build(self, generation: Generation, versions: Versions) -> frozenset[int]:
        """Keys of articles written after `generation` was built (their stored lists and rows
        are stale: they are answered live). No statement while the store has not moved."""
        built = generation.manifest.store_revision
        if versions[0] == built:
            return frozenset()
        cached = self._stale
        if cached is not None and cached[0] == (generation.name, versions[0]):
            return cached[1]
        keys = self.store.changed_keys(built)
        self._stale = ((generation.name, versions[0]), keys)
        return keys

    def related_to_draft(self, draft: Article, options: RelatedOptions) -> RelatedResult:
        """Related articles for text that is not stored (an article being written)."""
        if options.past_only and draft.published_ts is None:
            raise InvalidParameter("past_only needs the draft's 'published' date")
        versions = self.article_cache.versions()
        return self._recommend(draft, None, options, self.generation(), versions)

    # -- the pipeline ----------------------------------------------------------------------

    def _recommend(
        self,
        article: Article,
        key: int | None,
        options: RelatedOptions,
        generation: Generation,
        versions: Versions,
        *,
        stale: bool = False,
        weights: Weights | None = None,
    ) -> RelatedResult:
        source = Source(
            article,
            key,
            generation,
            self.encoder,
            self.store,
            self.settings.max_text_chars,
            stale=stale,
        )
        k = options.k
        editorial = self.article_cache.editorial(None if key is None else article.id, versions)
        pinned = self._pinned(article, editorial, options, versions) if key is not None else []
        if len(pinned) >= k:
            return RelatedResult(article, pinned[:k], options, "pins", generation)
        rule = self._rule(article, key, editorial, pinned, options)
        origin, chosen = self._choose(source, rule, options, k - len(pinned), versions, weights)
        items = pinned + [
            RelatedItem(p.article, p.score, key=p.key, fused=p.fused, recency=p.recency)
            for p in chosen.items
        ]
        if len(items) < k and options.fill != "none":
            taken = {item.key for item in items if item.key is not None}
            filled = fill(source, rule, taken, k - len(items), options.fill, self.store)
            items += [RelatedItem(a, None, key=key, filled=True) for a, key in filled]
        if options.explain:
            items = self._explain(source, items)
        return RelatedResult(
            article, items, options, origin, generation, chosen.cut, chosen.suppressed
        )

    def _rule(
        self,
        article: Article,
        key: int | None,
        editorial: Editorial,
        pinned: list[RelatedItem],
        options: RelatedOptions,
    ) -> Filter:
        """What may be listed: the options' filters, without the source, its blocks, the
        excluded ids and what is already pinned."""
        excluded_ids = {*editorial.blocked, *options.exclude, article.id}
        excluded_ids |= {item.article.id for item in pinned}
        keys = {**editorial.keys, **self.article_cache.keys_for(options.exclude)}
        return Filter.build(
            options,
            article,
            excluded_ids=excluded_ids,
            excluded_keys={keys[i] for i in excluded_ids if i in keys}
            | ({key} if key is not None else set()),
        )

    def _choose(
        self,
        source: Source,
        rule: Filter,
        options: RelatedOptions,
        wanted: int,
        versions: Versions,
        weights: Weights | None = None,
    ) -> tuple[Origin, Chosen]:
        """The automatic part of the list, from the stored list when it can give it, else from
        a search of the whole index (a filter the list runs out on, a live article, a draft,
        weights other than the lists')."""
        # Room for near-duplicates to be skipped, and a deeper pool when order can change.
        pool_size = wanted + 5 if not options.reorders else max(3 * wanted, wanted + 20)
        key, generation = source.key, source.generation
        reweighted = weights is not None and dict(weights) != dict(generation.weights)
        stored = key is not None and not source.stale and not reweighted
        listed = generation.neighbours(key) if stored and key is not None else None
        if listed is None:
            origin: Origin = "draft" if key is None else "search" if reweighted else "live"
        else:
            pool = self._pool_from_list(listed, rule, pool_size, versions)
            list_was_full = len(listed) >= generation.manifest.neighbours
            if len(pool) >= wanted or not list_was_full:
                chosen = choose(source, pool, options, wanted)
                # Short only because near-duplicates were skipped: more may match further on.
                if not list_was_full or len(chosen.items) + sum(chosen.cut.values()) >= wanted:
                    return "index", chosen
            origin = "search"
        pool = self._pool_from_search(source, rule, pool_size, versions, weights)
        return origin, choose(source, pool, options, wanted)

    def _pinned(
        self, source: Article, editorial: Editorial, options: RelatedOptions, versions: Versions
    ) -> list[RelatedItem]:
        # Blocks win over pins (see service.editorial.overrides): a blocked id never appears.
        ids = [
            i
            for i in editorial.pins
            if i != source.id and i not in options.exclude and i not in editorial.blocked
        ]
        keys = [editorial.keys[i] for i in ids if i in editorial.keys]
        if not keys:
            return []
        articles = self.article_cache.articles(keys, versions)
        found = [(articles[key], key) for key in keys if key in articles]
        return [RelatedItem(a, None, key=key, pinned=True) for a, key in found[: options.k]]

    def _pool_from_list(
        self, listed: list[tuple[int, float]], rule: Filter, size: int, versions: Versions
    ) -> Pool:
        pool = Pool()
        start = 0
        while len(pool) < size and start < len(listed):
            # Windows a little larger than needed: filtered-out and deleted articles are few.
            window = listed[start : start + (size - len(pool)) + 10]
            start += len(window)
            articles = self.article_cache.articles((key for key, _ in window), versions)
            for key, score in window:
                article = articles.get(key)
                if article is not None and len(pool) < size and rule.accepts(article):
                    pool.add(key, score, article)
        return pool

    def _pool_from_search(
        self,
        source: Source,
        rule: Filter,
        size: int,
        versions: Versions,
        weights: Weights | None = None,
    ) -> Pool:
        generation = source.generation
        position = source.position
        exclude = np.asarray([-1 if position is None else position], dtype=np.int64)
        # Over-fetch: rows deleted from the store since the build are dropped below.
        ranked = rank(
            generation.corpus,
            source.query,
            size + 10,
            weights=weights or generation.weights,
            candidates=max(self.settings.candidates, size),
            exclude=exclude,
            allowed=rule.mask(generation),
            stats=source.stats,
        )
        hits = [
            (int(generation.parts.keys[p]), float(s))
            for p, s in zip(ranked.positions[0], ranked.scores[0], strict=True)
            if p >= 0
        ]
        return self._pool_from_list(hits, rule, size, versions)

    def _explain(self, source: Source, items: list[RelatedItem]) -> list[RelatedItem]:
        generation = source.generation
        rows = [generation.position(item.key) if item.key is not None else None for item in items]
        found = explanations(
            source,
            [(item.article, row, item.recency) for item, row in zip(items, rows, strict=True)],
            source.generation.weights,
        )
        return [
            replace(item, explanation=explanation)
            for item, explanation in zip(items, found, strict=True)
        ]
