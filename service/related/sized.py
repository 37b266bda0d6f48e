"""Caches bounded in bytes as well as in entries: an LRU that evicts by the bytes its values
hold, and the estimates of those bytes.

A count alone bounds nothing when entries differ in size: 10,000 answers of 55 KB (a long
article with `include_body=true`) are 550 MB a worker, and an anonymous client picks the sizes.
So every cache a request can fill states its ceiling in bytes (RELATED_RESPONSE_CACHE_BYTES,
RELATED_ARTICLE_CACHE_BYTES), evicts the least recently used entries until under it, and does
not keep an entry larger than `MAX_SHARE` of the ceiling (one huge answer would flush the
rest). The estimates are `sys.getsizeof` of the strings and bytes plus a fixed overhead per
object: close to what CPython holds, and never below it by more than the allocator's slack.
"""

from __future__ import annotations

import json
import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

from service.article import Article

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_SHARE = 0.125
"""An entry larger than this share of the cache's byte ceiling is not kept."""
ENTRY_OVERHEAD = 160
"""An OrderedDict entry (its links and hash slot) and the key's tuple, in bytes."""
ARTICLE_OVERHEAD = 700
"""An Article instance, its attribute dict and its two tuples, empty."""

Observer = Callable[[int, int], None]
"""Told (bytes, entries) after every change of a cache's contents."""


def article_bytes(article: Article) -> int:
    """Memory an Article holds, estimated (its strings, tuples and metadata)."""
    size = ARTICLE_OVERHEAD
    for text in (article.id, article.title, article.body, article.url, article.published):
        size += sys.getsizeof(text) if text else 0
    for text in (article.section, article.lang):
        size += sys.getsizeof(text) if text else 0
    for items in (article.tags, article.links):
        size += sum(sys.getsizeof(item) + 8 for item in items)
    if article.extra:
        # Parsed JSON metadata: about twice its text (the dict, its keys and values).
        size += 2 * len(json.dumps(article.extra, default=str))
    return size


class SizedLRU(Generic[K, V]):
    """Least recently used out first, while over `max_entries` or `max_bytes`. Not locked:
    its owner holds its own lock around every call."""

    def __init__(self, max_entries: int, max_bytes: int, observer: Observer | None = None) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.observer = observer
        self.bytes = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> Iterator[K]:
        return iter(self._items)

    def get(self, key: K) -> V | None:
        """The value, now the most recently used; None if absent."""
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def peek(self, key: K) -> V | None:
        found = self._items.get(key)
        return None if found is None else found[0]

    def put(self, key: K, value: V, nbytes: int) -> list[tuple[K, V]]:
        """Keep `value` (unless disabled or too large for one entry); return the entries that
        went to make room (the one replaced under `key` included)."""
        evicted = self._remove(key)
        size = nbytes + ENTRY_OVERHEAD
        if self.enabled and size <= self.max_bytes * MAX_SHARE:
            self._items[key] = (value, size)
            self.bytes += size
            while len(self._items) > self.max_entries or self.bytes > self.max_bytes:
                old_key, (old, old_size) = self._items.popitem(last=False)
                self.bytes -= old_size
                evicted.append((old_key, old))
        self._changed()
        return evicted

    def pop(self, key: K) -> V | None:
        evicted = self._remove(key)
        if evicted:
            self._changed()
        return evicted[0][1] if evicted else None

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0
        self._changed()

    def _remove(self, key: K) -> list[tuple[K, V]]:
        found = self._items.pop(key, None)
        if found is None:
            return []
        self.bytes -= found[1]
        return [(key, found[0])]

    def _changed(self) -> None:
        if self.observer is not None:
            self.observer(self.bytes, len(self._items))
