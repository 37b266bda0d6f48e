"""Articles in the store: the writer of one write batch, and every way of reading them.

Each article has a stable integer `key` (never reused), which is its id in the index; a store
`revision`, bumped by every write batch, makes "what changed since the build" a query; deleted
articles leave tombstones for the same reason.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from service.article import Article, article_from_json
from service.store.base import Database

UpsertOutcome = Literal["inserted", "updated", "unchanged"]


@dataclass(frozen=True)
class StoredArticle:
    key: int
    article: Article


class ArticleWriter:
    """Writes inside one transaction (see `ArticleStore.write`); all of it commits or none."""

    def __init__(self, conn: sqlite3.Connection, revision: int) -> None:
        self._conn = conn
        self.revision = revision

    def upsert(self, article: Article) -> UpsertOutcome:
        content_hash = article.content_hash
        row = self._conn.execute(
            "SELECT content_hash FROM articles WHERE id = ?", (article.id,)
        ).fetchone()
        if row is not None and row[0] == content_hash:
            return "unchanged"
        data, body = split_body(article)
        now = time.time()
        if row is None:
            self._conn.execute(
                "INSERT INTO articles (id, data, body, content_hash, published_ts, revision,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (article.id, data, body, content_hash, article.published_ts, self.revision, now),
            )
            self._conn.execute("DELETE FROM tombstones WHERE id = ?", (article.id,))
            return "inserted"
        self._conn.execute(
            "UPDATE articles SET data = ?, content_hash = ?, published_ts = ?, revision = ?,"
            " updated_at = ? WHERE id = ?",
            (data, content_hash, article.published_ts, self.revision, now, article.id),
        )
        self._conn.execute("UPDATE articles SET body = ? WHERE id = ?", (body, article.id))
        return "updated"

    def delete(self, article_id: str) -> bool:
        row = self._conn.execute("SELECT key FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return False
        self._conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        self._conn.execute(
            "INSERT OR REPLACE INTO tombstones (id, key, revision, deleted_at) VALUES (?, ?, ?, ?)",
            (article_id, row[0], self.revision, time.time()),
        )
        return True


def split_body(article: Article) -> tuple[str, str]:
    data = article.to_json()
    body = data.pop("body")
    return json.dumps(data, ensure_ascii=False), body


def _join_body(data: str, body: str) -> Article:
    return article_from_json({**json.loads(data), "body": body})


class Articles(Database):
    """Reading and writing articles."""

    @contextlib.contextmanager
    def write(self) -> Iterator[ArticleWriter]:
        """One atomic write batch with its own revision; an exception rolls all of it back."""
        with self._transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE name = 'revision'").fetchone()
            revision = int(row[0]) + 1
            conn.execute("UPDATE meta SET value = ? WHERE name = 'revision'", (str(revision),))
            # When articles were last written: automatic rebuilds wait for a quiet period.
            conn.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('written_at', ?)",
                (repr(time.time()),),
            )
            yield ArticleWriter(conn, revision)

    def versions(self) -> tuple[int, int]:
        """(revision, editorial revision): the first moves with every write batch of articles,
        the second with every change of pins or blocks. One statement."""
        rows = dict(
            self._connection().execute(
                "SELECT name, value FROM meta WHERE name IN ('revision', 'editorial_revision')"
            )
        )
        return int(rows["revision"]), int(rows.get("editorial_revision", 0))

    def changed_since(
        self, revision: int, limit: int
    ) -> tuple[list[StoredArticle], list[tuple[str, int]]] | None:
        """Articles (without body) written and (id, key) of articles deleted after store
        revision `revision`; None when more than `limit` of either changed."""
        conn = self._connection()
        rows = conn.execute(
            "SELECT key, data FROM articles WHERE revision > ? LIMIT ?", (revision, limit + 1)
        ).fetchall()
        deleted = conn.execute(
            "SELECT id, key FROM tombstones WHERE revision > ? LIMIT ?", (revision, limit + 1)
        ).fetchall()
        if len(rows) > limit or len(deleted) > limit:
            return None
        return [StoredArticle(key, _join_body(data, "")) for key, data in rows], deleted

    def changed_keys(self, revision: int) -> frozenset[int]:
        """Keys of the articles written (added or changed) after store revision `revision`."""
        rows = self._connection().execute(
            "SELECT key FROM articles WHERE revision > ?", (revision,)
        )
        return frozenset(int(row[0]) for row in rows)

    def deleted_keys(self, revision: int) -> frozenset[int]:
        """Keys of the articles deleted after store revision `revision`."""
        rows = self._connection().execute(
            "SELECT key FROM tombstones WHERE revision > ?", (revision,)
        )
        return frozenset(int(row[0]) for row in rows)

    def written_at(self) -> float | None:
        """When articles were last written (epoch seconds), None if never since this version."""
        row = (
            self._connection()
            .execute("SELECT value FROM meta WHERE name = 'written_at'")
            .fetchone()
        )
        return float(row[0]) if row else None

    def revision(self) -> int:
        row = (
            self._connection().execute("SELECT value FROM meta WHERE name = 'revision'").fetchone()
        )
        return int(row[0])

    def count(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def get(self, article_id: str, *, with_body: bool = True) -> StoredArticle | None:
        """The article `article_id`; without `with_body` its body comes back empty."""
        body = "body" if with_body else "''"
        row = (
            self._connection()
            .execute(f"SELECT key, data, {body} FROM articles WHERE id = ?", (article_id,))
            .fetchone()
        )
        if row is None:
            return None
        return StoredArticle(row[0], _join_body(row[1], row[2]))

    def get_by_keys(self, keys: Iterable[int], *, with_body: bool = False) -> dict[int, Article]:
        """Articles for the given keys; keys of deleted articles are simply absent.

        Without `with_body` the body comes back empty: related lists never show it, and not
        reading it keeps a lookup of 50 candidates cheap.
        """
        body = "body" if with_body else "''"
        rows = self._select_in(
            f"SELECT key, data, {body} FROM articles WHERE key IN ({{marks}})",
            [int(k) for k in keys],
        )
        return {key: _join_body(data, text) for key, data, text in rows}

    def key_revisions(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Every article's key and revision, in key order: what a build needs to tell new and
        changed articles from the rest without reading any text."""
        rows = self._connection().execute("SELECT key, revision FROM articles ORDER BY key")
        pairs = np.asarray(rows.fetchall(), dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0].copy(), pairs[:, 1].copy()

    def keys_for(self, article_ids: Iterable[str]) -> dict[str, int]:
        """Store keys of the given ids; unknown ids are absent."""
        rows = self._select_in(
            "SELECT id, key FROM articles WHERE id IN ({marks})", list(dict.fromkeys(article_ids))
        )
        return dict(rows)

    def iter_articles(self, batch: int = 1000) -> Iterator[StoredArticle]:
        """Every article in key order, read in batches (call inside `snapshot` for consistency)."""
        conn = self._connection()
        last = -1
        while True:
            rows = conn.execute(
                "SELECT key, data, body FROM articles WHERE key > ? ORDER BY key LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for key, data, body in rows:
                yield StoredArticle(key, _join_body(data, body))
            last = rows[-1][0]

    def labels(self) -> Iterator[tuple[str, str | None, str]]:
        """Every article's (id, url, title), without its body: what links name articles by."""
        rows = self._connection().execute(
            "SELECT id, json_extract(data, '$.url'), json_extract(data, '$.title') FROM articles"
        )
        for article_id, url, title in rows:
            yield article_id, url, title or ""

    def changes_since(self, revision: int) -> int:
        """Articles added, changed or deleted after store revision `revision`."""
        conn = self._connection()
        changed = conn.execute(
            "SELECT COUNT(*) FROM articles WHERE revision > ?", (revision,)
        ).fetchone()[0]
        deleted = conn.execute(
            "SELECT COUNT(*) FROM tombstones WHERE revision > ?", (revision,)
        ).fetchone()[0]
        return int(changed) + int(deleted)
