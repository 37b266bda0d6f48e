"""Finding articles for the editors' page: by title words or id, by section, newest first.

Read-only queries over the articles table. A word matches a substring of the title or of the
id; every word must match. SQLite's LIKE folds case for ASCII letters only, so a word with other
letters is also tried lowercased and capitalised ("über" finds "Über"). Without a full-text
index a search scans the table: tens of milliseconds at 100k articles, the price of needing no
schema of its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from service.articles import Article, article_from_json
from service.store.base import Database

_TITLE = "json_extract(data, '$.title')"
_SECTION = "json_extract(data, '$.section')"


@dataclass(frozen=True)
class CatalogEntry:
    """An article as a search result lists it (no body), with its editorial counts."""

    article: Article
    curated: int
    pins: int


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _spellings(word: str) -> list[str]:
    """The word, and for non-ASCII words its lower and capitalised forms too."""
    if word.isascii():
        return [word]
    return list(dict.fromkeys([word, word.lower(), word.capitalize(), word.upper()]))


class Catalog(Database):
    """Searching and listing articles, and the sections they belong to."""

    def search(
        self,
        words: Sequence[str] = (),
        *,
        section: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[CatalogEntry], int]:
        """Articles whose title or id holds every word, in `section` when given (exact value,
        "" for articles without one), newest first (undated last); and how many match in all."""
        clauses: list[str] = []
        params: list[object] = []
        for word in words:
            spelled = _spellings(word)
            alternatives = [f"{_TITLE} LIKE ? ESCAPE '\\'" for _ in spelled]
            alternatives.append("id LIKE ? ESCAPE '\\'")
            clauses.append("(" + " OR ".join(alternatives) + ")")
            params.extend([*(_like(s) for s in spelled), _like(word)])
        if section is not None:
            clauses.append(f"COALESCE({_SECTION}, '') = ?")
            params.append(section)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        conn = self._connection()
        total = int(conn.execute(f"SELECT COUNT(*) FROM articles{where}", params).fetchone()[0])
        rows = conn.execute(
            "SELECT data,"
            " (SELECT COUNT(*) FROM curated c WHERE c.source_id = articles.id),"
            " (SELECT COUNT(*) FROM pins p WHERE p.article_id = articles.id)"
            f" FROM articles{where}"
            " ORDER BY published_ts IS NULL, published_ts DESC, key DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        entries = [
            CatalogEntry(article_from_json({**json.loads(data), "body": ""}), curated, pins)
            for data, curated, pins in rows
        ]
        return entries, total

    def sections(self) -> list[tuple[str, int]]:
        """Every section and how many articles it holds, by name ("" for articles without one)."""
        rows = self._connection().execute(
            f"SELECT COALESCE({_SECTION}, '') AS s, COUNT(*) FROM articles GROUP BY s ORDER BY s"
        )
        return [(str(name), int(count)) for name, count in rows]
