"""RSS and Atom feeds (read by feedparser, which copes with every dialect and most breakage).

Each item becomes an article: its full text from the item's own content (`content:encoded`,
Atom `<content>`) when it has any, else from the page it links to, fetched politely. The
item's title, date and categories fill what the text does not declare (WordPress's feeds list
an item's categories before its tags: the first category is taken as the section, the rest as
tags). A feed lists only its latest items, so a feed pass never counts as a full listing of
the site (nothing is pruned by one). A document that is no feed is a `NotASource` naming the
URL and what it is instead.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from service.errors import NotASource
from service.ingest.crawl import Crawl, with_metadata
from service.ingest.page import Harvest
from service.ingest.sitemap import what_it_is

MIN_CONTENT_CHARS = 200
"""An item's own content shorter than this is a summary: its page is fetched instead."""


@dataclass(frozen=True)
class FeedItem:
    url: str
    title: str
    published: str | None
    updated: str | None
    content: str | None
    categories: tuple[str, ...]


def is_feed(content: bytes) -> bool:
    head = content[:2048].lower()
    return b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


def parse_feed(content: bytes, url: str, content_type: str = "") -> list[FeedItem]:
    """The items of the feed document `content` (fetched from `url`); NotASource if none."""
    parsed: Any = feedparser.parse(content, response_headers={"content-location": url})
    if not parsed.get("version") and not parsed.entries:
        raise NotASource(f"{url} is not a feed: it is {what_it_is(content, content_type)}")
    items = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        contents = [c.get("value", "") for c in entry.get("content", [])]
        text = max(contents, key=len, default="")
        items.append(
            FeedItem(
                url=link,
                title=entry.get("title", ""),
                published=_iso(_raw(entry, "published_parsed") or _raw(entry, "updated_parsed")),
                updated=_iso(_raw(entry, "updated_parsed")),
                content=text or None,
                categories=tuple(t["term"] for t in entry.get("tags", []) if t.get("term")),
            )
        )
    return items


def _raw(entry: Any, key: str) -> Any:
    """The entry's own value of `key`: feedparser's `get` maps `updated_parsed` to
    `published_parsed` (with a DeprecationWarning) where one is missing."""
    return dict.get(entry, key)


def _iso(parsed: time.struct_time | None) -> str | None:
    if parsed is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_feed(crawl: Crawl, url: str, content: bytes, content_type: str = "") -> Iterator[Harvest]:
    """Harvests of the feed's items: from their own content, or from their pages."""
    crawl.listed_all = False
    items = parse_feed(content, url, content_type)
    linked: list[tuple[str, str | None]] = []
    by_url = {item.url: item for item in items}
    for item in items:
        version = item.updated or item.published
        if item.content is None or len(item.content) < MIN_CONTENT_CHARS:
            linked.append((item.url, version))
            continue
        if crawl.keep(item.url, version):
            continue
        harvest = crawl.from_content(
            item.content,
            item.url,
            title=item.title,
            published=item.published,
            section=item.categories[0] if item.categories else None,
            tags=list(item.categories[1:]),
            lastmod=version,
        )
        if harvest is not None:
            yield harvest
    for harvest in crawl.pages(linked):
        linked_item = by_url.get(harvest.source)
        yield harvest if linked_item is None else _described(harvest, linked_item)


def _described(harvest: Harvest, item: FeedItem) -> Harvest:
    section = item.categories[0] if item.categories else None
    return with_metadata(
        harvest,
        title=item.title,
        published=item.published,
        section=section,
        tags=list(item.categories[1:]),
    )
