"""The SQLite file under the store: one connection per thread, WAL mode, explicit transactions.

Readers never wait for writers (WAL); a write batch is one `BEGIN IMMEDIATE` transaction, kept
short (a large ingest stages its rows first, see `service.store.staging`). SQLite's failures
become the service's errors here: a full disk is `StorageFull` (507), a write lock held past
the busy timeout `StoreBusy` (503), with the cause never hidden by a failed rollback. The
write-ahead log is checkpointed and truncated once a commit leaves it above `WAL_LIMIT`, so
one large write does not leave a log of its size behind while the server runs.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from service.errors import DISK_FULL, StorageFull, StoreBusy

IN_CHUNK = 500
"""Values bound per `IN (...)` list: far below SQLite's limit on bound variables."""
BUSY_TIMEOUT_MS = 30_000
WAL_LIMIT = 64 * 1024 * 1024
"""Bytes of write-ahead log kept after a checkpoint (`journal_size_limit`)."""
CHECKPOINT_WAIT_MS = 200
"""How long a truncating checkpoint may wait for readers before leaving it to a later commit."""

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
CREATE TABLE IF NOT EXISTS curated (
    source_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    target_id TEXT NOT NULL,
    grade REAL NOT NULL DEFAULT 1.0,
    PRIMARY KEY (source_id, position)
);
CREATE TABLE IF NOT EXISTS curated_pending (
    source_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (source_id, position)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', '0');
INSERT OR IGNORE INTO meta (name, value) VALUES ('editorial_revision', '0');
"""


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """SQLite's errors as the service's: a full disk and a busy store have codes of their own."""
    try:
        yield
    except sqlite3.Error as exc:
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        text = str(exc)
        if code == sqlite3.SQLITE_FULL or "disk is full" in text:
            raise StorageFull(DISK_FULL) from exc
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "database is locked" in text:
            raise StoreBusy(
                "The article store is busy with another write: retry in a moment"
            ) from exc
        raise


class Database:
    """The connection life cycle, transactions and the chunked `IN (...)` query."""

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
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            with translated():
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
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

    def __enter__(self) -> Any:
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
    def snapshot(self) -> Iterator[None]:
        """Reads inside this block all see the same state, whatever writers do meanwhile."""
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def _transaction(self, *, wait_ms: int = BUSY_TIMEOUT_MS) -> Iterator[sqlite3.Connection]:
        """One write transaction; `wait_ms`: how long to wait for another writer's lock."""
        conn = self._connection()
        if wait_ms != BUSY_TIMEOUT_MS:
            conn.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
        try:
            with translated():
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLite rolls back by itself on some errors (a full disk): a second
                    # ROLLBACK would fail and hide the cause.
                    if conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
        finally:
            if wait_ms != BUSY_TIMEOUT_MS:
                conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._truncate_log_if_large(conn)

    def _truncate_log_if_large(self, conn: sqlite3.Connection) -> None:
        """Checkpoint and truncate the write-ahead log once it outgrew WAL_LIMIT; never waits
        long for readers (a later commit tries again)."""
        try:
            if os.path.getsize(f"{self.path}-wal") <= WAL_LIMIT:
                return
        except OSError:
            return
        conn.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error:
            pass
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    def _select_in(
        self, sql: str, values: Sequence[Any], params: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """Rows of `sql`, whose `{marks}` is an IN list over `values`, fetched in chunks;
        `params` are bound before the list."""
        conn = self._connection()
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(values), IN_CHUNK):
            chunk = list(values[start : start + IN_CHUNK])
            marks = ",".join("?" * len(chunk))
            rows.extend(conn.execute(sql.format(marks=marks), [*params, *chunk]))
        return rows
