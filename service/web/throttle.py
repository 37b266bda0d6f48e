"""Limits on anonymous event writes: token buckets per client address and for everyone, and bots.

Anyone can send `POST /events`, so what one client may add is bounded: each address has a
bucket of `rate` events per second holding `BURST_SECONDS` of them, and the process a bucket
of `global_rate`; events beyond either are dropped, not stored. Addresses live only in this
memory (never on disk), at most `MAX_ADDRESSES` of them, the least recently seen forgotten
first. Requests whose User-Agent matches a bot pattern (or have none) are dropped whole.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

BURST_SECONDS = 10.0
MAX_ADDRESSES = 10_000


class Bucket:
    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = rate * BURST_SECONDS
        self.tokens = self.capacity
        self.at = now

    def take(self, wanted: int, now: float) -> int:
        """Take up to `wanted` tokens; how many were granted."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        granted = min(wanted, int(self.tokens))
        self.tokens -= granted
        return granted


class Throttle:
    """How many of a batch of events from one address may be stored now."""

    def __init__(
        self, rate: float, global_rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.clock = clock
        self._lock = threading.Lock()
        self._everyone = Bucket(global_rate, clock())
        self._addresses: OrderedDict[str, Bucket] = OrderedDict()

    def allow(self, address: str, wanted: int) -> int:
        with self._lock:
            now = self.clock()
            bucket = self._addresses.get(address)
            if bucket is None:
                bucket = self._addresses[address] = Bucket(self.rate, now)
                if len(self._addresses) > MAX_ADDRESSES:
                    self._addresses.popitem(last=False)
            self._addresses.move_to_end(address)
            granted = bucket.take(wanted, now)
            everyone = self._everyone.take(granted, now)
            bucket.tokens += granted - everyone  # what the global cap refused stays the client's
            return everyone


class BotFilter:
    """Whether a User-Agent is a known bot's (a substring match, case ignored)."""

    def __init__(self, patterns: str) -> None:
        self.patterns = tuple(p.strip().lower() for p in patterns.split(",") if p.strip())

    def is_bot(self, user_agent: str | None) -> bool:
        agent = (user_agent or "").strip().lower()
        return not agent or any(pattern in agent for pattern in self.patterns)
