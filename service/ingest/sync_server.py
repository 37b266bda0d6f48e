"""`related serve` keeps the site sources in sync: RELATED_SITE_SOURCES, every
RELATED_SITE_SYNC_EVERY seconds.

One worker of the server runs the passes: the one holding `<data-dir>/site-sync-leader.lock`
(released by the kernel if it dies, when another takes over), as with automatic rebuilds. The
first pass starts as the server starts; what it stores gets its lists from the automatic
rebuild (`service.build.auto_rebuild`). A pass that fails is logged, and the next one runs on
time: a site that is down now may be up then.
"""

from __future__ import annotations

import logging
import threading

from service.config.settings import Settings
from service.disk.lock import FileLock
from service.ingest.sources import Source
from service.ingest.sync import sync_sources
from service.store import ArticleStore

log = logging.getLogger("related.site_sync")
LEADER_FILE = "site-sync-leader.lock"


def configured_sources(settings: Settings) -> list[Source]:
    """The sources of RELATED_SITE_SOURCES (space-separated; `KIND:` prefixes force a kind)."""
    return [Source.parse(text) for text in settings.site_sources.split()]


class SiteSync:
    """The sync thread of one server worker (it runs passes only while it holds the lock)."""

    def __init__(self, settings: Settings, store: ArticleStore) -> None:
        self.settings = settings
        self.store = store
        self.sources = configured_sources(settings)
        self._leader = FileLock(settings.data_dir / LEADER_FILE)
        self._stop = threading.Event()

    def start(self) -> None:
        if self.sources:
            threading.Thread(target=self._run, name="site-sync", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.wait(wait):
            wait = self.settings.site_sync_every
            try:
                if not self._leader.acquire():  # kept for as long as this worker lives
                    wait = min(wait, 5.0)  # the leader may die: look again soon
                    continue
                for result in sync_sources(self.settings, self.store, self.sources):
                    log.info("site sync: %s", result.summary())
            except Exception:  # a failed pass must not end the thread: the next one may pass
                log.exception("site sync pass failed")
