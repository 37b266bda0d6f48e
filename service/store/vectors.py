"""The embedding cache: vectors keyed by (encoder identity, hash of the encoded text)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from service.store.base import BUSY_TIMEOUT_MS, Database


class VectorCache(Database):
    """Cached vectors, so no text is encoded twice by the same encoder."""

    def cached_vectors(
        self, encoder: str, text_hashes: Iterable[str]
    ) -> dict[str, npt.NDArray[np.float32]]:
        rows = self._select_in(
            "SELECT text_hash, vector FROM embeddings WHERE encoder = ? AND text_hash IN ({marks})",
            list(dict.fromkeys(text_hashes)),
            [encoder],
        )
        return {text_hash: np.frombuffer(blob, dtype=np.float32) for text_hash, blob in rows}

    def cache_vectors(
        self,
        encoder: str,
        items: Iterable[tuple[str, npt.NDArray[np.float32]]],
        *,
        wait_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        """Cache vectors by text hash; `wait_ms` bounds the wait for another writer (StoreBusy)."""
        rows = [(encoder, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items]
        with self._transaction(wait_ms=wait_ms) as conn:
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
