"""The article store: one SQLite file in WAL mode. The only module in the project that speaks SQL.

Besides the articles it keeps:
- a stable integer `key` per article (never reused), which is the article's id in the index;
- a store `revision`, bumped by every write batch, so "what changed since the build" is a query;
- tombstones of deleted articles, for the same reason;
- the embedding cache: vectors keyed by (encoder identity, hash of the encoded text).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from service.articles import Article, article_from_json

UpsertOutcome = Literal["inserted", "updated", "unchanged"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    key INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    published_ts REAL,
    revision INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_revision ON articles(revision);
CREATE TABLE IF NOT EXISTS tombstones (
    id TEXT PRIMARY KEY,
    key INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    deleted_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (
    encoder TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (encoder, text_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pins (
    article_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    target_id TEXT NOT NULL,
    PRIMARY KEY (article_id, position)
);
CREATE TABLE IF NOT EXISTS blocks (
    article_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    PRIMARY KEY (article_id, target_id)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', '0');
"""


@dataclass(frozen=True)
class StoredArticle:
    key: int
    article: Article
    content_hash: str
    revision: int


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
        data, body = _split_body(article)
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


def _split_body(article: Article) -> tuple[str, str]:
    data = article.to_json()
    body = data.pop("body")
    return json.dumps(data, ensure_ascii=False), body


def _join_body(data: str, body: str) -> Article:
    return article_from_json({**json.loads(data), "body": body})


