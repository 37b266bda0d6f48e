"""From a candidate pool to the list: recency, near-duplicates, diversity, thresholds.

The pool comes best first from the stored list or a search. Recency decay may reorder it; the
list is then chosen by `embeddings.rerank.select` (near-duplicate suppression and optional MMR
diversity) or, in the common case of no diversity and an indexed source, by the same walk in
plain Python over the pairs the build stored (`select_in_order`: a pool is about a dozen
candidates, on which numpy's per-call cost outweighs its work). A pair counts as near-duplicates
only when its titles say it may be copies (`embeddings.rerank.may_be_copies`): pages written from
one template are as alike in text, and readers are shown them. The thresholds drop weak results
rather than show irrelevant ones, counting
how many they cut. A score is how many standard deviations above a typical article a candidate
stands (the weighted sum of its signals' z-scores, see `embeddings.fusion`), so a candidate at
or below 0 is no more related than an article picked at random: it is never shown as related
(`cut["typical"]` counts those); `fill` says how a site that wants a full box fills it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from embeddings.rerank import may_be_copies, recency_factors, select, title_words
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
    fused = pool.scores
    factors = _recency_factors(source, pool, options)
    if factors is None:
        scores = fused
    else:  # as `embeddings.rerank.decay`: a positive score is scaled, a negative one kept
        scores = [s * f if s > 0 else s for s, f in zip(fused, factors, strict=True)]
    # A pool from a list or a search comes best first; only recency can reorder it.
    if all(a >= b for a, b in pairwise(scores)):
        order = list(range(len(scores)))
    else:  # NaN-safe, and stable: equal scores keep the pool's order
        order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable").tolist()
    rows = source.generation.positions(np.asarray([pool.keys[i] for i in order], dtype=np.int64))
    titles = Titles(source.article.title, [pool.articles[i].title for i in order])
    if options.diversity > 0 or not stored_duplicates_apply(source, options.duplicate_threshold):
        picked_indices, suppressed = _select_arrays(
            source, rows, scores, order, options, wanted, titles
        )
    else:
        picked_indices, suppressed = select_in_order(
            source, rows.tolist(), options.duplicate_threshold, wanted, titles
        )
    picked = []
    for index in picked_indices:
        i = order[index]
        factor = 1.0 if factors is None or fused[i] <= 0 else float(factors[i])
        picked.append(Pick(pool.articles[i], pool.keys[i], scores[i], fused[i], factor))
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
        best = max(scores)
        bar = best * options.min_relative if best > 0 else best
        kept = [p for p in picked if p.score >= bar]
        cut["min_relative"] = len(picked) - len(kept)
        picked = kept
    return Chosen(picked, cut, suppressed)


def _recency_factors(source: Source, pool: Pool, options: RelatedOptions) -> list[float] | None:
    """Each candidate's recency factor (`embeddings.rerank.recency_factors`); None: no decay."""
    origin_time = source.article.published_ts
    if options.recency == "none" or origin_time is None:
        return None
    published = np.asarray(
        [a.published_ts if a.published_ts is not None else np.nan for a in pool.articles],
        dtype=np.float64,
    )
    ages = (published - origin_time) / DAY
    factors: list[float] = recency_factors(ages, options.recency, options.half_life_days).tolist()
    return factors


class Titles:
    """The source's and the pool's titles (in the order rows are given), for
    `embeddings.rerank.may_be_copies`; a title's words are made only for a pair at the threshold,
    which few are."""

    SOURCE = -1

    def __init__(self, source: str, pool: Sequence[str]) -> None:
        self._titles = pool
        self._words: dict[int, frozenset[str]] = {self.SOURCE: title_words(source)}

    def _of(self, i: int) -> frozenset[str]:
        found = self._words.get(i)
        if found is None:
            found = self._words[i] = title_words(self._titles[i])
        return found

    def may_be_copies(self, i: int, j: int = SOURCE) -> bool:
        """Whether pool entries i and j (the source by default) may be copies by their titles."""
        return may_be_copies(self._of(i), self._of(j))


def stored_duplicates_apply(source: Source, threshold: float) -> bool:
    """Whether the near-duplicate check can read the pairs the build stored: the source is
    indexed and the threshold is at or above the build's floor."""
    floor = source.generation.manifest.ranking.duplicate_floor
    return source.position is not None and threshold >= floor


def select_in_order(
    source: Source, rows: list[int], threshold: float, wanted: int, titles: Titles
) -> tuple[list[int], int]:
    """`embeddings.rerank.select` without diversity, over the stored duplicate pairs: the pool
    in order, each candidate skipped when its full-text cosine with the source or with one
    already chosen is at or above `threshold` and their titles say they may be copies. Only the
    chosen rows' pairs are read, and a pair below the build's floor counts as 0 (as in
    `text_similarities`); only a pair at the threshold can skip, so only those are kept."""
    generation = source.generation
    index = {row: i for i, row in enumerate(rows)}
    closest = [0.0] * len(rows)
    assert source.position is not None
    cols, sims = generation.text_duplicates(source.position)
    for col, sim in zip(cols.tolist(), sims.tolist(), strict=True):
        i = index.get(col)
        if i is not None and sim >= threshold and titles.may_be_copies(i):
            closest[i] = sim
    chosen: list[int] = []
    suppressed = 0
    for i, row in enumerate(rows):
        if len(chosen) >= wanted:
            break
        if closest[i] >= threshold:
            suppressed += 1
            continue
        chosen.append(i)
        cols, sims = generation.text_duplicates(row)
        for col, sim in zip(cols.tolist(), sims.tolist(), strict=True):
            j = index.get(col)
            if (
                j is not None
                and j != i
                and sim > closest[j]
                and sim >= threshold
                and titles.may_be_copies(i, j)
            ):
                closest[j] = sim
    return chosen, suppressed


def _select_arrays(
    source: Source,
    rows: npt.NDArray[np.int64],
    scores: list[float],
    order: list[int],
    options: RelatedOptions,
    wanted: int,
    titles: Titles,
) -> tuple[list[int], int]:
    """`embeddings.rerank.select` over full arrays: MMR diversity, or a near-duplicate check
    that needs the sparse product (a live source, a threshold below the build's floor)."""
    generation = source.generation
    duplicate_of_source, duplicate_pairs = text_similarities(
        source, rows, options.duplicate_threshold
    )
    _only_copies(duplicate_of_source, duplicate_pairs, options.duplicate_threshold, titles)
    diversity_pairs = None
    if options.diversity > 0:
        vectors = np.asarray(generation.parts.vectors)[rows]
        diversity_pairs = (vectors @ vectors.T).astype(np.float64)
    return select(
        np.asarray(scores, dtype=np.float64)[order],
        wanted,
        duplicate_of_source=duplicate_of_source,
        duplicate_pairs=duplicate_pairs,
        duplicate_threshold=options.duplicate_threshold,
        diversity_pairs=diversity_pairs,
        diversity=options.diversity,
    )


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


def _only_copies(
    of_source: npt.NDArray[np.float64],
    pairs: npt.NDArray[np.float64],
    threshold: float,
    titles: Titles,
) -> None:
    """Zero, in place, every similarity at the threshold whose titles say it is no copy."""
    for i in np.flatnonzero(of_source >= threshold).tolist():
        if not titles.may_be_copies(i):
            of_source[i] = 0.0
    for i, j in zip(*np.nonzero(pairs >= threshold), strict=True):
        if i != j and not titles.may_be_copies(int(i), int(j)):
            pairs[i, j] = 0.0
