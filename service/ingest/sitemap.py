"""Sitemaps (sitemaps.org): a `urlset` of pages or a `sitemapindex` of further sitemaps, plain
or gzipped, each page's `lastmod` kept (sync compares it with the last pass's).

A document that is neither is a `NotASource` naming its URL and what it is instead (an HTML
page, a feed, JSON...), so a wrong URL fails with a sentence rather than an empty ingest.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from service.errors import NotASource
from service.ingest.fetch import Fetcher, FetchFailed

MAX_SITEMAPS = 10_000
"""Child sitemaps read at most from one index (the protocol allows 50,000 of 50,000 URLs)."""


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: str | None = None


def what_it_is(content: bytes, content_type: str = "") -> str:
    """A few words on what a document looks like, for the error that says it isn't a source."""
    head = content[:2048].lstrip().lower()
    if not head:
        return "an empty document"
    if head.startswith(b"{") or head.startswith(b"[") or "json" in content_type:
        return "JSON"
    if b"<rss" in head or b"<rdf:rdf" in head:
        return "an RSS feed"
    if b"<feed" in head:
        return "an Atom feed"
    if b"<urlset" in head or b"<sitemapindex" in head:
        return "a sitemap"
    if b"<html" in head or b"<!doctype html" in head or "html" in content_type:
        return "an HTML page"
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        root = _root_name(content)
        return f"an XML document whose root is <{root}>" if root else "a malformed XML document"
    return f"a {content_type or 'non-XML'} document"


def _root_name(content: bytes) -> str | None:
    try:
        return ET.fromstring(content).tag.rsplit("}", 1)[-1]
    except ET.ParseError:
        return None


def parse_sitemap(
    content: bytes, url: str, content_type: str = ""
) -> tuple[list[SitemapEntry], list[SitemapEntry]]:
    """(pages, child sitemaps) of one sitemap document; NotASource when it is not one."""
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError) as exc:
            raise NotASource(f"{url} is not a sitemap: a broken gzip file ({exc})") from None
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        raise NotASource(
            f"{url} is not a sitemap: it is {what_it_is(content, content_type)}"
        ) from None
    kind = root.tag.rsplit("}", 1)[-1]
    if kind not in ("urlset", "sitemapindex"):
        raise NotASource(f"{url} is not a sitemap: it is {what_it_is(content, content_type)}")
    entries = []
    for element in root:
        if element.tag.rsplit("}", 1)[-1] not in ("url", "sitemap"):
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in element}
        if fields.get("loc"):
            entries.append(SitemapEntry(fields["loc"], fields.get("lastmod") or None))
    return (entries, []) if kind == "urlset" else ([], entries)


def is_sitemap(content: bytes) -> bool:
    if content[:2] == b"\x1f\x8b":
        return True
    head = content[:2048].lower()
    return b"<urlset" in head or b"<sitemapindex" in head


def read_sitemap(
    fetcher: Fetcher,
    url: str,
    failed: Callable[[str, str], None],
    first: bytes | None = None,
) -> Iterator[SitemapEntry]:
    """Every page of the sitemap at `url`, through its index when it is one, each once.

    The sitemap at `url` itself must be one (NotASource, or FetchFailed when it can't be
    fetched); a child sitemap that fails is named in `failures` and the others are read.
    `first` is its content when the caller fetched it already (to sniff what the URL is)."""
    seen_maps: set[str] = set()
    seen_pages: set[str] = set()
    queue: list[tuple[str, bytes | None]] = [(url, first)]
    while queue and len(seen_maps) < MAX_SITEMAPS:
        current, content = queue.pop(0)
        if current in seen_maps:
            continue
        seen_maps.add(current)
        content_type = ""
        if content is None:
            try:
                page = fetcher.fetch(current)
            except FetchFailed as exc:
                if current == url:
                    raise
                failed(current, exc.reason)
                continue
            content, content_type = page.content, page.content_type
        try:
            pages, children = parse_sitemap(content, current, content_type)
        except NotASource as exc:
            if current == url:
                raise
            failed(current, exc.message)
            continue
        queue.extend((child.url, None) for child in children)
        for entry in pages:
            if entry.url not in seen_pages:
                seen_pages.add(entry.url)
                yield entry
