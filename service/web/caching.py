"""HTTP caching of related lists: ETags, 304s, Cache-Control, gzip, and a per-process cache.

An answer is fully determined by the generation served, the store's versions (its revision
and its editorial revision, see `service.related.article_cache`), the article, the options and the process's
settings, so its ETag is a hash of those, known before any work is done: a client or CDN that
sends `If-None-Match` with it gets `304 Not Modified` for the price of one store statement. The
ETag is weak (`W/"..."`): the same list is sent gzipped or not.

`Cache-Control: public, max-age=RELATED_CACHE_SECONDS` lets browsers and CDNs reuse an answer
for that long without asking; after it they revalidate with the ETag. Answers of at least
`GZIP_MIN_BYTES` go gzipped to clients that accept it.

`AnswerCache` keeps each process's recent answers (body, gzipped body, ETag) per URL, valid
while the generation and versions they were made from are current: a page viewed again costs
no ranking and no serialisation. It is bounded in entries and in bytes
(RELATED_RESPONSE_CACHE_BYTES): answers differ in size by a thousandfold.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any

from service.related.sized import Observer, SizedLRU

GZIP_MIN_BYTES = 1024
"""Answers this large or larger are sent gzipped to clients that accept it."""
GZIP_LEVEL = 5


def etag_for(*parts: Any) -> str:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
    return f'W/"{digest}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as If-None-Match uses: W/ prefixes don't count."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` accepts gzip (`gzip;q=0` refuses it)."""
    for part in (accept_encoding or "").lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params.strip().startswith("q=") and _is_zero(q))
    return False


def _is_zero(value: str) -> bool:
    try:
        return float(value) == 0
    except ValueError:
        return False


def gzip_bytes(body: bytes) -> bytes:
    # mtime 0 (zlib's gzip header has none): the same answer gzips to the same bytes.
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return compressor.compress(body) + compressor.flush()


def cache_control(max_age: int) -> str:
    return f"public, max-age={max_age}" if max_age > 0 else "no-cache"


@dataclass
class Answer:
    """One encoded answer and what it was made from."""

    made_from: tuple[Any, ...]
    etag: str
    body: bytes
    source: str
    gzipped: bytes | None = field(default=None)

    def encoded(self, gzip: bool) -> tuple[bytes, bool]:
        """The body to send and whether it is gzipped."""
        if not gzip or len(self.body) < GZIP_MIN_BYTES:
            return self.body, False
        if self.gzipped is None:
            self.gzipped = gzip_bytes(self.body)
        return self.gzipped, True


ANSWER_OVERHEAD = 600
"""An Answer instance, its ETag and its made-from tuple, in bytes."""


def answer_bytes(key: Any, answer: Answer) -> int:
    """What a cached answer may come to hold: its body, the gzipped copy made on the first
    gzip request (charged up front at the body's size, which it never exceeds by much), and
    its key (the article id and the query string)."""
    key_bytes = sum(sys.getsizeof(part) for part in key) if isinstance(key, tuple) else 0
    return ANSWER_OVERHEAD + 2 * len(answer.body) + key_bytes


class AnswerCache:
    """This process's recent answers, least recently used out first, at most `size` of them
    and `max_bytes` in all (`service.related.sized`)."""

    def __init__(
        self, size: int, max_bytes: int = 64 << 20, observer: Observer | None = None
    ) -> None:
        self.size = size if max_bytes > 0 else 0
        self._lock = threading.Lock()
        self._answers: SizedLRU[Any, Answer] = SizedLRU(self.size, max_bytes, observer)

    @property
    def nbytes(self) -> int:
        return self._answers.bytes

    def observe(self, observer: Observer) -> None:
        """Tell `observer` (bytes, entries) after every change (the /metrics gauges)."""
        self._answers.observer = observer

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: Any, made_from: tuple[Any, ...]) -> Answer | None:
        if self.size <= 0:
            return None
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                return None
            if answer.made_from != made_from:
                self._answers.pop(key)
                return None
            return answer

    def put(self, key: Any, answer: Answer) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._answers.put(key, answer, answer_bytes(key, answer))
