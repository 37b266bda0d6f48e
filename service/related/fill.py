"""Filling a list that comes up short of k, for sites that want a full box.

The related list never holds an article at or below a typical one's score: a short list is
better than one padded with unrelated articles. A site that still wants k items says how to
fill the rest: `section`, the newest articles of the source's section; `recent`, the newest
articles. Filled items come after the related ones, obey the request's filters, exclusions and
blocks too (so a section filter other than the source's leaves nothing to fill from the
source's section), and are marked `filled` (with no score: they were not found related).
"""

from __future__ import annotations

import numpy as np

from service.article import Article
from service.related.filters import Filter, label_mask, section_token
from service.related.source import Source
from service.store import ArticleStore


def fill(
    source: Source,
    rule: Filter,
    taken: set[int],
    count: int,
    mode: str,
    store: ArticleStore,
) -> list[tuple[Article, int]]:
    """Up to `count` (article, key) to fill a list with, newest first; `taken` keys are left out."""
    if count <= 0 or mode == "none":
        return []
    generation = source.generation
    allowed = rule.mask(generation)
    if mode == "section":
        if not source.article.section:
            return []
        allowed &= label_mask(generation, frozenset({section_token(source.article.section)}))
    published = np.nan_to_num(np.asarray(generation.parts.published), nan=-np.inf)
    keys = np.asarray(generation.parts.keys)
    rows = [int(r) for r in np.argsort(-published, kind="stable") if allowed[r]]
    found: list[tuple[Article, int]] = []
    start = 0
    while len(found) < count and start < len(rows):
        window = [int(keys[r]) for r in rows[start : start + 2 * count + 10]]
        start += len(window)
        articles = store.get_by_keys(k for k in window if k not in taken)
        for key in window:
            article = articles.get(key)
            if article is not None and len(found) < count and rule.accepts(article):
                found.append((article, key))
    return found
