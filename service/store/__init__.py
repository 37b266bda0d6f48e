"""The article store: one SQLite file in WAL mode. This package is the only code that speaks SQL.

It keeps the articles (`articles`), the editors' pins and blocks (`overrides`), the site's
curated links (`curated`) and the embedding cache (`vectors`), each in a module of its own over
one connection per thread (`base`); `published` writes what read replicas get of them, and
`replica` is a replica's read-only stand-in for the whole store.
"""

from __future__ import annotations

from pathlib import Path

from service.store.articles import Articles, ArticleWriter, StoredArticle, UpsertOutcome
from service.store.curated import CuratedLinks, Links
from service.store.overrides import GLOBAL_BLOCKS, Editorial, Overrides
from service.store.published import EditorialSnapshot, Publishing
from service.store.vectors import VectorCache

__all__ = [
    "GLOBAL_BLOCKS",
    "ArticleStore",
    "ArticleWriter",
    "Editorial",
    "EditorialSnapshot",
    "Links",
    "StoredArticle",
    "UpsertOutcome",
]


class ArticleStore(Articles, Overrides, CuratedLinks, VectorCache, Publishing):
    """Articles, editorial overrides, curated links and the embedding cache in one SQLite file
    (and what a primary publishes of them for read replicas)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)

    def __enter__(self) -> ArticleStore:
        return self
