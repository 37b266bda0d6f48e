"""Rebuilds that follow ingestion, so "rebuild after ingestion" needs no cron.

A server checks every few seconds whether articles were added, changed or deleted since the
generation it serves; once no article has been written for RELATED_AUTO_REBUILD seconds (a
quiet period, so a large ingest arriving in batches is built once, at its end), it starts a
rebuild exactly as `POST /index/rebuild` does. One worker of the server does the checking: the
one holding `<data-dir>/auto-rebuild.lock` (released by the kernel if it dies, when another
takes over). A build that failed is not retried until articles are written again: the same
input would fail the same way.

Until the rebuild, articles written since the build are answered live, so nothing waits on it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from service.build.rebuild import is_pending, request_rebuild
from service.build.state import build_running, read_status
from service.config.settings import Settings
from service.disk.lock import FileLock
from service.errors import RelatedError
from service.generations.generation import CurrentGeneration
from service.store import ArticleStore

log = logging.getLogger("related.auto_rebuild")
LOCK_FILE = "auto-rebuild.lock"


@dataclass(frozen=True)
class Decision:
    rebuild: bool
    why: str


def decide(
    settings: Settings, store: ArticleStore, generations: CurrentGeneration, now: float
) -> Decision:
    """Whether to start a rebuild now, and why (or why not)."""
    quiet = settings.auto_rebuild
    if quiet <= 0:
        return Decision(False, "automatic rebuilds are off")
    data_dir = settings.data_dir
    if build_running(data_dir) or is_pending(data_dir):
        return Decision(False, "a build is running or queued")
    unusable: str | None = None
    try:
        generation = generations.get()
    except RelatedError as exc:
        generation, unusable = None, exc.message
    if generation is None:
        if store.count() == 0:
            return Decision(False, "no articles")
        changed = -1
    else:
        built = generation.manifest.store_revision
        changed = 0 if store.versions()[0] == built else store.changes_since(built)
        if changed == 0:
            return Decision(False, "the index holds every article")
    written = store.written_at() or 0.0
    if now - written < quiet:
        return Decision(False, f"articles were written {now - written:.0f}s ago")
    status = read_status(data_dir) or {}
    if status.get("state") == "failed" and _finished_after(status, written):
        return Decision(False, "the last build failed since the last write: fix and write again")
    what = unusable or ("there is no index" if changed < 0 else f"{changed} articles changed")
    return Decision(True, what)


def _finished_after(status: dict[str, object], written: float) -> bool:
    finished = status.get("finished_at")
    if not isinstance(finished, str):
        return False
    try:
        return datetime.fromisoformat(finished).timestamp() >= written
    except ValueError:
        return False


class AutoRebuild:
    """The checking thread of one server worker (it checks only while it holds the lock)."""

    def __init__(
        self, settings: Settings, store: ArticleStore, generations: CurrentGeneration
    ) -> None:
        self.settings = settings
        self.store = store
        self.generations = generations
        self.interval = max(0.5, min(5.0, settings.auto_rebuild / 4))
        self._leader = FileLock(settings.data_dir / LOCK_FILE)
        self._stop = threading.Event()

    def start(self) -> None:
        if self.settings.auto_rebuild > 0:
            threading.Thread(target=self._run, name="auto-rebuild", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not self._leader.acquire():  # kept for as long as this worker lives
                    continue
                decision = decide(self.settings, self.store, self.generations, time.time())
                if decision.rebuild:
                    outcome = request_rebuild(self.settings, self.store)
                    log.info("automatic rebuild (%s): %s", decision.why, outcome["state"])
            except Exception:  # a failed check must not end the thread: the next one may pass
                log.exception("automatic rebuild check failed")
