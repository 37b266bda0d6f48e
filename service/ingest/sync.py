"""Passes over site sources: `related ingest URL` is one, `related sync` repeats them.

A pass reads a source (`service.ingest.sources`) and stores what it gives (`ingest_harvests`:
records upserted, related boxes as curated links). What the pass saw is kept per source in
`<data-dir>/site-sources.json` (written atomically): each page's id, validators and `lastmod`,
the validators of the source's own sitemap or feed, and the newest WordPress modification. The
next pass uses them to fetch only what is new or changed: pages whose sitemap `lastmod` is the
same are not fetched, the others are asked with a conditional GET (a 304 is not parsed), an
unchanged sitemap or feed is not read again, WordPress is asked for posts `modified_after`. New
and changed articles get their lists from the server's automatic rebuild
(`service.build.auto_rebuild`), or from `related build`.

`prune` deletes the articles of earlier passes that the source no longer lists; only a pass
that listed the whole source without a listing failure prunes (a feed never does), and never
by default. One sync pass at a time per data directory (`site-sync.lock`, held while a pass runs and its
state is saved), so `related sync` and a server's sync never lose each other's state.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.config.settings import Settings
from service.disk.atomic import atomic_write_text
from service.disk.lock import FileLock
from service.errors import RelatedError
from service.ingest.crawl import Crawl, SeenPage
from service.ingest.fetch import CrawlPolicy, Fetcher, FetchFailed, Validators
from service.ingest.harvest import IngestReport, ingest_harvests
from service.ingest.page import Harvest
from service.ingest.sources import Source, local_harvests, site_harvests
from service.ingest.wordpress import newest_modification
from service.store import ArticleStore

STATE_FILE = "site-sources.json"
LOCK_FILE = "site-sync.lock"
SHOWN_FAILURES = 20
"""Failures kept per source in the state file and shown by GET /index (all are counted)."""


@dataclass
class SourceState:
    """What the last pass over one source saw and did."""

    source: str
    kind: str | None = None
    pages: dict[str, SeenPage] = field(default_factory=dict)
    documents: dict[str, Validators] = field(default_factory=dict)
    modified_after: str | None = None
    last_pass: dict[str, Any] = field(default_factory=dict)
    departed: dict[str, SeenPage] = field(default_factory=dict)
    """Pages earlier passes saw that the source lists no more (what `--prune` deletes)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "modified_after": self.modified_after,
            "last_pass": self.last_pass,
            "documents": {url: v.to_json() for url, v in self.documents.items()},
            "pages": {url: seen.to_json() for url, seen in self.pages.items()},
            "departed": {url: seen.to_json() for url, seen in self.departed.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceState:
        return cls(
            data["source"],
            data.get("kind"),
            {url: SeenPage.from_json(p) for url, p in data.get("pages", {}).items()},
            {url: Validators.from_json(v) for url, v in data.get("documents", {}).items()},
            data.get("modified_after"),
            data.get("last_pass", {}),
            {url: SeenPage.from_json(p) for url, p in data.get("departed", {}).items()},
        )


@dataclass
class PassResult:
    """One pass over one source: what was stored, unchanged, failed and pruned."""

    source: Source
    kind: str
    report: IngestReport
    unchanged: int = 0
    pruned: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    error: str | None = None
    """Why the whole source failed (it is not what it was said to be, or unreachable)."""
    error_status: int = 0
    """The HTTP-like status of `error`: 4xx for a source that is not what it was read as."""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.report.failed

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.source.location}: failed: {self.error}"
        text = f"{self.source.location} ({self.kind}): {self.report.summary()}"
        if self.unchanged:
            text += f"; {self.unchanged} not fetched again (unchanged since the last pass)"
        if self.pruned:
            text += f"; {len(self.pruned)} pruned"
        return text + f"; {self.requests} requests in {self.seconds:.1f}s"

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source.location,
            "kind": self.kind,
            "ok": self.ok,
            "error": self.error,
            **self.report.to_json(),
            "not_fetched_unchanged": self.unchanged,
            "pruned": self.pruned,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
        }


def run_pass(
    settings: Settings,
    store: ArticleStore,
    source: Source,
    *,
    previous: SourceState | None = None,
    prune: bool = False,
    curated: bool = True,
    id_from: str = "url",
    progress: Callable[[int], None] | None = None,
    transport: Any = None,
) -> tuple[PassResult, SourceState]:
    """One pass over `source` (a URL or a Markdown/WXR/HTML path): its articles stored, and
    the state the next pass starts from. A failure of the whole source is in the result's
    `error`, never raised, so one bad source does not stop the others."""
    started = time.monotonic()
    started_at = _now()
    state = SourceState(source.location, source.kind)
    crawl: Crawl | None = None
    error: str | None = None
    error_status = 0
    report = IngestReport()
    pruned: list[str] = []
    kind = source.kind
    if source.is_url:
        policy = CrawlPolicy.from_settings(settings)
        fetcher = Fetcher(policy, source.site(), transport=transport)
        crawl = Crawl(
            fetcher,
            id_from,
            previous=previous.pages if previous else {},
            documents=dict(previous.documents) if previous else {},
        )
    try:
        if crawl is not None:
            after = previous.modified_after if previous and not prune else None
            harvests: Iterable[Harvest] = site_harvests(source, crawl, modified_after=after)
        else:
            kind = source.local_kind()
            harvests = _local(source, kind, id_from, state)
        report = ingest_harvests(store, harvests, curated=curated, progress=progress)
        if crawl is not None and not crawl.listed_all:
            # A partial listing (a feed, WordPress's changes only, a child sitemap that
            # failed) says nothing of the pages it did not list: they stay as they were.
            state.pages = {**(previous.pages if previous else {}), **crawl.seen}
            state.departed = dict(previous.departed) if previous else {}
        else:
            if crawl is not None:
                state.pages = dict(crawl.seen)
            state.departed = _departed(previous, state.pages)
        if prune and (crawl is None or crawl.listed_all):
            pruned = _prune(store, state)
    except RelatedError as exc:
        error, error_status = exc.message, exc.status
    except FetchFailed as exc:
        error, error_status = str(exc), 502
    finally:
        if crawl is not None:
            crawl.fetcher.close()
    unchanged = 0
    if crawl is not None:
        report.failed.extend(crawl.failures)
        kind = crawl.kind or kind
        unchanged = crawl.unchanged
        state.documents = crawl.documents
        state.modified_after = newest_modification(crawl) or (
            previous.modified_after if previous else None
        )
    if error is not None and previous is not None:
        state = previous  # a pass that failed as a whole teaches nothing
    result = PassResult(
        source,
        kind or "page",
        report,
        unchanged,
        pruned,
        crawl.fetcher.stats.requests if crawl else 0,
        time.monotonic() - started,
        error,
        error_status,
    )
    state.last_pass = _last_pass(result, started_at)
    return result, state


