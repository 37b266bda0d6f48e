"""Editorial overrides in the store: pins and blocks, per article and global."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.store.base import IN_CHUNK, Database

GLOBAL_BLOCKS = ""
"""The article id under which the global block list is stored."""


@dataclass(frozen=True)
class Editorial:
    """An article's editorial overrides, as one request needs them."""

    pins: list[str]
    """Pinned ids, in the editor's order."""
    blocked: set[str]
    """Ids blocked under the article or globally."""
    keys: dict[str, int]
    """Store keys of the pinned, blocked and asked-about ids that exist."""


def _bump_editorial_revision(conn: sqlite3.Connection) -> None:
    """Every change of pins or blocks moves the editorial revision: caches of related lists
    (per worker, and HTTP ETags) are keyed by it."""
    conn.execute(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'editorial_revision'"
    )


class Overrides(Database):
    """Pins and blocks."""

    def editorial(self, article_id: str | None, asked: Sequence[str] = ()) -> Editorial:
        """Pins of `article_id`, its blocks and the global ones, and the store keys of those ids
        and of `asked`: one statement (a draft, `article_id` None, has global blocks only)."""
        asked = list(dict.fromkeys(asked))
        head, rest = asked[:IN_CHUNK], asked[IN_CHUNK:]
        marks = ",".join("?" * len(head)) or "NULL"
        rows = (
            self._connection()
            .execute(
                "SELECT 'pin', p.target_id, p.position, a.key FROM pins p"
                " LEFT JOIN articles a ON a.id = p.target_id WHERE p.article_id = ?"
                " UNION ALL SELECT 'block', b.target_id, 0, a.key FROM blocks b"
                " LEFT JOIN articles a ON a.id = b.target_id WHERE b.article_id IN (?, ?)"
                f" UNION ALL SELECT 'asked', id, 0, key FROM articles WHERE id IN ({marks})",
                [article_id, article_id, GLOBAL_BLOCKS, *head],
            )
            .fetchall()
        )
        pins = sorted((position, target) for kind, target, position, _ in rows if kind == "pin")
        keys = {target: key for _, target, _, key in rows if key is not None}
        if rest:
            keys.update(self._select_in("SELECT id, key FROM articles WHERE id IN ({marks})", rest))
        return Editorial(
            [target for _, target in pins],
            {target for kind, target, _, _ in rows if kind == "block"},
            keys,
        )

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
            _bump_editorial_revision(conn)
            conn.execute("DELETE FROM pins WHERE article_id = ?", (article_id,))
            conn.executemany(
                "INSERT INTO pins (article_id, position, target_id) VALUES (?, ?, ?)",
                [(article_id, i, target) for i, target in enumerate(target_ids)],
            )

    def set_blocks(self, article_id: str, target_ids: Iterable[str]) -> None:
        with self._transaction() as conn:
            _bump_editorial_revision(conn)
            conn.execute("DELETE FROM blocks WHERE article_id = ?", (article_id,))
            conn.executemany(
                "INSERT OR IGNORE INTO blocks (article_id, target_id) VALUES (?, ?)",
                [(article_id, target) for target in target_ids],
            )
