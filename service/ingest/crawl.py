"""One pass over a site source: its pages fetched politely, each made a Harvest, what changed
told from what did not, and each failure named.

A `Crawl` holds what the readers of sitemaps, feeds, WordPress and single pages share: the
`Fetcher`, how ids are made (`id_from`), the failures so far, and two maps of pages by URL:
`previous` (what the last sync pass saw: id, validators, lastmod) and `seen` (this pass). A page
whose `lastmod` is the last pass's is not fetched at all; one the server answers 304 to a
conditional GET is not parsed; both count as `unchanged` and keep their id in `seen`, which is
how `--prune` tells an article that left the source from one that merely did not change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from service.ingest.fetch import Fetcher, FetchFailed, Page, Validators
from service.ingest.page import (
    Harvest,
    PageError,
    content_from_html,
    id_from_url,
    page_from_html,
)


@dataclass(frozen=True)
class SeenPage:
    """What a pass knows of one URL of the source: the id it was stored as, and its version."""

    id: str
    validators: Validators = field(default_factory=Validators)
    lastmod: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, **self.validators.to_json()}
        if self.lastmod:
            data["lastmod"] = self.lastmod
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SeenPage:
        return cls(str(data["id"]), Validators.from_json(data), data.get("lastmod"))


@dataclass
class Crawl:
    fetcher: Fetcher
    id_from: str = "url"
    previous: Mapping[str, SeenPage] = field(default_factory=dict)
    seen: dict[str, SeenPage] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    documents: dict[str, Validators] = field(default_factory=dict)
    """Validators of the source's own documents (its sitemap, its feed), last pass's then this
    pass's: a sitemap unchanged since is not read again."""
    kind: str | None = None
    """What the source turned out to be (sitemap, feed, page, wordpress), once read."""
    unchanged: int = 0
    listed_all: bool = True
    """Whether this pass listed every article of the source (a feed lists only its latest):
    only then may articles missing from `seen` be pruned."""

    def fail(self, where: str, reason: str) -> None:
        self.failures.append((where, reason))

    def listing_failed(self, where: str, reason: str) -> None:
        """A part of the source's listing (a child sitemap, a page of posts) failed: named, and
        this pass no longer lists every article (so nothing is pruned by it)."""
        self.fail(where, reason)
        self.listed_all = False

    def keep(self, url: str, lastmod: str | None = None) -> bool:
        """True (and counted unchanged) when the last pass saw `url` at this `lastmod`."""
        before = self.previous.get(url)
        if before is None or lastmod is None or before.lastmod != lastmod:
            return False
        self.seen[url] = before
        self.unchanged += 1
        return True

    def keep_all(self) -> None:
        """Every page of the last pass, unchanged (its listing answered 304)."""
        for url, before in self.previous.items():
            if url not in self.seen:
                self.seen[url] = before
                self.unchanged += 1

    def pages(self, entries: Iterable[tuple[str, str | None]]) -> Iterator[Harvest]:
        """Harvests of the pages at these (url, lastmod), fetched `connections` at a time;
        unchanged and failed pages yield nothing (they are counted and named)."""
        lastmods: dict[str, str | None] = {}

        def wanted() -> Iterator[str]:
            for url, lastmod in entries:
                if url in lastmods or self.keep(url, lastmod):
                    continue
                lastmods[url] = lastmod
                if not self.fetcher.on_site(url):
                    self.fail(url, "off the site (allow it with RELATED_CRAWL_ALLOW_HOSTS)")
                    continue
                yield url

        validators = {url: seen.validators for url, seen in self.previous.items()}
        for url, result in self.fetcher.fetch_many(wanted(), validators):
            if isinstance(result, FetchFailed):
                self.fail(url, result.reason)
                if url in self.previous:  # still listed: kept, not pruned
                    self.seen[url] = self.previous[url]
                continue
            harvest = self.from_page(result, lastmods.get(url))
            if harvest is not None:
                yield harvest

    def from_page(self, page: Page, lastmod: str | None = None) -> Harvest | None:
        """The Harvest of a fetched page; None when it is unchanged (304) or can't be read."""
        if page.not_modified:
            before = self.previous.get(page.url)
            if before is not None:
                self.seen[page.url] = replace(before, lastmod=lastmod or before.lastmod)
                self.unchanged += 1
                return None
            self.fail(page.url, "answered 304 Not Modified to a request that was not conditional")
            return None
        harvest = self.from_html(page.text(), page.final_url, page.url)
        if harvest is not None:
            self.remember(page.url, harvest, page.validators, lastmod)
        return harvest

    def from_html(self, html: str, url: str, where: str | None = None) -> Harvest | None:
        try:
            harvest = page_from_html(html, url=url, id_from=self.id_from)
        except PageError as exc:
            self.fail(where or url, str(exc))
            return None
        return replace(harvest, source=where or url)

    def from_content(
        self,
        fragment: str,
        url: str,
        *,
        title: str,
        published: str | None = None,
        section: str | None = None,
        tags: list[str] | None = None,
        lastmod: str | None = None,
    ) -> Harvest | None:
        """The Harvest of a post's own HTML (a feed item's content, WordPress's rendered
        content) with the metadata its source gives beside it; None (named) if unusable."""
        try:
            article_id = id_from_url(url, id_from=self.id_from)
            content = content_from_html(fragment, url=url, title=title, tags=tags or (), source=url)
        except PageError as exc:
            self.fail(url, str(exc))
            return None
        record: dict[str, Any] = {
            "id": article_id,
            "title": title,
            "body": content.body,
            "url": url,
        }
        extra = (("published", published), ("section", section), ("tags", tags))
        record.update((name, value) for name, value in extra if value)
        if content.links:
            record["links"] = list(content.links)
        harvest = Harvest(record=record, related=content.related, source=url)
        self.remember(url, harvest, lastmod=lastmod)
        return harvest

    def remember(
        self,
        url: str,
        harvest: Harvest,
        validators: Validators | None = None,
        lastmod: str | None = None,
    ) -> None:
        self.seen[url] = SeenPage(str(harvest.record["id"]), validators or Validators(), lastmod)


def with_metadata(harvest: Harvest, **values: Any) -> Harvest:
    """`harvest` with the source's own metadata (a feed item's title, date and categories)
    filling what the page itself did not declare."""
    record = dict(harvest.record)
    for name, value in values.items():
        if value and not record.get(name):
            record[name] = value
    return replace(harvest, record=record)
