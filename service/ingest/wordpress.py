"""A WordPress site through its REST API: `/wp-json/wp/v2/posts`, 100 posts a request.

Pages of posts are read until `X-WP-TotalPages`; categories and tags come as ids, resolved to
names through `/wp-json/wp/v2/categories` and `/tags` (read once, paginated the same way). Each
post's `content.rendered` is read as a page's content is (`content_from_html`: text without
chrome, body links, the related box the editors or a plugin put in the content), with `link` as its URL, `date_gmt` as
its published time (UTC), the first category as its section and the tags as its tags. A sync
pass asks only for posts `modified_after` the newest modification it saw the last time, unless
it is to prune (then every post is listed, and those whose `modified_gmt` is unchanged are
skipped). The site must serve the API: anything else is a `NotASource` naming what it found.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from service.errors import NotASource
from service.ingest.crawl import Crawl
from service.ingest.fetch import FetchFailed, Page
from service.ingest.page import Harvest
from service.ingest.sitemap import what_it_is

API = "/wp-json/wp/v2/"
PER_PAGE = 100
MAX_PAGES = 10_000


def api_root(site: str) -> str:
    """The REST API root of a site given by its home URL (or already by the API's URL)."""
    site = site.rstrip("/")
    if API.rstrip("/") in site:
        return site.split(API.rstrip("/"))[0] + API
    return site + API


def read_wordpress(
    crawl: Crawl, site: str, *, modified_after: str | None = None
) -> Iterator[Harvest]:
    """Harvests of the site's published posts (those modified after `modified_after` only,
    when given: then the pass is not a full listing)."""
    root = api_root(site)
    crawl.listed_all = modified_after is None
    categories = _names(crawl, root + "categories")
    tags = _names(crawl, root + "tags")
    query: dict[str, str] = {"per_page": str(PER_PAGE), "orderby": "modified", "order": "asc"}
    if modified_after:
        query["modified_after"] = modified_after
    for post in _paged(crawl, root + "posts", query):
        link, modified = post.get("link"), post.get("modified_gmt") or post.get("date_gmt")
        if not isinstance(link, str) or not link:
            crawl.fail(f"{root}posts (post {post.get('id')})", "the post has no link")
            continue
        if crawl.keep(link, modified):
            continue
        content = (post.get("content") or {}).get("rendered") or ""
        terms = [categories.get(i) for i in post.get("categories") or []]
        harvest = crawl.from_content(
            content,
            link,
            title=html.unescape((post.get("title") or {}).get("rendered") or "").strip(),
            published=_utc(post.get("date_gmt")),
            section=next((t for t in terms if t and t != "Uncategorized"), None),
            tags=[tags[i] for i in post.get("tags") or [] if i in tags],
            lastmod=modified,
        )
        if harvest is not None:
            yield harvest


def newest_modification(crawl: Crawl) -> str | None:
    """The latest `modified_gmt` seen so far, for the next pass's `modified_after`."""
    found = [s.lastmod for s in crawl.seen.values() if s.lastmod]
    return max(found) if found else None


def _utc(value: Any) -> str | None:
    return f"{value}Z" if isinstance(value, str) and value and not value.endswith("Z") else value


def _names(crawl: Crawl, url: str) -> dict[int, str]:
    names: dict[int, str] = {}
    for term in _paged(crawl, url, {"per_page": str(PER_PAGE)}):
        if isinstance(term.get("id"), int) and term.get("name"):
            names[term["id"]] = html.unescape(str(term["name"]))
    return names


def _paged(crawl: Crawl, url: str, query: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The items of every page of a collection, page 1 to X-WP-TotalPages."""
    total = 1
    number = 1
    while number <= min(total, MAX_PAGES):
        asked = f"{url}?{urlencode({**query, 'page': str(number)})}"
        try:
            page = crawl.fetcher.fetch(asked)
        except FetchFailed as exc:
            if number == 1:
                raise NotASource(
                    f"{url} is not a WordPress REST API: {exc.reason} (is the API enabled, "
                    "or is this not a WordPress site? Try its sitemap or feed)"
                ) from None
            crawl.listing_failed(asked, exc.reason)
            number += 1
            continue
        items = _items(page, asked)
        header = page.headers.get("x-wp-totalpages", "")
        total = int(header) if header.isdigit() else total
        yield from items
        number += 1


def _items(page: Page, url: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(page.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        found = what_it_is(page.content, page.content_type)
        raise NotASource(f"{url} is not a WordPress REST API: it answered {found}") from None
    if not isinstance(data, list):
        raise NotASource(
            f"{url} is not a WordPress REST API: it answered a JSON {type(data).__name__}"
        )
    return [item for item in data if isinstance(item, dict)]