class ArticleStore:
    """Articles and the embedding cache in one SQLite file; one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connection()
        conn.executescript(SCHEMA)
        self._migrate(conn)

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE in `write`).
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring a store written by an earlier version up to this schema, in one transaction."""
        columns = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
        if "body" not in columns:
            # 0.1 kept the body inside the JSON; it now has a column so lists can skip it.
            with self._transaction() as tx:
                tx.execute("ALTER TABLE articles ADD COLUMN body TEXT NOT NULL DEFAULT ''")
                tx.execute(
                    "UPDATE articles SET body = COALESCE(json_extract(data, '$.body'), ''),"
                    " data = json_remove(data, '$.body')"
                )

    def __enter__(self) -> ArticleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close this thread's connection (the last one to close folds the WAL into the file)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextlib.contextmanager
    def write(self) -> Iterator[ArticleWriter]:
        """One atomic write batch with its own revision; an exception rolls all of it back."""
        with self._transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE name = 'revision'").fetchone()
            revision = int(row[0]) + 1
            conn.execute("UPDATE meta SET value = ? WHERE name = 'revision'", (str(revision),))
            yield ArticleWriter(conn, revision)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside this block all see the same state, whatever writers do meanwhile."""
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    # -- reading articles ------------------------------------------------------------------

    def revision(self) -> int:
        row = (
            self._connection().execute("SELECT value FROM meta WHERE name = 'revision'").fetchone()
        )
        return int(row[0])

    def count(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def get(self, article_id: str) -> StoredArticle | None:
        row = (
            self._connection()
            .execute(
                "SELECT key, data, body, content_hash, revision FROM articles WHERE id = ?",
                (article_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return StoredArticle(row[0], _join_body(row[1], row[2]), row[3], row[4])

    def get_by_keys(self, keys: Iterable[int], *, with_body: bool = False) -> dict[int, Article]:
        """Articles for the given keys; keys of deleted articles are simply absent.

        Without `with_body` the body comes back empty: related lists never show it, and not
        reading it keeps a lookup of 50 candidates cheap.
        """
        wanted = [int(k) for k in keys]
        found: dict[int, Article] = {}
        conn = self._connection()
        body = "body" if with_body else "''"
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, data, text in conn.execute(
                f"SELECT key, data, {body} FROM articles WHERE key IN ({marks})", chunk
            ):
                found[key] = _join_body(data, text)
        return found

    def key_revisions(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Every article's key and revision, in key order: what a build needs to tell new and
        changed articles from the rest without reading any text."""
        rows = self._connection().execute("SELECT key, revision FROM articles ORDER BY key")
        pairs = np.asarray(rows.fetchall(), dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0].copy(), pairs[:, 1].copy()

    def keys_for(self, article_ids: Iterable[str]) -> dict[str, int]:
        """Store keys of the given ids; unknown ids are absent."""
        wanted = list(dict.fromkeys(article_ids))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._connection().execute(
                f"SELECT id, key FROM articles WHERE id IN ({marks})", chunk
            )
            found.update((article_id, key) for article_id, key in rows)
        return found

    def iter_articles(self, batch: int = 1000) -> Iterator[StoredArticle]:
        """Every article in key order, read in batches (call inside `snapshot` for consistency)."""
        conn = self._connection()
        last = -1
        while True:
            rows = conn.execute(
                "SELECT key, data, body, content_hash, revision FROM articles WHERE key > ?"
                " ORDER BY key LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for key, data, body, content_hash, revision in rows:
                yield StoredArticle(key, _join_body(data, body), content_hash, revision)
            last = rows[-1][0]

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

    # -- editorial overrides ---------------------------------------------------------------

    def pins(self, article_id: str) -> list[str]:
        """Ids pinned first under `article_id`, in the editor's order."""
        rows = self._connection().execute(
            "SELECT target_id FROM pins WHERE article_id = ? ORDER BY position", (article_id,)
        )
        return [row[0] for row in rows]

    def blocks(self, article_id: str) -> list[str]:
        """Ids never shown under `article_id`; article_id '' holds the global block list."""
        rows = self._connection().execute(
            "SELECT target_id FROM blocks WHERE article_id = ? ORDER BY target_id", (article_id,)
        )
        return [row[0] for row in rows]

    def set_pins(self, article_id: str, target_ids: Sequence[str]) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM pins WHERE article_id = ?", (article_id,))
            conn.executemany(
                "INSERT INTO pins (article_id, position, target_id) VALUES (?, ?, ?)",
                [(article_id, i, target) for i, target in enumerate(target_ids)],
            )

    def set_blocks(self, article_id: str, target_ids: Iterable[str]) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM blocks WHERE article_id = ?", (article_id,))
            conn.executemany(
                "INSERT OR IGNORE INTO blocks (article_id, target_id) VALUES (?, ?)",
                [(article_id, target) for target in target_ids],
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- embedding cache -------------------------------------------------------------------

    def cached_vectors(
        self, encoder: str, text_hashes: Iterable[str]
    ) -> dict[str, npt.NDArray[np.float32]]:
        wanted = list(dict.fromkeys(text_hashes))
        found: dict[str, npt.NDArray[np.float32]] = {}
        conn = self._connection()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for text_hash, blob in conn.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE encoder = ? AND text_hash IN ({marks})",
                [encoder, *chunk],
            ):
                found[text_hash] = np.frombuffer(blob, dtype=np.float32)
        return found

    def cache_vectors(
        self, encoder: str, items: Iterable[tuple[str, npt.NDArray[np.float32]]]
    ) -> None:
        rows = [(encoder, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items]
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings (encoder, text_hash, vector) VALUES (?, ?, ?)",
                rows,
            )

    def retain_vectors(self, encoder: str, text_hashes: Iterable[str]) -> int:
        """Drop this encoder's cached vectors whose text is no longer in any article; return count."""
        with self._transaction() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep_hashes (h TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM keep_hashes")
            conn.executemany(
                "INSERT OR IGNORE INTO keep_hashes (h) VALUES (?)", ((h,) for h in text_hashes)
            )
            removed = conn.execute(
                "DELETE FROM embeddings WHERE encoder = ?"
                " AND text_hash NOT IN (SELECT h FROM keep_hashes)",
                (encoder,),
            ).rowcount
            conn.execute("DELETE FROM keep_hashes")
        return int(removed)
