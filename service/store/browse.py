"""Finding articles for the editors' page: by title words or id, by section, newest first.

Read-only queries over the articles table. A word matches a substring of the title or of the
id; every word must match. SQLite's LIKE folds case for ASCII letters only, so a word with other
letters is also tried lowercased and capitalised ("über" finds "Über"). Without a full-text
index a search scans the table (0.15 to 0.3 s at 100,000 articles on 2 busy cores), the
price of needing no schema of its own; the sections are counted by a scan too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from service.article import Article, article_from_json
from service.store.base import Database

_TITLE = "json_extract(data, '$.title')"
_SECTION = "json_extract(data, '$.section')"


def _newest_first(table: str = "") -> str:
    """Newest first, undated last; the key breaks ties (the later stored first)."""
    t = f"{table}." if table else ""
    return f"ORDER BY {t}published_ts IS NULL, {t}published_ts DESC, {t}key DESC"


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
        # A filtered search counts its matches in the same scan (a window over every match);
        # unfiltered, SQLite counts the table faster on its own and sorts with a bounded heap.
        # The page's keys are sorted, then joined to their rows: no sort moves article data.
        counted = "COUNT(*) OVER ()" if clauses else "NULL"
        rows = conn.execute(
            "SELECT a.data, page.total,"
            " (SELECT COUNT(*) FROM curated c WHERE c.source_id = a.id),"
            " (SELECT COUNT(*) FROM pins p WHERE p.article_id = a.id)"
            f" FROM (SELECT key, published_ts, {counted} AS total"
            f" FROM articles{where} {_newest_first()} LIMIT ? OFFSET ?) AS page"
            f" JOIN articles a ON a.key = page.key {_newest_first('page')}",
            [*params, limit, offset],
        ).fetchall()
        if rows and clauses:
            total = int(rows[0][1])
        else:  # unfiltered, or past the last page
            total = int(conn.execute(f"SELECT COUNT(*) FROM articles{where}", params).fetchone()[0])
        entries = [
            CatalogEntry(article_from_json({**json.loads(data), "body": ""}), curated, pins)
            for data, _, curated, pins in rows
        ]
        return entries, total

    def sections(self) -> list[tuple[str, int]]:
        """Every section and how many articles it holds, by name ("" for articles without one)."""
        rows = self._connection().execute(
            f"SELECT COALESCE({_SECTION}, '') AS s, COUNT(*) FROM articles GROUP BY s ORDER BY s"
        )
        return [(str(name), int(count)) for name, count in rows]
