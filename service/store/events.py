"""Impressions and clicks: an append-only SQLite file of its own, written off the request path.

A request only appends its events to an in-memory list (`submit`); one writer thread per
process wakes every `FLUSH_SECONDS`, takes what has gathered and writes it in one short
transaction, so a page view never waits for a disk write and related reads never share a
lock with it (the file is not the article store's). The writer is never woken by a request:
a thread woken per event would contend for the interpreter with the requests it serves. Rows are deduplicated by a unique key
(recommendation id, type, target, visitor): a reader who sees the same list twice counts one
impression. The table is bounded: past `max_rows` new events are dropped (and counted) until
retention, run by the writer every `PRUNE_SECONDS`, deletes what is older than the retention.

Nothing identifying is stored: no address, no cookie, no user agent; the visitor key is an
HMAC under a random salt kept in the file itself (so every worker process hashes alike).
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("related.events")

FLUSH_SECONDS = 0.25
QUEUE_SIZE = 50_000
"""Events waiting for the writer; when it falls this far behind, more are dropped."""
EXIT_FLUSH_SECONDS = 5.0
PRUNE_SECONDS = 600.0
RECOUNT_SECONDS = 10.0
"""How often a full table looks again for room (another process's retention may free some)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    type TEXT NOT NULL,
    recommendation_id TEXT NOT NULL,
    article TEXT NOT NULL,
    target TEXT NOT NULL,
    position INTEGER,
    variant TEXT NOT NULL,
    experiment TEXT NOT NULL,
    visitor TEXT NOT NULL,
    UNIQUE (recommendation_id, type, target, visitor)
);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE INDEX IF NOT EXISTS events_experiment ON events(experiment, variant, type);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
COLUMNS = "at, type, recommendation_id, article, target, position, variant, experiment, visitor"


@dataclass(frozen=True)
class Event:
    """One stored event, as its row."""

    at: float
    type: str
    recommendation_id: str
    article: str
    target: str
    position: int | None
    variant: str
    experiment: str
    visitor: str
    """The visitor key's HMAC (`EventStore.visitor_hash`), never the key itself."""

    def row(self) -> tuple[object, ...]:
        """The values of `COLUMNS`, in order."""
        return (
            self.at,
            self.type,
            self.recommendation_id,
            self.article,
            self.target,
            self.position,
            self.variant,
            self.experiment,
            self.visitor,
        )


@dataclass(frozen=True)
class Tally:
    """Events of one experiment counted by variant, source article and type."""

    variant: str
    article: str
    type: str
    count: int


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    conn.execute(
        "INSERT OR IGNORE INTO meta (name, value) VALUES ('salt', ?)", (secrets.token_hex(16),)
    )
    return conn


class EventStore:
    """The events file of one process: `submit` from requests, reads for reports."""

    def __init__(self, path: Path, *, max_rows: int, retention_days: float) -> None:
        self.path = path
        self.max_rows = max_rows
        self.retention_seconds = retention_days * 86400.0
        self._waiting: list[Event] = []
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0
        self.dropped_full = 0
        """Events dropped because the table or the queue was full (since this process started)."""
        with self._reader() as conn:
            row = conn.execute("SELECT value FROM meta WHERE name = 'salt'").fetchone()
        self._salt = bytes.fromhex(row[0])

    def visitor_hash(self, key: str) -> str:
        return hmac.new(self._salt, key.encode(), hashlib.sha256).hexdigest()[:32]

    def submit(self, events: Iterable[Event]) -> int:
        """Queue `events` for the writer; how many were dropped because it is too far behind."""
        self._ensure_writer()
        given = list(events)
        with self._idle:
            room = max(0, QUEUE_SIZE - len(self._waiting))
            self._waiting.extend(given[:room])
            self._pending += min(room, len(given))
        dropped = len(given) - min(room, len(given))
        self.dropped_full += dropped
        return dropped

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every event submitted so far is written (or dropped); whether it was."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def count(self) -> int:
        with self._reader() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def tallies(self, experiment: str) -> list[Tally]:
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT variant, article, type, COUNT(*) FROM events WHERE experiment = ?"
                " GROUP BY variant, article, type",
                (experiment,),
            ).fetchall()
        return [Tally(v, a, t, int(n)) for v, a, t, n in rows]

    def rows(self) -> list[Event]:
        """Every stored event, oldest first (for tests and exports: a full read)."""
        with self._reader() as conn:
            found = conn.execute(f"SELECT {COLUMNS} FROM events ORDER BY id").fetchall()
        return [Event(*row) for row in found]

    def prune(self, now: float | None = None) -> int:
        """Delete events older than the retention; how many went."""
        cutoff = (time.time() if now is None else now) - self.retention_seconds
        with self._reader() as conn:
            return conn.execute("DELETE FROM events WHERE at < ?", (cutoff,)).rowcount

    def _reader(self) -> closing[sqlite3.Connection]:
        return closing(connect(self.path))

    # -- the writer ---------------------------------------------------------------------------

    def _ensure_writer(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="events-writer", daemon=True)
                self._thread.start()
                # A worker that exits (a restart, a shutdown) writes what it has taken first.
                atexit.register(self.flush, EXIT_FLUSH_SECONDS)

    def _done(self, n: int) -> None:
        with self._idle:
            self._pending -= n
            if self._pending <= 0:
                self._idle.notify_all()

    def _run(self) -> None:
        conn = connect(self.path)
        rows = int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        counted = pruned = time.monotonic()
        while True:
            batch = self._gather()
            now = time.monotonic()
            if now - pruned >= PRUNE_SECONDS:
                cutoff = time.time() - self.retention_seconds
                conn.execute("DELETE FROM events WHERE at < ?", (cutoff,))
                pruned = now
                rows, counted = -1, 0.0
            if not batch:
                continue
            try:
                if (rows >= self.max_rows and now - counted >= RECOUNT_SECONDS) or rows < 0:
                    rows = int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
                    counted = now
                room = max(0, self.max_rows - rows)
                kept, over = batch[:room], len(batch) - min(room, len(batch))
                before = conn.total_changes
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    f"INSERT OR IGNORE INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [event.row() for event in kept],
                )
                conn.execute("COMMIT")
                rows += conn.total_changes - before
                self.dropped_full += over
            except Exception:
                log.exception("could not write %d events; they are lost", len(batch))
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            finally:
                self._done(len(batch))

    def _gather(self) -> list[Event]:
        """What has gathered since the last look, after sleeping `FLUSH_SECONDS`."""
        time.sleep(FLUSH_SECONDS)
        with self._idle:
            batch, self._waiting = self._waiting, []
        return batch
