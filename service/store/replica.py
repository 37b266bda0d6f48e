"""The store of a read replica: what the recommender reads, answered from published files.

A replica has no SQLite store of its own. Articles come from the catalogue published with the
generation it serves (`service.store.published`; read-only, opened immutable), and pins, blocks
and deletions from the last editorial snapshot it fetched. An article ingested on the primary
after that generation's build is unknown here until the next one; one deleted since is hidden
as soon as the snapshot that lists it arrives. Bodies are not published: articles come back with
an empty `body`. Nothing here writes, and the replica's routes refuse every write before a
handler runs (`service.replica_gate`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from service.article import Article, article_from_json
from service.store.articles import StoredArticle
from service.store.overrides import GLOBAL_BLOCKS, Editorial
from service.store.published import EditorialSnapshot

if TYPE_CHECKING:
    from service.store import ArticleStore

CATALOGUE = "catalogue.sqlite3"
"""The catalogue's name inside a replica's generation directory."""
EDITORIAL_FILE = "editorial.json"


class StoreReads(Protocol):
    """The reads serving needs: the primary's `ArticleStore` and `ReplicaStore` both answer."""

    def get(self, article_id: str, *, with_body: bool = True) -> StoredArticle | None: ...

    def versions(self) -> tuple[int, int]: ...

    def changed_keys(self, revision: int) -> frozenset[int]: ...

    def changed_since(
        self, revision: int, limit: int
    ) -> tuple[list[StoredArticle], list[tuple[str, int]]] | None: ...

    def get_by_keys(
        self, keys: Iterable[int], *, with_body: bool = False
    ) -> dict[int, Article]: ...

    def editorial(self, article_id: str | None, asked: Sequence[str] = ()) -> Editorial: ...

    def cached_vectors(
        self, encoder: str, text_hashes: Iterable[str]
    ) -> dict[str, npt.NDArray[np.float32]]: ...

    def keys_for(self, article_ids: Iterable[str]) -> dict[str, int]: ...

    def pins(self, article_id: str) -> list[str]: ...

    def blocks(self, article_id: str) -> list[str]: ...

    def count(self) -> int: ...


class ReplicaStore:
    def __init__(self, data_dir: Path, catalogue_path: Callable[[], Path | None]) -> None:
        """`catalogue_path` gives the catalogue of the generation being served (None: none)."""
        self.editorial_path = data_dir / EDITORIAL_FILE
        self._catalogue_path = catalogue_path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._snapshot = EditorialSnapshot()
        self._stamp: tuple[int, int] | None = None

    # -- the published files ---------------------------------------------------------------

    def snapshot(self) -> EditorialSnapshot:
        """The last editorial snapshot fetched (reloaded when the follower replaced it)."""
        try:
            stat = os.stat(self.editorial_path)
        except FileNotFoundError:
            return self._snapshot
        stamp = (stat.st_ino, stat.st_mtime_ns)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._snapshot = EditorialSnapshot.loads(self.editorial_path.read_bytes())
                    self._stamp = stamp
        return self._snapshot

    def _connection(self) -> sqlite3.Connection | None:
        """This thread's connection to the served generation's catalogue (None: none yet)."""
        path = self._catalogue_path()
        if path is None:
            return None
        opened: tuple[Path, sqlite3.Connection] | None = getattr(self._local, "conn", None)
        if opened is None or opened[0] != path:
            if opened is not None:
                opened[1].close()
            conn = sqlite3.connect(
                f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False
            )
            opened = (path, conn)
            self._local.conn = opened
        return opened[1]

    def _rows(self, sql: str, values: Sequence[object]) -> list[tuple[object, ...]]:
        """Rows of `sql`, whose `{marks}` is an IN list over `values`, fetched in chunks."""
        conn = self._connection()
        if conn is None or not values:
            return []
        rows: list[tuple[object, ...]] = []
        for start in range(0, len(values), 500):
            chunk = list(values[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows.extend(conn.execute(sql.format(marks=marks), chunk))
        return rows

    # -- the reads -------------------------------------------------------------------------

    def versions(self) -> tuple[int, int]:
        """(articles version, editorial version), as the primary's store gives them: here both
        follow the catalogue served and the editorial snapshot fetched (deletions come with
        it), in numbers that are the same in every worker (they end up in ETags)."""
        self.snapshot()
        path = self._catalogue_path()
        editorial = zlib.crc32(repr(self._stamp).encode())
        return zlib.crc32(f"{path}|{self._stamp}".encode()), editorial

    def changed_since(
        self, revision: int, limit: int
    ) -> tuple[list[StoredArticle], list[tuple[str, int]]] | None:
        """A replica can't tell what changed between two versions: None (start afresh)."""
        return None

    def changed_keys(self, revision: int) -> frozenset[int]:
        """None: a replica serves the published lists (edits reach it with the next build)."""
        return frozenset()

    def get(self, article_id: str, *, with_body: bool = True) -> StoredArticle | None:
        """The article (bodies are never published: `with_body` changes nothing)."""
        if article_id in self.snapshot().deleted:
            return None
        rows = self._rows("SELECT key, data FROM articles WHERE id IN ({marks})", [article_id])
        if not rows:
            return None
        key, data = rows[0]
        return StoredArticle(int(str(key)), _article(str(data)))

    def get_by_keys(self, keys: Iterable[int], *, with_body: bool = False) -> dict[int, Article]:
        """Articles of `keys` (bodies are never published: `with_body` changes nothing)."""
        gone = set(self.snapshot().deleted.values())
        wanted = [int(k) for k in keys if int(k) not in gone]
        rows = self._rows("SELECT key, data FROM articles WHERE key IN ({marks})", wanted)
        return {int(str(key)): _article(str(data)) for key, data in rows}

    def keys_for(self, article_ids: Iterable[str]) -> dict[str, int]:
        deleted = self.snapshot().deleted
        wanted = [i for i in dict.fromkeys(article_ids) if i not in deleted]
        rows = self._rows("SELECT id, key FROM articles WHERE id IN ({marks})", wanted)
        return {str(i): int(str(k)) for i, k in rows}

    def editorial(self, article_id: str | None, asked: Sequence[str] = ()) -> Editorial:
        snapshot = self.snapshot()
        pins = snapshot.pins.get(article_id, []) if article_id is not None else []
        blocked = snapshot.blocked(article_id)
        return Editorial(list(pins), blocked, self.keys_for([*pins, *blocked, *asked]))

    def cached_vectors(
        self, encoder: str, text_hashes: Iterable[str]
    ) -> dict[str, npt.NDArray[np.float32]]:
        """A replica has no embedding cache (it never encodes)."""
        return {}

    def pins(self, article_id: str) -> list[str]:
        return list(self.snapshot().pins.get(article_id, []))

    def blocks(self, article_id: str) -> list[str]:
        return sorted(self.snapshot().blocks.get(article_id or GLOBAL_BLOCKS, []))

    def count(self) -> int:
        """Articles this replica can show: the catalogue less those deleted since."""
        conn = self._connection()
        if conn is None:
            return 0
        total = int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        deleted = list(self.snapshot().deleted.values())
        return total - len(self._rows("SELECT key FROM articles WHERE key IN ({marks})", deleted))


def _article(data: str) -> Article:
    return article_from_json({**json.loads(data), "body": ""})


def _conforms(replica: ReplicaStore, primary: ArticleStore) -> tuple[StoreReads, StoreReads]:
    """Never called: mypy checks here that both stores answer every read serving makes."""
    return replica, primary
