"""The article store: one SQLite file in WAL mode. This package is the only code that speaks SQL.

It keeps the articles (`articles`, written in bulk through `staging`), the editors' pins and
blocks (`overrides`), the site's curated links (`curated`) and the embedding cache (`vectors`),
each in a module of its own over one connection per thread (`base`); `catalog` finds articles
for the editors' page; `published` writes what read replicas get of them, and `replica` is a
replica's read-only stand-in for the whole store.
"""

from __future__ import annotations

from pathlib import Path

from service.errors import NoStore
from service.store.articles import ArticleWriter, StoredArticle, UpsertOutcome
from service.store.browse import Catalog, CatalogEntry
from service.store.curated import CuratedLinks, Links
from service.store.overrides import GLOBAL_BLOCKS, Editorial, Overrides
from service.store.published import EditorialSnapshot, Publishing
from service.store.staging import Published, Stage, StagedWrites
from service.store.vectors import VectorCache

__all__ = [
    "GLOBAL_BLOCKS",
    "ArticleStore",
    "ArticleWriter",
    "CatalogEntry",
    "Editorial",
    "EditorialSnapshot",
    "Links",
    "Published",
    "Stage",
    "StoredArticle",
    "UpsertOutcome",
]


class ArticleStore(StagedWrites, Catalog, Overrides, CuratedLinks, VectorCache, Publishing):
    """Articles, editorial overrides, curated links and the embedding cache in one SQLite file
    (and what a primary publishes of them for read replicas)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)

    @classmethod
    def existing(cls, path: Path) -> ArticleStore:
        """The store at `path`, for commands that only read; NoStore when there is none (a
        typo in --data-dir would otherwise create an empty store and answer from it)."""
        if not path.is_file():
            raise NoStore(
                f"There is no article store in {str(path.parent)!r}: check --data-dir (or "
                "RELATED_DATA_DIR), or ingest articles first (`related ingest FILE`)"
            )
        return cls(path)

    def __enter__(self) -> ArticleStore:
        return self
