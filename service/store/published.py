"""What a primary publishes for read replicas besides a generation: the articles' display
records (a catalogue) and the editorial state (pins, blocks, deletions since the build).

The catalogue is a small read-only SQLite file holding, for each article of a generation, its
key, id and stored record without the body (related lists never show a body), so a replica
answers related-by-ID without the primary's store. `EditorialSnapshot` is the editorial state as
one JSON document, published whenever it changes, so replicas apply pins and blocks without a
rebuild.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from service.store.base import Database
from service.store.overrides import GLOBAL_BLOCKS

CATALOGUE_SCHEMA = (
    "CREATE TABLE catalogue.articles ("
    "key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL)"
)


@dataclass(frozen=True)
class EditorialSnapshot:
    """Every pin and block list, and the articles deleted since the published generation."""

    pins: dict[str, list[str]] = field(default_factory=dict)
    """Article id -> pinned ids, in the editor's order."""
    blocks: dict[str, list[str]] = field(default_factory=dict)
    """Article id ('' for the global list) -> blocked ids."""
    deleted: dict[str, int] = field(default_factory=dict)
    """Id -> key of articles deleted after `since_revision`: replicas never show them."""
    since_revision: int = -1

    def to_json(self) -> dict[str, Any]:
        return {
            "pins": self.pins,
            "blocks": self.blocks,
            "deleted": self.deleted,
            "since_revision": self.since_revision,
        }

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, data: bytes) -> EditorialSnapshot:
        raw = json.loads(data)
        return cls(
            pins={str(k): [str(i) for i in v] for k, v in raw["pins"].items()},
            blocks={str(k): [str(i) for i in v] for k, v in raw["blocks"].items()},
            deleted={str(k): int(v) for k, v in raw["deleted"].items()},
            since_revision=int(raw["since_revision"]),
        )

    def blocked(self, article_id: str | None) -> set[str]:
        """Ids blocked under `article_id` (None: a draft) or globally."""
        found = set(self.blocks.get(GLOBAL_BLOCKS, []))
        if article_id is not None:
            found |= set(self.blocks.get(article_id, []))
        return found


class Publishing(Database):
    """Reads the primary makes to publish for replicas."""

    def editorial_snapshot(self, since_revision: int) -> EditorialSnapshot:
        conn = self._connection()
        pins: dict[str, list[str]] = {}
        for article_id, target in conn.execute(
            "SELECT article_id, target_id FROM pins ORDER BY article_id, position"
        ):
            pins.setdefault(article_id, []).append(target)
        blocks: dict[str, list[str]] = {}
        for article_id, target in conn.execute(
            "SELECT article_id, target_id FROM blocks ORDER BY article_id, target_id"
        ):
            blocks.setdefault(article_id, []).append(target)
        deleted = dict(
            conn.execute(
                "SELECT id, key FROM tombstones WHERE revision > ? ORDER BY id", (since_revision,)
            ).fetchall()
        )
        return EditorialSnapshot(pins, blocks, deleted, since_revision)

    def write_catalogue(self, path: Path, keys: npt.NDArray[np.int64]) -> int:
        """Write the display record (no body) of each article of `keys` that still exists to a
        new SQLite file at `path`; return how many. The store stays open to writers meanwhile:
        only the new file is written."""
        path.unlink(missing_ok=True)
        conn = self._connection()
        conn.execute("ATTACH DATABASE ? AS catalogue", (str(path),))
        try:
            conn.execute("PRAGMA catalogue.journal_mode=OFF")  # a new file, fsynced as a whole
            conn.execute("BEGIN")
            try:
                conn.execute(CATALOGUE_SCHEMA)
                conn.execute("CREATE TEMP TABLE publish_keys (key INTEGER PRIMARY KEY)")
                conn.executemany(
                    "INSERT INTO publish_keys (key) VALUES (?)", ((int(k),) for k in keys)
                )
                count = conn.execute(
                    "INSERT INTO catalogue.articles (key, id, data)"
                    " SELECT a.key, a.id, a.data FROM publish_keys p JOIN articles a ON a.key = p.key"
                ).rowcount
                conn.execute("DROP TABLE publish_keys")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.execute("DETACH DATABASE catalogue")
        return int(count)
