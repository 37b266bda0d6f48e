"""Encoding on the request path, bounded: articles the index does not hold yet, and drafts.

An article stored after the last build (and a draft) is encoded by the request that asks for
its list, which an anonymous client can repeat at will. Three bounds keep that cheap:

- the text is cut: the model reads the first RELATED_MAX_TEXT_CHARS characters (as in builds),
  and the lexical signals the first `LIVE_TEXT_CHARS` of the body (`live_item_text`), so a
  16 MiB body costs what a long article does;
- the vector goes to the store's embedding cache, keyed by the hash of the encoded text, so
  every later read (in any worker) and the next build reuse it until the article changes;
- at most RELATED_LIVE_ENCODINGS encodings run at once in a worker: a request beyond that gets
  503 `live_busy` with `Retry-After: 1` at once, rather than queueing behind them. Cached
  vectors need no slot, so only the first read of a new text can be turned away.

`LiveEncoder` wraps the configured encoder behind the same `Encoder` protocol, so the
recommender needs no other change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder, ProgressCallback
from embeddings.signals import ItemText
from service.article import Article, item_text, text_hash
from service.errors import LiveBusy, StorageFull, StoreBusy
from service.store import ArticleStore

LIVE_TEXT_CHARS = 100_000
"""Characters of body the lexical signals read of an article that is not indexed (about
15,000 words: longer than nearly every article, and about 30 ms of tf-idf)."""
CACHE_WAIT_MS = 100
"""How long a read may wait to write a live vector to the cache before giving up on it."""

log = logging.getLogger("related.live")


def live_item_text(article: Article) -> ItemText:
    """What the lexical signals read of an article answered live: its body cut."""
    if len(article.body) > LIVE_TEXT_CHARS:
        article = replace(article, body=article.body[:LIVE_TEXT_CHARS])
    return item_text(article)


class LiveEncoder:
    """The configured encoder with a bound on concurrent encodings, caching what it encodes."""

    def __init__(self, inner: Encoder, store: ArticleStore, slots: int) -> None:
        self.inner = inner
        self.store = store
        self._slots = threading.BoundedSemaphore(slots)

    @property
    def identity(self) -> str:
        return self.inner.identity

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]:
        if not self._slots.acquire(blocking=False):
            raise LiveBusy(
                "Every slot for encoding articles newer than the index is busy: retry in a "
                "moment (RELATED_LIVE_ENCODINGS sets how many run at once)"
            )
        try:
            vectors = self.inner.encode(texts, progress=progress)
        finally:
            self._slots.release()
        hashes = [text_hash(text) for text in texts]
        try:
            self.store.cache_vectors(
                self.identity, zip(hashes, vectors, strict=True), wait_ms=CACHE_WAIT_MS
            )
        except (StoreBusy, StorageFull) as exc:  # the answer does not depend on the cache
            log.warning("live vector not cached: %s", exc.message)
        return vectors