def _local(source: Source, kind: str, id_from: str, state: SourceState) -> Iterator[Harvest]:
    for harvest in local_harvests(source, kind, id_from=id_from):
        state.pages[harvest.source] = SeenPage(str(harvest.record.get("id", "")))
        yield harvest


def _departed(previous: SourceState | None, current: dict[str, SeenPage]) -> dict[str, SeenPage]:
    """The pages of earlier passes that this one did not see (nor saw under another URL)."""
    if previous is None:
        return {}
    ids = {seen.id for seen in current.values()}
    before = {**previous.departed, **previous.pages}
    return {url: p for url, p in before.items() if url not in current and p.id not in ids}


def _prune(store: ArticleStore, state: SourceState) -> list[str]:
    """Delete the articles of pages the source no longer lists; those pages are then forgotten."""
    deleted = []
    with store.write() as writer:
        for article_id in sorted({seen.id for seen in state.departed.values()}):
            if writer.delete(article_id):
                deleted.append(article_id)
    state.departed = {}
    return deleted


def _last_pass(result: PassResult, started_at: str) -> dict[str, Any]:
    return {
        "started_at": started_at,
        "finished_at": _now(),
        "seconds": round(result.seconds, 3),
        "kind": result.kind,
        "ok": result.ok,
        "error": result.error,
        "stored": result.report.stored,
        "inserted": result.report.inserted,
        "updated": result.report.updated,
        "unchanged": result.report.unchanged + result.unchanged,
        "failed": len(result.report.failed),
        "failures": [{"source": s, "reason": r} for s, r in result.report.failed[:SHOWN_FAILURES]],
        "pruned": len(result.pruned),
        "requests": result.requests,
        "curated_links": result.report.curated_links,
        "unresolved": result.report.unresolved,
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_states(data_dir: Path) -> dict[str, SourceState]:
    path = data_dir / STATE_FILE
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {key: SourceState.from_json(value) for key, value in data.get("sources", {}).items()}


def save_states(data_dir: Path, states: dict[str, SourceState]) -> None:
    body = {"sources": {key: state.to_json() for key, state in states.items()}}
    atomic_write_text(data_dir / STATE_FILE, json.dumps(body, indent=1, sort_keys=True))


def state_key(source: Source) -> str:
    return f"{source.kind}:{source.location}" if source.kind else source.location


def sync_sources(
    settings: Settings,
    store: ArticleStore,
    sources: list[Source],
    *,
    prune: bool = False,
    curated: bool = True,
    id_from: str = "url",
    progress: Callable[[int], None] | None = None,
    transport: Any = None,
) -> list[PassResult]:
    """One sync pass over each of `sources`, each starting from its last pass; the state of
    each is saved as soon as its pass ends."""
    results = []
    lock = FileLock(settings.data_dir / LOCK_FILE)
    for source in sources:
        with lock.waiting():  # one pass at a time per data directory, its state saved within
            result = _sync_one(
                settings, store, source, prune, curated, id_from, progress, transport
            )
        results.append(result)
    return results


def _sync_one(
    settings: Settings,
    store: ArticleStore,
    source: Source,
    prune: bool,
    curated: bool,
    id_from: str,
    progress: Callable[[int], None] | None,
    transport: Any,
) -> PassResult:
    key = state_key(source)
    states = load_states(settings.data_dir)
    result, state = run_pass(
        settings,
        store,
        source,
        previous=states.get(key),
        prune=prune,
        curated=curated,
        id_from=id_from,
        progress=progress,
        transport=transport,
    )
    record_pass(settings.data_dir, key, state)
    return result


def record_pass(data_dir: Path, key: str, state: SourceState) -> None:
    """Keep `state` as the last pass of the source `key` (read again first: another pass of
    another source may have saved since)."""
    states = load_states(data_dir)
    states[key] = state
    save_states(data_dir, states)


def site_summary(data_dir: Path) -> list[dict[str, Any]]:
    """Each synced source and its last pass, for GET /index and the editors' page."""
    try:
        states = load_states(data_dir)
    except (OSError, ValueError, KeyError, TypeError):  # unreadable: say nothing, never fail /index
        return []
    return [
        {"source": state.source, "kind": state.kind, "pages": len(state.pages), **state.last_pass}
        for state in states.values()
    ]
