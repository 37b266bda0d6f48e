"""From a candidate pool to the list: recency, near-duplicates, diversity, thresholds.

The pool comes best first from the stored list or a search. Recency decay may reorder it; the
list is then chosen by `embeddings.rerank.select` (near-duplicate suppression and optional MMR
diversity), and the thresholds drop weak results rather than show irrelevant ones, counting
how many they cut. A score is how many standard deviations above a typical article a candidate
stands (the weighted sum of its signals' z-scores, see `embeddings.fusion`), so a candidate at
or below 0 is no more related than an article picked at random: it is never shown as related
(`cut["typical"]` counts those); `fill` says how a site that wants a full box fills it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from embeddings.rerank import decay, recency_factors, select
from service.article import Article
from service.config.options import RelatedOptions
from service.related.source import Source

DAY = 86_400.0


@dataclass
class Pool:
    """Candidates in best-first order: store keys, fused scores, articles."""

    articles: list[Article] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    def add(self, key: int, score: float, article: Article) -> None:
        self.keys.append(key)
        self.scores.append(score)
        self.articles.append(article)

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(frozen=True)
class Pick:
    article: Article
    key: int
    score: float
    """The score shown: the fused score, decayed by recency when it is positive."""
    fused: float
    recency: float
    """The recency factor applied to a positive fused score (1: none)."""


@dataclass(frozen=True)
class Chosen:
    items: list[Pick]
    cut: dict[str, int] = field(default_factory=dict)
    suppressed: int = 0


def choose(source: Source, pool: Pool, options: RelatedOptions, wanted: int) -> Chosen:
    if not len(pool):
        return Chosen([])
    generation = source.generation
    fused = np.asarray(pool.scores, dtype=np.float64)
    factors = np.ones_like(fused)
    origin_time = source.article.published_ts
    if options.recency != "none" and origin_time is not None:
        published = np.asarray(
            [a.published_ts if a.published_ts is not None else np.nan for a in pool.articles],
            dtype=np.float64,
        )
        ages = (published - origin_time) / DAY
        factors = recency_factors(ages, options.recency, options.half_life_days)
    scores = decay(fused, factors)
    order = np.argsort(-scores, kind="stable")
    rows = generation.positions(np.asarray(pool.keys, dtype=np.int64)[order])
    duplicate_of_source, duplicate_pairs = text_similarities(
        source, rows, options.duplicate_threshold
    )
    diversity_pairs = None
    if options.diversity > 0:
        vectors = np.asarray(generation.parts.vectors)[rows]
        diversity_pairs = (vectors @ vectors.T).astype(np.float64)
    picked_indices, suppressed = select(
        scores[order],
        wanted,
        duplicate_of_source=duplicate_of_source,
        duplicate_pairs=duplicate_pairs,
        duplicate_threshold=options.duplicate_threshold,
        diversity_pairs=diversity_pairs,
        diversity=options.diversity,
    )
    picked = [
        Pick(
            pool.articles[order[i]],
            pool.keys[order[i]],
            float(scores[order[i]]),
            float(fused[order[i]]),
            float(factors[order[i]]) if fused[order[i]] > 0 else 1.0,
        )
        for i in picked_indices
    ]
    cut: dict[str, int] = {}
    kept = [p for p in picked if p.score > 0]
    if len(kept) < len(picked):
        cut["typical"] = len(picked) - len(kept)
        picked = kept
    if options.min_score is not None:
        kept = [p for p in picked if p.score >= options.min_score]
        cut["min_score"] = len(picked) - len(kept)
        picked = kept
    if options.min_relative is not None:
        best = float(scores.max())
        bar = best * options.min_relative if best > 0 else best
        kept = [p for p in picked if p.score >= bar]
        cut["min_relative"] = len(picked) - len(kept)
        picked = kept
    return Chosen(picked, cut, suppressed)


def text_similarities(
    source: Source, rows: npt.NDArray[np.int64], threshold: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Full-text cosine of each pool row with the source, and between pool rows.

    Near-duplicates are judged on full-text tf-idf: a republished copy shares almost every
    word and word pair, while parts of a series (which editors do link) share only an intro
    and look alike to the model, which reads the first 256 tokens. Pairs above the build's
    floor were stored then, so an indexed source needs no sparse product here.
    """
    generation = source.generation
    floor = generation.manifest.ranking.duplicate_floor
    position = source.position
    if position is None or threshold < floor:
        text = generation.corpus.text[rows]
        pairs = np.asarray((text @ text.T).todense(), dtype=np.float64)
        of_source = np.asarray((text @ source.query.text.T).todense(), dtype=np.float64).ravel()
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
