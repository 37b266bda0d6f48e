"""What a related list needs from the store, kept in each process's memory and never stale.

A related list shows each article's display fields (no body) and filters on a few of them, and
applies the source's pins and blocks. Reading those from SQLite on every request cost 6-8
statements; here they are kept per process:

- articles without their body, by store key (least recently used first out, at most
  RELATED_ARTICLE_CACHE of them and RELATED_ARTICLE_CACHE_BYTES in all, see
  `service.related.sized`), and the ids of those cached;
- each article's editorial overrides (pins, its blocks and the global ones, their keys).

Every request starts with `versions()`: one statement reading the store's revision (moved by
every write batch of articles) and its editorial revision (moved by every change of pins or
blocks). When the revision moved, the articles written or deleted since are read (one
statement each) and replace or evict their cached copies; when either moved, the overrides are
forgotten. So an edit, a deletion, a pin or a block shows in the very next answer of every
worker, while a request in a quiet store reads nothing else.

A copy read from the store is only cached if the versions did not move while it was read, so a
slow reader can't put back what a writer has just replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from service.article import Article
from service.related.sized import Observer, SizedLRU, article_bytes
from service.store import ArticleStore, Editorial

Versions = tuple[int, int]
"""(store revision, editorial revision)."""


class ArticleCache:
    def __init__(
        self,
        store: ArticleStore,
        size: int,
        max_bytes: int = 64 << 20,
        observer: Observer | None = None,
    ) -> None:
        self.store = store
        self.size = size if max_bytes > 0 else 0
        self._lock = threading.Lock()
        self._versions: Versions | None = None
        self._articles: SizedLRU[int, Article] = SizedLRU(self.size, max_bytes, observer)
        self._keys: dict[str, int] = {}
        self._editorial: dict[str | None, Editorial] = {}

    def versions(self) -> Versions:
        """The store's versions now; the caches are brought up to them before this returns."""
        current = self.store.versions()
        if current != self._versions:
            with self._lock:
                if current != self._versions:
                    self._catch_up(current)
        return current

    def _catch_up(self, current: Versions) -> None:
        previous = self._versions
        self._editorial.clear()
        if previous is not None and current[0] != previous[0]:
            changed = self.store.changed_since(previous[0], limit=max(self.size, 1))
            if changed is None:  # a large change: start afresh
                self._articles.clear()
                self._keys.clear()
            else:
                written, deleted = changed
                for article_id, key in deleted:
                    self._forget(article_id, key)
                for stored in written:
                    cached = stored.key in self._articles
                    # An id deleted and stored again has a new key: forget the old one too.
                    self._forget(stored.article.id, self._keys.get(stored.article.id))
                    if cached:
                        self._remember(stored.key, stored.article)
        self._versions = current

    @property
    def nbytes(self) -> int:
        return self._articles.bytes

    def __len__(self) -> int:
        return len(self._articles)

    def observe(self, observer: Observer) -> None:
        """Tell `observer` (bytes, entries) after every change (the /metrics gauges)."""
        self._articles.observer = observer

    def _forget(self, article_id: str, key: int | None) -> None:
        if key is not None:
            self._articles.pop(key)
        self._keys.pop(article_id, None)

    def _remember(self, key: int, article: Article) -> None:
        for old_key, old in self._articles.put(key, article, article_bytes(article)):
            if self._keys.get(old.id) == old_key:
                self._keys.pop(old.id, None)
        if key in self._articles:
            self._keys[article.id] = key

    def _store_if_current(self, versions: Versions, found: Iterable[tuple[int, Article]]) -> None:
        if self.size <= 0:
            return
        with self._lock:
            if self._versions == versions:
                for key, article in found:
                    self._remember(key, article)

    def articles(self, keys: Iterable[int], versions: Versions) -> dict[int, Article]:
        """Articles (without body) by store key; keys of deleted articles are absent."""
        found: dict[int, Article] = {}
        missing = []
        with self._lock:
            for key in keys:
                article = self._articles.get(key)
                if article is None:
                    missing.append(key)
                else:
                    found[key] = article
        if missing:
            read = self.store.get_by_keys(missing)
            found.update(read)
            self._store_if_current(versions, read.items())
        return found

    def entry(self, article_id: str, versions: Versions) -> tuple[int, Article] | None:
        """(store key, article without body) of `article_id`; None when it doesn't exist."""
        key = self._keys.get(article_id)
        if key is not None:
            article = self._articles.peek(key)
            if article is not None and article.id == article_id:
                return key, article
        stored = self.store.get(article_id, with_body=False)
        if stored is None:
            return None
        self._store_if_current(versions, [(stored.key, stored.article)])
        return stored.key, stored.article

    def keys_for(self, article_ids: Sequence[str]) -> dict[str, int]:
        """Store keys of the given ids; ids that don't exist are absent."""
        found = {i: self._keys[i] for i in article_ids if i in self._keys}
        missing = [i for i in article_ids if i not in found]
        if missing:
            found.update(self.store.keys_for(missing))
        return found

    def editorial(self, article_id: str | None, versions: Versions) -> Editorial:
        """Pins and blocks of `article_id` and the global blocks, with their keys (a draft,
        `article_id` None, has the global blocks only)."""
        cached = self._editorial.get(article_id)
        if cached is not None:
            return cached
        found = self.store.editorial(article_id)
        with self._lock:
            if self._versions == versions and self.size > 0:
                if len(self._editorial) >= self.size:
                    self._editorial.clear()
                self._editorial[article_id] = found
        return found
