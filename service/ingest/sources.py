"""What a SOURCE of `related ingest` / `related sync` is, and the Harvests it gives.

A source is a path or an http(s) URL, optionally with its kind forced (`--from KIND`, or a
`KIND:` prefix in RELATED_SITE_SOURCES). Without one: a folder is Markdown, a `.xml` file a
WordPress export (WXR), an `.html` file a page, any other file records as today (JSONL, JSON,
CSV: read by `service.ingest.files`, all-or-nothing, not through here); a URL is fetched once
and told by what it is: a sitemap or sitemap index, an RSS/Atom feed, else an HTML page.
WordPress can't be told from one page, so it is always asked for (`--from wordpress`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from service.errors import InvalidParameter, NotASource
from service.ingest.crawl import Crawl
from service.ingest.feed import is_feed, read_feed
from service.ingest.fetch import Page
from service.ingest.page import Harvest
from service.ingest.sitemap import is_sitemap, read_sitemap, what_it_is
from service.ingest.wordpress import read_wordpress

KINDS = ("file", "sitemap", "feed", "page", "wordpress", "wxr", "markdown")
SITE_KINDS = ("sitemap", "feed", "page", "wordpress")
"""Kinds read over HTTP, through the crawler."""


@dataclass(frozen=True)
class Source:
    location: str
    """A path or an http(s) URL, as given."""
    kind: str | None = None
    """Forced kind; None: detected."""

    @property
    def is_url(self) -> bool:
        return urlsplit(self.location).scheme in ("http", "https")

    @classmethod
    def parse(cls, text: str, kind: str | None = None) -> Source:
        """A source from its text; `wordpress:https://site` forces the kind as --from does."""
        prefix, sep, rest = text.partition(":")
        if sep and prefix in KINDS and kind is None:
            kind, text = prefix, rest
        if kind is not None and kind not in KINDS:
            raise InvalidParameter(f"--from must be one of {', '.join(KINDS)}, got {kind!r}")
        return cls(text, kind)

    def local_kind(self) -> str:
        """The kind of a local path (forced or from what it is); NotASource when it is none."""
        path = Path(self.location)
        if not path.exists():
            raise NotASource(f"{self.location}: no such file or folder, and not an http(s) URL")
        if self.kind is not None:
            if self.kind in SITE_KINDS and self.kind != "page":
                raise NotASource(f"{self.location}: --from {self.kind} needs an http(s) URL")
            return self.kind
        if path.is_dir():
            return "markdown"
        suffix = path.suffix.lower()
        if suffix == ".xml":
            return "wxr"
        if suffix in (".html", ".htm"):
            return "page"
        return "file"

    def site(self) -> str:
        """The site a URL source belongs to (what the crawler stays on)."""
        parts = urlsplit(self.location)
        return f"{parts.scheme}://{parts.netloc}/"


def local_harvests(source: Source, kind: str, *, id_from: str = "url") -> Iterator[Harvest]:
    """Harvests of a local source of `kind` (markdown, wxr or page; files go through
    `service.ingest.files`)."""
    path = Path(source.location)
    if kind == "markdown":
        from service.ingest.markdown import read_markdown

        yield from read_markdown(path, id_from=id_from)
    elif kind == "wxr":
        from service.ingest.wxr import read_wxr

        yield from read_wxr(path, id_from=id_from)
    elif kind == "page":
        from service.ingest.page import page_from_html

        html = path.read_text(encoding="utf-8", errors="replace")
        yield page_from_html(html, url=None, id_from=id_from)
    else:
        raise NotASource(f"{source.location}: a {kind} source is read as records, not pages")


def site_harvests(
    source: Source, crawl: Crawl, *, modified_after: str | None = None
) -> Iterator[Harvest]:
    """Harvests of a URL source, through `crawl` (failures and what was seen recorded there).
    The source's own document must be what it is said to be (NotASource otherwise)."""
    url = source.location
    crawl.kind = source.kind
    if source.kind == "wordpress":
        yield from read_wordpress(crawl, url, modified_after=modified_after)
        return
    previous = crawl.previous.get(url)
    first = crawl.fetcher.fetch(url, previous.validators if previous else crawl.documents.get(url))
    kind = crawl.kind = source.kind or ("page" if previous else sniff(first))
    if kind != "page" and not first.not_modified:
        crawl.documents[url] = first.validators
    if kind == "sitemap":
        yield from _sitemap(crawl, url, first)
    elif kind == "feed":
        if first.not_modified:
            crawl.listed_all = False
            return
        if not is_feed(first.content):
            found = what_it_is(first.content, first.content_type)
            raise NotASource(f"{url} is not a feed: it is {found}")
        yield from read_feed(crawl, url, first.content, first.content_type)
    elif kind == "page":
        harvest = crawl.from_page(first)
        if harvest is not None:
            yield harvest
    else:
        raise NotASource(f"{url}: --from {kind} is not read over HTTP")


def _sitemap(crawl: Crawl, url: str, first: Page) -> Iterator[Harvest]:
    if first.not_modified:
        crawl.keep_all()  # the sitemap is as it was: so are the pages it lists
        return
    entries = read_sitemap(crawl.fetcher, url, crawl.listing_failed, first.content)
    yield from crawl.pages((entry.url, entry.lastmod) for entry in entries)


def sniff(page: Page) -> str:
    """sitemap, feed or page: what a fetched document is."""
    if is_sitemap(page.content):
        return "sitemap"
    if is_feed(page.content):
        return "feed"
    return "page"
