"""The site's curated links: importing them, and reading and writing one article's list.

The rules are the same for the CLI and the HTTP API: a list keeps its order, self-links and
repeats are dropped, grades are finite numbers (1 for a plain link). Links to articles the
store does not hold are kept and counted: they may be ingested later, and evaluation reports
them as "not indexed".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from service.editorial.link_files import read_links
from service.errors import ArticleNotFound, InvalidParameter
from service.store import ArticleStore


@dataclass(frozen=True)
class ImportReport:
    sources: int
    links: int
    unknown_sources: int
    unknown_targets: int
    stored_sources: int
    stored_links: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"imported {self.links} links under {self.sources} articles "
            f"({self.unknown_sources} sources and {self.unknown_targets} targets not in the "
            f"store); {self.stored_links} links under {self.stored_sources} articles stored"
        )


def import_links(store: ArticleStore, path: Path, *, replace: bool) -> ImportReport:
    """Store the links of a file (JSONL or CSV, see `service.editorial.link_files`), in one transaction."""
    links = read_links(path)
    ids = {source for source in links} | {t for targets in links.values() for t in targets}
    known = set(store.keys_for(ids))
    store.replace_curated(links, everything=replace)
    sources, stored = store.curated_counts()
    return ImportReport(
        sources=len(links),
        links=sum(len(targets) for targets in links.values()),
        unknown_sources=sum(1 for source in links if source not in known),
        unknown_targets=sum(1 for t in links.values() for target in t if target not in known),
        stored_sources=sources,
        stored_links=stored,
    )


def read_curated(store: ArticleStore, article_id: str) -> list[tuple[str, float]]:
    if store.get(article_id) is None:
        raise ArticleNotFound(article_id)
    return store.curated(article_id)


def write_curated(
    store: ArticleStore, article_id: str, ids: Sequence[str], grades: Sequence[Any] | None
) -> list[tuple[str, float]]:
    """Replace the list curated under `article_id`; return it as stored."""
    if store.get(article_id) is None:
        raise ArticleNotFound(article_id)
    if grades is not None and len(grades) != len(ids):
        raise InvalidParameter("Field 'grades' must have one number per id")
    links: dict[str, float] = {}
    for i, target in enumerate(ids):
        grade = 1.0 if grades is None else grades[i]
        if isinstance(grade, bool) or not isinstance(grade, int | float):
            raise InvalidParameter(f"Field 'grades' item {i} must be a number")
        if not math.isfinite(grade):
            raise InvalidParameter(f"Field 'grades' item {i} must be a finite number")
        if target.strip() and target.strip() != article_id:
            links.setdefault(target.strip(), float(grade))
    store.set_curated(article_id, list(links.items()))
    return store.curated(article_id)
