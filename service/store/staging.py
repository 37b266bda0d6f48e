"""Staged writes: a large ingest never holds the store's write lock while it reads and validates.

An ingest adds its validated articles to a `Stage`; nothing in the store changes until
`publish`, which writes all of them in one short transaction (so a file is still one
all-or-nothing ingest). A small batch waits in memory and is upserted row by row; past
`SPILL_ROWS` rows or `SPILL_BYTES` of text it spills into a private SQLite file beside the
store (no journal, no fsync: it is thrown away after the publish, or by the next stage if the
process died), and the publish merges that file into the store with three set-based statements.
Other writers, HTTP writes and builds, proceed while a stage fills; readers never wait.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from service.article import Article
from service.store.articles import Articles, ArticleWriter, split_body
from service.store.base import translated

SPILL_ROWS = 2_000
SPILL_BYTES = 32 * 1024 * 1024
PREFIX = ".staging-"

STAGE_SCHEMA = """
CREATE TABLE rows (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,
    body TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    published_ts REAL
);
"""


@dataclass(frozen=True)
class Published:
    revision: int
    inserted: int
    updated: int
    unchanged: int


class Stage:
    """Validated articles waiting to be published together (ids must be unique)."""

    def __init__(self, store: StagedWrites) -> None:
        self._store = store
        self._pending: list[Article] = []
        self._pending_bytes = 0
        self._file: Path | None = None
        self._conn: sqlite3.Connection | None = None

    def add(self, article: Article) -> None:
        if self._conn is not None:
            self._insert(article)
            return
        self._pending.append(article)
        self._pending_bytes += len(article.body) + len(article.title)
        if len(self._pending) >= SPILL_ROWS or self._pending_bytes >= SPILL_BYTES:
            self._spill()

    def publish(self) -> Published:
        """Write every staged article in one transaction; the outcome of each kind."""
        if self._conn is None:
            return self._store.publish_rows(self._pending)
        with translated():
            self._conn.execute("COMMIT")
        assert self._file is not None
        return self._store.publish_file(self._file)

    def _spill(self) -> None:
        self._file = self._store.path.with_name(
            f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}.sqlite3"
        )
        with translated():
            conn = sqlite3.connect(self._file, isolation_level=None)
            self._conn = conn
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.executescript(STAGE_SCHEMA)
            conn.execute("BEGIN")
        for article in self._pending:
            self._insert(article)
        self._pending = []

    def _insert(self, article: Article) -> None:
        assert self._conn is not None
        data, body = split_body(article)
        with translated():
            self._conn.execute(
                "INSERT INTO rows (id, data, body, content_hash, published_ts)"
                " VALUES (?, ?, ?, ?, ?)",
                (article.id, data, body, article.content_hash, article.published_ts),
            )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.unlink(missing_ok=True)
            self._file = None


class StagedWrites(Articles):
    """Ingests in two steps: stage without the write lock, then publish in one transaction."""

    @contextlib.contextmanager
    def stage(self) -> Iterator[Stage]:
        """A stage for one ingest; its file (if it spilled) is removed when the block ends."""
        _remove_orphans(self.path.parent)
        stage = Stage(self)
        try:
            yield stage
        finally:
            stage.close()

    def publish_rows(self, articles: list[Article]) -> Published:
        counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        with self.write() as writer:
            for article in articles:
                counts[writer.upsert(article)] += 1
        return Published(writer.revision, **counts)

    def publish_file(self, file: Path) -> Published:
        conn = self._connection()
        with translated():
            conn.execute("ATTACH DATABASE ? AS staged", (str(file),))
        try:
            with self.write() as writer:
                return _merge(conn, writer)
        finally:
            conn.execute("DETACH DATABASE staged")


def _merge(conn: sqlite3.Connection, writer: ArticleWriter) -> Published:
    """The staged rows into `articles`, as `ArticleWriter.upsert` would write each one."""
    revision, now = writer.revision, time.time()
    unchanged = conn.execute(
        "SELECT COUNT(*) FROM staged.rows s JOIN articles a"
        " ON a.id = s.id AND a.content_hash = s.content_hash"
    ).fetchone()[0]
    updated = conn.execute(
        "UPDATE articles SET data = s.data, body = s.body, content_hash = s.content_hash,"
        " published_ts = s.published_ts, revision = ?, updated_at = ?"
        " FROM staged.rows s WHERE articles.id = s.id AND articles.content_hash != s.content_hash",
        (revision, now),
    ).rowcount
    inserted = conn.execute(
        "INSERT INTO articles (id, data, body, content_hash, published_ts, revision, updated_at)"
        " SELECT s.id, s.data, s.body, s.content_hash, s.published_ts, ?, ? FROM staged.rows s"
        " WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = s.id) ORDER BY s.seq",
        (revision, now),
    ).rowcount
    conn.execute("DELETE FROM tombstones WHERE id IN (SELECT id FROM staged.rows)")
    return Published(revision, int(inserted), int(updated), int(unchanged))


def _remove_orphans(directory: Path) -> None:
    """Stage files of processes that died before removing theirs."""
    for leftover in directory.glob(f"{PREFIX}*.sqlite3"):
        pid = leftover.name[len(PREFIX) :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
